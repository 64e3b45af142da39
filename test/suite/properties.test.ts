/**
 * Each property catches the bug it is about: a kernel with that one bug fails that property
 * (and a correct kernel passes it, in sound-and-sharp.test.ts and the conformance tests).
 */
import { describe, expect, it } from 'vitest';
import type { LinearRecurrenceOutputs, Problem } from '../../spec/families.ts';
import type { ScanImplementation } from '../../spec/implementation.ts';
import { planCells } from '../../suite/cells.ts';
import type { PropertyName } from '../../suite/results.ts';
import { runCell } from '../../suite/runner.ts';
import { ignoresInitialState } from './variants.ts';

interface Quirks {
  /** Index of b read at time t (look-ahead bugs). */
  readonly bIndex?: (t: number, L: number) => number;
  readonly ignoreReverse?: boolean;
  /** Maps a batch index to the batch whose inputs it reads. */
  readonly batchSource?: (b: number, batch: number) => number;
  readonly noise?: boolean;
}

/** A float32 sequential linear recurrence with one deliberate quirk. */
function quirky(name: string, quirks: Quirks, step?: ScanImplementation['families']['linear-recurrence']): ScanImplementation {
  const run = async (problem: Problem<'linear-recurrence'>): Promise<LinearRecurrenceOutputs> => {
    const [batch, dim, L] = problem.inputs.a.shape;
    const { a, b, h0 } = problem.inputs;
    const h = new Float32Array(batch * dim * L);
    const last = new Float32Array(batch * dim);
    const reverse = problem.options.reverse && !quirks.ignoreReverse;
    for (let bi = 0; bi < batch; bi++) {
      for (let d = 0; d < dim; d++) {
        const source = (quirks.batchSource?.(bi, batch) ?? bi) * dim + d;
        const row = bi * dim + d;
        let state = h0?.data[source] ?? 0;
        for (let i = 0; i < L; i++) {
          const t = reverse ? L - 1 - i : i;
          const bt = quirks.bIndex?.(t, L) ?? t;
          state = Math.fround(Math.fround(a.data[source * L + t] * state) + b.data[source * L + bt]);
          h[row * L + t] = quirks.noise ? Math.fround(state * (1 + (Math.random() < 0.5 ? 0 : 2 ** -23))) : state;
        }
        last[row] = state;
      }
    }
    return { h: { data: h, shape: [batch, dim, L] }, lastState: { data: last, shape: [batch, dim] } };
  };
  return { name, precision: 'float32', families: { 'linear-recurrence': { run, ...(step && { step: step.step }) } } };
}

const cases: { implementation: ScanImplementation; property: PropertyName; outcome: string }[] = [
  { implementation: ignoresInitialState, property: 'state-passing', outcome: 'fail' },
  { implementation: quirky('test/look-ahead', { bIndex: (t, L) => Math.min(t + 1, L - 1) }), property: 'causality', outcome: 'fail' },
  { implementation: quirky('test/ignores-reverse', { ignoreReverse: true }), property: 'reverse-flip', outcome: 'fail' },
  { implementation: quirky('test/batch-crossed', { batchSource: (b, batch) => (b === 0 ? batch - 1 : b) }), property: 'batch-permutation', outcome: 'fail' },
  { implementation: quirky('test/noisy', { noise: true }), property: 'determinism', outcome: 'informational' },
  {
    implementation: quirky('test/step-forgets-state', {}, {
      run: async () => {
        throw new Error('unused');
      },
      // The bug: the step starts from zero instead of the given state.
      step: async (inputs) => ({ y: { data: Float32Array.from(inputs.b.data), shape: inputs.b.shape }, state: { data: Float32Array.from(inputs.b.data), shape: inputs.b.shape } }),
    }),
    property: 'step',
    outcome: 'fail',
  },
];

