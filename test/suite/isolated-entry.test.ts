/**
 * Each call gets copies, the suite keeps copies of each answer (suite/isolated-entry.ts): a kernel
 * that writes to what it is given fails, naming the tensor, instead of moving the reference with
 * it (zeroing x and answering zeros had passed); a kernel that answers every call in one buffer is
 * judged on each answer (a non-causal one had passed causality), and a correct one passes; one
 * implementation that writes to a shared fixture case cannot fail the next.
 */
import { describe, expect, it } from 'vitest';
import sequential from '../../implementations/sequential/index.ts';
import type { FamilyName, Problem } from '../../spec/families.ts';
import type { FamilyImplementation, ScanImplementation } from '../../spec/implementation.ts';
import { fixtureSourceFromDirectory } from '../../suite/fixture-source.ts';
import { isolatedEntry } from '../../suite/isolated-entry.ts';
import type { CellResult, PropertyName } from '../../suite/results.ts';
import { runImplementation } from '../../suite/runner.ts';
import { quickRun } from './quick-run.ts';

const reference32 = sequential.find((i) => i.name === 'sequential-f32') as ScanImplementation;
const prefixSum = reference32.families['prefix-sum'] as FamilyImplementation<'prefix-sum'>;
const recurrence = reference32.families['linear-recurrence'] as FamilyImplementation<'linear-recurrence'>;

/** sequential-f32 with one family's entry replaced. */
function variant<F extends FamilyName>(name: string, family: F, entry: FamilyImplementation<F>): ScanImplementation {
  return { name, precision: 'float32', families: { [family]: entry } };
}

/** The failure message of a cell, or its outcome when it did not fail. */
function failure(cells: readonly CellResult[], property: PropertyName): string {
  const cell = cells.find((c) => c.property === property);
  return cell?.outcome === 'fail' ? (cell.counterexample?.message ?? cell.reason ?? '') : `${cell?.outcome}`;
}

/** A float32 inclusive/exclusive, forward/reverse prefix sum written into `y`. */
function prefixSumInto(problem: Problem<'prefix-sum'>, y: Float32Array, shift = 0): void {
  const { x } = problem.inputs;
  const [batch, dim, L] = x.shape;
  const { exclusive, reverse } = problem.options;
  for (let row = 0; row < batch * dim; row++) {
    let sum = 0;
    // `shift` adds the row's last input to every output: a kernel that looks ahead.
    const ahead = shift === 0 || L === 0 ? 0 : x.data[row * L + (reverse ? 0 : L - 1)];
    for (let i = 0; i < L; i++) {
      const t = row * L + (reverse ? L - 1 - i : i);
      const v = x.data[t];
      if (exclusive) y[t] = Math.fround(sum + ahead);
      sum = Math.fround(sum + v);
      if (!exclusive) y[t] = Math.fround(sum + ahead);
    }
  }
}

/** A prefix sum that answers every call of one size in the same buffer, as a WASM or GPU view would. */
function reusingBuffer(name: string, lookAhead: boolean): ScanImplementation {
  const buffers = new Map<number, Float32Array>();
  return variant(name, 'prefix-sum', {
    async run(problem) {
      const n = problem.inputs.x.data.length;
      const y = buffers.get(n) ?? new Float32Array(n);
      buffers.set(n, y);
      prefixSumInto(problem, y, lookAhead ? 1 : 0);
      return { y: { data: y, shape: problem.inputs.x.shape } };
    },
  });
}

