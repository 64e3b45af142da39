/**
 * The example testees through the runner, against the reference: run and step, every option and
 * layout they claim. The bound is a plain relative one: these tests check that tensors travel
 * through the protocol intact and land in the right places (a transposed or shifted answer is off
 * by O(1)); judging accuracy is the suite's tolerance model's job.
 */
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { reference, referenceStep } from '../../reference/index.ts';
import type { ProcessImplementation } from '../../protocol/process-implementation.ts';
import type { FamilyImplementation } from '../../spec/implementation.ts';
import type { FamilyName } from '../../spec/families.ts';
import type { AnyProblem } from '../../spec/families.ts';
import { tensor } from '../../spec/tensor.ts';
import { caseArbitrary } from '../../suite/arbitraries.ts';
import { compareWithReference, type ExpectedOutputs } from '../../suite/compare.ts';
import type { Precision } from '../../spec/precision.ts';
import type { OutputTensor } from '../../spec/tensor.ts';
import { AdapterPool, HAS_PROC, itHasPython, childrenStartedFromNow, NODE_EXAMPLE_TESTEE, PYTHON_EXAMPLE_TESTEE, pythonSkipNote, pythonUnavailable } from './harness.ts';
import { expectClose, linearRecurrenceProblem, prefixSumProblem, selectiveScanProblem, selectiveScanStepInputs, tensorSource, type Layout } from './problems.ts';

const pool = new AdapterPool();
const childrenLeft = childrenStartedFromNow();

afterAll(async () => {
  await pool.disposeAll();
  if (HAS_PROC) expect(childrenLeft()).toEqual([]);
});

function familyOf<F extends FamilyName>(impl: ProcessImplementation | undefined, family: F): FamilyImplementation<F> {
  const found = impl?.families[family] as FamilyImplementation<F> | undefined;
  if (found === undefined) throw new Error(`${impl?.name ?? 'the testee'} does not declare ${family}`);
  return found;
}

const LENGTHS = [0, 1, 7];

/** Runs sampled cases of every regime (the suite's own arbitraries) and holds them to the suite's tolerance model. */
async function expectWithinTolerance<F extends FamilyName>(entry: FamilyImplementation<F>, family: F, precision: Precision): Promise<void> {
  for (const { problem, request } of fc.sample(caseArbitrary(family, { maxLength: 70 }), { numRuns: 25, seed: 8 })) {
    const outputs = (await entry.run(problem)) as unknown as Readonly<Record<string, OutputTensor>>;
    const expected = reference(problem) as unknown as ExpectedOutputs;
    const comparison = compareWithReference(problem as AnyProblem, outputs, expected, { precision });
    expect(comparison.violations, `${family} ${JSON.stringify(request)}: worst ${JSON.stringify(comparison.worst)}`).toBe(0);
  }
}

describe('the Node example testee', () => {
  let impl: ProcessImplementation | undefined;
  beforeAll(async () => {
    impl = await pool.start({ command: process.execPath, args: [NODE_EXAMPLE_TESTEE] });
  });

  for (const length of LENGTHS) {
    for (const exclusive of [false, true]) {
      for (const reverse of [false, true]) {
        it(`prefix-sum L=${length} exclusive=${exclusive} reverse=${reverse}`, async () => {
          const problem = prefixSumProblem(`ps${length}${exclusive}${reverse}`, 2, 3, length, { exclusive, reverse });
          const outputs = await familyOf(impl, 'prefix-sum').run(problem);
          expectClose('y', outputs.y, reference(problem).outputs.y, 1e-12);
        });
      }
    }
    for (const reverse of [false, true]) {
      for (const h0 of [false, true]) {
        it(`linear-recurrence L=${length} reverse=${reverse} h0=${h0}`, async () => {
          const problem = linearRecurrenceProblem(`lr${length}${reverse}${h0}`, 2, 3, length, { reverse, h0 });
          const outputs = await familyOf(impl, 'linear-recurrence').run(problem);
          const expected = reference(problem).outputs;
          expectClose('h', outputs.h, expected.h, 1e-12);
          expectClose('lastState', outputs.lastState, expected.lastState, 1e-12);
        });
      }
    }
  }

  it('prefix-sum and linear-recurrence steps', async () => {
    const t = tensorSource('node-steps');
    const prefixInputs = { x: t([2, 3]), state: t([2, 3]) };
    const prefix = await familyOf(impl, 'prefix-sum').step!(prefixInputs, { exclusive: true, reverse: true });
    const prefixExpected = referenceStep('prefix-sum', prefixInputs, { exclusive: true, reverse: true }).outputs;
    expectClose('y', prefix.y, prefixExpected.y, 1e-12);
    expectClose('state', prefix.state, prefixExpected.state, 1e-12);
    const recurrenceInputs = { a: t([2, 3], 0.5, 1), b: t([2, 3]), state: t([2, 3]) };
    const step = await familyOf(impl, 'linear-recurrence').step!(recurrenceInputs, { reverse: false });
    const expected = referenceStep('linear-recurrence', recurrenceInputs, { reverse: false }).outputs;
    expectClose('y', step.y, expected.y, 1e-12);
    expectClose('state', step.state, expected.state, 1e-12);
  });
});

const missingPython = pythonUnavailable();