describe('a kernel with one bug fails the property about it', () => {
  for (const { implementation, property, outcome } of cases) {
    it(`${implementation.name} → ${property}: ${outcome}`, async () => {
      const [plan] = planCells(implementation, 'linear-recurrence', property);
      const cell = await runCell(implementation, plan, { runs: 20, maxLength: 64, seed: 7 }, []);
      expect(cell.outcome).toBe(outcome);
      expect(cell.counterexample?.message).toBeTruthy();
    });
  }
  it('a cell whose restrictions exclude every case is not applicable, not a hang', async () => {
    const listed: ScanImplementation = { ...quirky('test/listed', {}), expectedFailures: [{ options: { reverse: true }, reason: 'listed for the test' }] };
    // reverse-flip needs reverse cases, and its main cell leaves every reverse case to the listed entry's cell.
    const [main] = planCells(listed, 'linear-recurrence', 'reverse-flip');
    expect(main.excluding.map((e) => e.options)).toEqual([{ reverse: true }]);
    const cell = await runCell(listed, main, { runs: 5, maxLength: 16 }, []);
    expect(cell.outcome).toBe('not-applicable');
    expect(cell.reason).toMatch(/no case satisfies/);
  });

  it('a cell whose declines exhaust fast-check\'s skip budget reports the runs it made, not a failure', async () => {
    // Accepts only a single channel of length 1: a few cases in the 408 the budget allows.
    const picky: ScanImplementation = {
      ...quirky('test/picky', {}),
      families: { 'linear-recurrence': { ...quirky('test/picky', {}).families['linear-recurrence']!, decline: (p) => (p.inputs.a.data.length === 1 ? undefined : 'only one element') } },
    };
    const [plan] = planCells(picky, 'linear-recurrence', 'conformance');
    const cell = await runCell(picky, plan, { runs: 8, maxLength: 64, seed: 7 }, []);
    expect(cell.declined).toBeGreaterThan(400);
    expect(cell.runs).toBeGreaterThan(0);
    expect(cell.runs).toBeLessThan(8);
    expect(cell.outcome).toBe('pass');
  });

  it('a fixture source that cannot be read makes an error cell, and the run goes on', async () => {
    const clean = quirky('test/clean', {});
    const [plan] = planCells(clean, 'linear-recurrence', 'fixtures');
    const broken = {
      // eslint-disable-next-line require-yield
      async *cases(): AsyncIterable<never> {
        throw new Error('manifest.json: SHA-256 mismatch');
      },
    };
    const cell = await runCell(clean, plan, { fixtures: broken }, []);
    expect(cell.outcome).toBe('error');
    expect(cell.reason).toMatch(/could not be replayed: manifest.json: SHA-256 mismatch/);
    // A cell expected to fail keeps the error's reason, not the known bug's.
    const expecting: ScanImplementation = { ...clean, expectedFailures: [{ family: 'linear-recurrence', property: 'fixtures', reason: 'KNOWN: a bug of ours' }] };
    const [expectedPlan] = planCells(expecting, 'linear-recurrence', 'fixtures');
    expect(expectedPlan.expected?.reason).toBe('KNOWN: a bug of ours');
    const expectedCell = await runCell(expecting, expectedPlan, { fixtures: broken }, []);
    expect(expectedCell.outcome).toBe('error');
    expect(expectedCell.reason).toMatch(/could not be replayed: manifest.json: SHA-256 mismatch/);
  });

  it('the same quirky kernel without its quirk passes those properties', async () => {
    const clean = quirky('test/clean', {});
    for (const property of ['causality', 'reverse-flip', 'batch-permutation', 'determinism', 'state-passing'] as const) {
      const [plan] = planCells(clean, 'linear-recurrence', property);
      const cell = await runCell(clean, plan, { runs: 20, maxLength: 64, seed: 7 }, []);
      expect(cell.outcome, `${property}: ${cell.counterexample?.message}`).toBe('pass');
    }
  });
});