describe('a kernel that writes to the tensors it is given fails, naming the tensor', () => {
  it('zeroing x and answering zeros fails every property that compares, not only conformance', async () => {
    const zeroing = variant('test/zeroes-its-input', 'prefix-sum', {
      async run(problem) {
        problem.inputs.x.data.fill(0);
        return { y: { data: new Float32Array(problem.inputs.x.data.length), shape: problem.inputs.x.shape } };
      },
    });
    const cells = await quickRun(zeroing, 'prefix-sum', ['conformance', 'scaling', 'linearity', 'causality'], { runs: 20 });
    for (const property of ['conformance', 'scaling', 'linearity', 'causality'] as const) {
      expect(failure(cells, property), property).toMatch(/^run\(\) wrote to its input x: element \[0, 0, 0\] was -?[\d.e-]+ and is 0 \(an implementation must not modify the tensors it is given\)$/);
    }
  });

  it('a correct prefix sum computed in place in x fails for that, not for its values', async () => {
    const inPlace = variant('test/in-place', 'prefix-sum', {
      async run(problem) {
        const { x } = problem.inputs;
        prefixSumInto(problem, x.data);
        return { y: { data: x.data, shape: x.shape } };
      },
    });
    const [cell] = await quickRun(inPlace, 'prefix-sum', ['conformance'], { runs: 20 });
    expect(cell.outcome).toBe('fail');
    expect(cell.counterexample?.message).toMatch(/^run\(\) wrote to its input x: element \[0, 0, \d+\]/);
  });

  it('transferring an input\'s buffer (it detaches) is named as such', async () => {
    const transfers = variant('test/transfers-its-input', 'prefix-sum', {
      async run(problem) {
        const y = new Float32Array(problem.inputs.x.data.length);
        prefixSumInto(problem, y);
        structuredClone(problem.inputs.x.data.buffer, { transfer: [problem.inputs.x.data.buffer] });
        return { y: { data: y, shape: problem.inputs.x.shape } };
      },
    });
    const [cell] = await quickRun(transfers, 'prefix-sum', ['conformance'], { runs: 20 });
    expect(cell.counterexample?.message).toMatch(/^run\(\) wrote to its input x: it held \d+ values and holds 0 \(a buffer transferred to a worker is detached: transfer a copy\)/);
  });

  it("step() writing to its state and vjp() writing to its cotangent are named the same way", async () => {
    const stepWrites = variant('test/step-writes', 'linear-recurrence', {
      ...recurrence,
      async step(inputs, options) {
        const answer = await recurrence.step!(inputs, options);
        inputs.state.data[0] += 1;
        return answer;
      },
    });
    expect(failure(await quickRun(stepWrites, 'linear-recurrence', ['step'], { runs: 5 }), 'step')).toMatch(/^step\(\) wrote to its input state: element \[0, 0\] was /);
    const vjpWrites = variant('test/vjp-writes', 'prefix-sum', {
      ...prefixSum,
      async vjp(problem, cotangents) {
        const gradients = await prefixSum.vjp!(problem, cotangents);
        cotangents.y.data.fill(7);
        return gradients;
      },
    });
    expect(failure(await quickRun(vjpWrites, 'prefix-sum', ['vjp'], { runs: 5 }), 'vjp')).toMatch(/^vjp\(\) wrote to its cotangent y: element \[0, 0, 0\] was .* and is 7 /);
  });

  it('one implementation writing to a shared fixture case leaves the next one its case', async () => {
    const fixtures = fixtureSourceFromDirectory(undefined, { maxLength: 8 });
    const options = { fixtures, families: ['prefix-sum'] as const, properties: ['fixtures'] as const };
    const zeroing = variant('test/zeroes-fixtures', 'prefix-sum', {
      async run(problem) {
        problem.inputs.x.data.fill(0);
        return { y: { data: new Float32Array(problem.inputs.x.data.length), shape: problem.inputs.x.shape } };
      },
    });
    const [broken] = (await runImplementation(zeroing, options)).cells;
    expect(broken.outcome).toBe('fail');
    const [correct] = (await runImplementation(variant('test/correct', 'prefix-sum', prefixSum), options)).cells;
    expect(correct).toMatchObject({ outcome: 'pass' });
    expect(correct.runs).toBeGreaterThan(10);
  });
});

describe('a kernel that answers every call in one buffer is judged on each answer', () => {
  it('one that looks ahead fails causality (it had passed: both runs were one array)', async () => {
    const cells = await quickRun(reusingBuffer('test/looks-ahead-one-buffer', true), 'prefix-sum', ['causality'], { runs: 50 });
    expect(failure(cells, 'causality')).toMatch(/^changing the inputs at t = \d+ changed y\[/);
  });

  it('a correct one passes every property that runs twice', async () => {
    const properties: PropertyName[] = ['conformance', 'causality', 'linearity', 'scaling', 'determinism', 'batch-permutation', 'reverse-flip', 'zero-input', 'identity-padding'];
    const cells = await quickRun(reusingBuffer('test/correct-one-buffer', false), 'prefix-sum', properties, { runs: 30 });
    expect(cells.map((c) => [c.property, c.outcome === 'fail' ? c.reason : c.outcome])).toEqual(properties.map((p) => [p, 'pass']));
  });
});

describe('isolatedEntry', () => {
  it("keeps an entry's methods on its prototype, their `this`, and which optional ones exist", async () => {
    class Entry {
      calls = 0;
      async run(problem: Problem<'prefix-sum'>) {
        this.calls++;
        return prefixSum.run(problem);
      }
    }
    const original = new Entry();
    const entry = isolatedEntry(original as unknown as FamilyImplementation<'prefix-sum'>);
    expect(entry.step).toBeUndefined();
    expect(entry.vjp).toBeUndefined();
    const problem: Problem<'prefix-sum'> = { family: 'prefix-sum', options: { exclusive: false, reverse: false }, inputs: { x: { data: new Float32Array([1, 2, 3]), shape: [1, 1, 3] } } };
    const answer = await entry.run(problem);
    expect(original.calls).toBe(1);
    expect(Array.from(answer.y.data)).toEqual([1, 3, 6]);
    expect(entry.run).toBe(entry.run);
  });

  it("gives each call copies, and keeps a copy of its answer that the kernel's later writes do not reach", async () => {
    let seen: Float32Array | undefined;
    const kept = new Float32Array(3);
    const entry = isolatedEntry<'prefix-sum'>({
      async run(problem) {
        seen = problem.inputs.x.data;
        kept.set([1, 3, 6]);
        return { y: { data: kept, shape: [1, 1, 3] } };
      },
    });
    const x = new Float32Array([1, 2, 3]);
    const answer = await entry.run({ family: 'prefix-sum', options: { exclusive: false, reverse: false }, inputs: { x: { data: x, shape: [1, 1, 3] } } });
    expect(seen).not.toBe(x);
    expect(Array.from(seen!)).toEqual([1, 2, 3]);
    kept.fill(0);
    expect(Array.from(answer.y.data)).toEqual([1, 3, 6]);
  });
});