describe('the Python example testee', () => {
  itHasPython(missingPython);

  const skip = missingPython !== undefined;
  const skipNote = pythonSkipNote(missingPython);

  for (const precision of ['float64', 'float32'] as const) {
    describe(`in ${precision}`, () => {
      let impl: ProcessImplementation | undefined;
      // float32 kernels accumulate about L·u; float64 ones about L·2^-53: both far inside these bounds.
      const rtol = precision === 'float64' ? 1e-12 : 1e-5;
      beforeAll(async () => {
        if (skip) return;
        impl = await pool.start({ command: `python3 ${PYTHON_EXAMPLE_TESTEE}${precision === 'float32' ? ' --float32' : ''}` });
      });
      afterEach(() => {
        if (impl !== undefined && impl.restarts() > 0) throw new Error(`the Python testee was restarted:\n${impl.capturedStderr()}`);
      });

      it.skipIf(skip)(`declares itself honestly${skipNote}`, () => {
        expect(impl?.name).toBe(precision === 'float64' ? 'numpy-sequential-f64' : 'numpy-sequential-f32');
        expect(impl?.precision).toBe(precision);
        expect(Object.keys(impl?.families ?? {}).sort()).toEqual(['linear-recurrence', 'mamba3-siso', 'selective-scan', 'ssd']);
        expect(impl?.environment?.().numpy).toMatch(/^\d+\./);
      });

      for (const length of LENGTHS) {
        for (const reverse of [false, true]) {
          it.skipIf(skip)(`linear-recurrence L=${length} reverse=${reverse}${skipNote}`, async () => {
            const problem = linearRecurrenceProblem(`py-lr${length}${reverse}`, 2, 3, length, { reverse, h0: length !== 1 });
            const outputs = await familyOf(impl, 'linear-recurrence').run(problem);
            const expected = reference(problem).outputs;
            expectClose('h', outputs.h, expected.h, rtol);
            expectClose('lastState', outputs.lastState, expected.lastState, rtol);
          });
        }
        for (const layout of ['time-invariant', 'time-varying', 'grouped'] as Layout[]) {
          for (const deltaSoftplus of [false, true]) {
            it.skipIf(skip)(`selective-scan L=${length} ${layout} deltaSoftplus=${deltaSoftplus}${skipNote}`, async () => {
              const problem = selectiveScanProblem(`py-ss${length}${layout}${deltaSoftplus}`, layout, length, deltaSoftplus);
              const outputs = await familyOf(impl, 'selective-scan').run(problem);
              const expected = reference(problem).outputs;
              expectClose('y', outputs.y, expected.y, rtol);
              expectClose('lastState', outputs.lastState, expected.lastState, rtol);
            });
          }
        }
      }

      it.skipIf(skip)(`selective-scan without the optional inputs${skipNote}`, async () => {
        const full = selectiveScanProblem('py-bare', 'time-varying', 6, false);
        const { u, delta, A, B, C } = full.inputs;
        const problem = { ...full, inputs: { u, delta, A, B, C } };
        const outputs = await familyOf(impl, 'selective-scan').run(problem);
        const expected = reference(problem).outputs;
        expectClose('y', outputs.y, expected.y, rtol);
        expectClose('lastState', outputs.lastState, expected.lastState, rtol);
      });

      it.skipIf(skip)(`selective-scan and linear-recurrence steps in every layout${skipNote}`, async () => {
        for (const layout of ['time-invariant', 'time-varying', 'grouped'] as Layout[]) {
          const inputs = selectiveScanStepInputs(`py-step-${layout}`, layout);
          const got = await familyOf(impl, 'selective-scan').step!(inputs, { deltaSoftplus: true });
          const expected = referenceStep('selective-scan', inputs, { deltaSoftplus: true }).outputs;
          expectClose(`${layout} y`, got.y, expected.y, rtol);
          expectClose(`${layout} state`, got.state, expected.state, rtol);
        }
        const t = tensorSource('py-lr-step');
        const inputs = { a: t([2, 3], 0.5, 1), b: t([2, 3]), state: t([2, 3]) };
        const got = await familyOf(impl, 'linear-recurrence').step!(inputs, { reverse: true });
        const expected = referenceStep('linear-recurrence', inputs, { reverse: true }).outputs;
        expectClose('y', got.y, expected.y, rtol);
        expectClose('state', got.state, expected.state, rtol);
      });

      it.skipIf(skip)(`stays within the suite's tolerance model on sampled cases of every regime${skipNote}`, async () => {
        await expectWithinTolerance(familyOf(impl, 'linear-recurrence'), 'linear-recurrence', precision);
        await expectWithinTolerance(familyOf(impl, 'selective-scan'), 'selective-scan', precision);
      });

      it.skipIf(skip)(`answers an impossible input with an error message, and stays up${skipNote}`, async () => {
        // A and the rest disagree on dim: the validator would refuse this problem, so it is built by hand.
        const problem = selectiveScanProblem('py-bad', 'time-invariant', 3, false);
        const broken = { ...problem, inputs: { ...problem.inputs, A: tensor(new Float32Array(6), [2, 3]) } };
        await expect(familyOf(impl, 'selective-scan').run(broken)).rejects.toThrow(/answered with an error: Traceback/);
        const outputs = await familyOf(impl, 'selective-scan').run(problem);
        expectClose('y', outputs.y, reference(problem).outputs.y, rtol);
      });
    });
  }
});
