/**
 * Every parallel-scan implementation (and the threaded one forced into each of its splits) against
 * reference() on every family, option, B/C layout and awkward length, with a simple bound relative
 * to the reference's condition scale S: |ŷ − y| ≤ 8·u·(L + N + 20)·S. The suite's tolerance model
 * replaces this bound; this file proves the kernels right meanwhile.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import implementations from '../../../implementations/parallel-scan/index.ts';
import { ChunkedScan } from '../../../implementations/parallel-scan/algorithms/chunked.ts';
import { FLOAT32, FLOAT64 } from '../../../implementations/parallel-scan/arithmetic.ts';
import { singleThreadedImplementation } from '../../../implementations/parallel-scan/single-threaded.ts';
import { threadedImplementation } from '../../../implementations/parallel-scan/threads/threaded.ts';
import { createSequential } from '../../../implementations/sequential/sequential.ts';
import { reference, referenceStep } from '../../../reference/index.ts';
import type { AnyProblem, FamilyName, OptionsOf, StepInputsOf } from '../../../spec/families.ts';
import { DEFAULT_OPTIONS } from '../../../spec/families.ts';
import { SCANNED_FAMILIES } from '../../../implementations/parallel-scan/job.ts';
import type { ScanImplementation } from '../../../spec/implementation.ts';
import { UNIT_ROUNDOFF } from '../../../spec/precision.ts';
import { dimensionsOf } from '../../../spec/shapes.ts';
import type { Float64Tensor, OutputTensor } from '../../../spec/tensor.ts';
import { validateOutputs, validateStepOutputs } from '../../../spec/validate.ts';
import { AWKWARD_LENGTHS, problemsOf, stepOf } from './problems.ts';

const TIME_SLICES = { minParallelWork: 0, minSliceLength: 1 };
const CHANNEL_RANGES = { minParallelWork: 0, minSliceLength: Number.MAX_SAFE_INTEGER };
const variants: ScanImplementation[] = [
  ...implementations,
  singleThreadedImplementation(new ChunkedScan(3), FLOAT32, 'chunked, chunks of 3'),
  singleThreadedImplementation(new ChunkedScan(1), FLOAT64, 'chunked, chunks of 1'),
  // 4 channels on 2 threads split by channel; on 3 threads, three time slices (a carry chain of 3).
  threadedImplementation(FLOAT32, { threads: 2, thresholds: CHANNEL_RANGES, name: 'threads-2-channels-f32' }),
  threadedImplementation(FLOAT32, { threads: 3, thresholds: TIME_SLICES, name: 'threads-3-slices-f32' }),
  threadedImplementation(FLOAT64, { threads: 3, thresholds: TIME_SLICES, name: 'threads-3-slices-f64' }),
];

beforeAll(async () => {
  for (const implementation of variants) await implementation.setup?.();
});
afterAll(async () => {
  for (const implementation of variants) await implementation.dispose?.();
});

/** The largest |ŷ − y| / (u·(L + N + 20)·S) over a tensor (0 where both are 0). */
function scaledError(actual: OutputTensor, expected: Float64Tensor, scale: Float64Tensor, u: number, depth: number): number {
  let worst = 0;
  for (let i = 0; i < expected.data.length; i++) {
    const error = Math.abs(actual.data[i] - expected.data[i]);
    if (error === 0) continue;
    const ratio = error / (u * depth * scale.data[i]);
    if (!(ratio <= worst)) worst = ratio;
  }
  return worst;
}

const BOUND = 8;

function familyOf(implementation: ScanImplementation, family: FamilyName) {
  const f = implementation.families[family];
  if (f === undefined) throw new Error(`${implementation.name}: family ${family} not declared`);
  return f as unknown as {
    run(problem: AnyProblem): Promise<Record<string, OutputTensor>>;
    step(inputs: StepInputsOf<FamilyName>, options: OptionsOf<FamilyName>): Promise<{ y: OutputTensor; state: OutputTensor }>;
  };
}

const problems = SCANNED_FAMILIES.flatMap((family) => AWKWARD_LENGTHS.flatMap((L) => problemsOf(family, L, 'conformance')));
const answers = new Map(problems.map((problem) => [problem, reference(problem) as unknown as { outputs: Record<string, Float64Tensor>; conditionScales: Record<string, Float64Tensor> }]));

describe.each(variants.map((implementation) => [implementation.name, implementation] as const))('%s', (_name, implementation) => {
  const u = UNIT_ROUNDOFF[implementation.precision];
  const storage = implementation.precision === 'float32' ? Float32Array : Float64Array;

  it('declares all four families, a description and its precision', () => {
    expect(Object.keys(implementation.families).sort()).toEqual([...SCANNED_FAMILIES].sort());
    expect(implementation.description).toBeTruthy();
    expect(['float32', 'float64']).toContain(implementation.precision);
  });

  it.each(SCANNED_FAMILIES)('%s matches the reference over options, layouts and awkward lengths', async (family) => {
    let worst = 0;
    for (const problem of problems.filter((p) => p.family === family)) {
      const outputs = await familyOf(implementation, family).run(problem);
      validateOutputs(problem, outputs);
      const { outputs: expected, conditionScales } = answers.get(problem)!;
      const { length, stateSize } = dimensionsOf(problem);
      for (const name of Object.keys(expected)) {
        expect(outputs[name].data, `${family} ${name}`).toBeInstanceOf(storage);
        const error = scaledError(outputs[name], expected[name], conditionScales[name], u, length + stateSize + 20);
        if (error > BOUND) {
          throw new Error(`${implementation.name} ${family} L=${length} options=${JSON.stringify(problem.options)} ${name}: error ${error.toFixed(2)}·u·(L+N+20)·S exceeds ${BOUND}`);
        }
        worst = Math.max(worst, error);
      }
    }
    expect(worst).toBeLessThanOrEqual(BOUND);
  });

  it.each(SCANNED_FAMILIES)('%s step matches referenceStep in every layout', async (family) => {
    const layouts = family === 'selective-scan' ? (['time-invariant', 'time-varying', 'grouped'] as const) : (['grouped'] as const);
    for (const layout of layouts) {
      const inputs = stepOf(family, 'step', layout);
      const options = family === 'selective-scan' ? { deltaSoftplus: true } : DEFAULT_OPTIONS[family];
      const outputs = await familyOf(implementation, family).step(inputs, options);
      validateStepOutputs(family, inputs, outputs);
      const expected = referenceStep(family, inputs, options);
      for (const name of ['y', 'state'] as const) {
        const error = scaledError(outputs[name], expected.outputs[name], expected.conditionScales[name], u, 24);
        expect(error, `${family} ${layout} ${name}`).toBeLessThanOrEqual(BOUND);
      }
    }
  });
});

describe('channel ranges scan each lane serially', () => {
  // threads-2-channels-f32 splits the 4 channels of every problem across 2 threads, two lanes at a time.
  const channels = variants.find((v) => v.name === 'threads-2-channels-f32');
  const sequentialF32 = createSequential('float32');
  it.each(['prefix-sum', 'linear-recurrence'] as const)('%s: the bits of sequential-f32, every option and length', async (family) => {
    if (channels === undefined) throw new Error('threads-2-channels-f32 is not among the variants');
    expect(channels.environment?.()).toMatchObject({ workers: '1' });
    for (const problem of problems.filter((p) => p.family === family)) {
      const split = await familyOf(channels, family).run(problem);
      const serial = await familyOf(sequentialF32, family).run(problem);
      for (const name of Object.keys(serial)) expect(split[name].data, `${name} ${JSON.stringify(problem.options)} L=${dimensionsOf(problem).length}`).toEqual(serial[name].data);
    }
  });
});

describe('time slices of two implementations in flight at once', () => {
  // The calling thread awaits its carries, so two threaded implementations' runs can interleave on
  // it (each implementation serialises only its own runs): neither may disturb the other's slice.
  const f32 = variants.find((v) => v.name === 'threads-3-slices-f32');
  const f64 = variants.find((v) => v.name === 'threads-3-slices-f64');
  it('linear-recurrence: the same bits as each run alone', async () => {
    if (f32 === undefined || f64 === undefined) throw new Error('threads-3-slices-f32/-f64 are not among the variants');
    const long = problems.filter((p) => p.family === 'linear-recurrence' && dimensionsOf(p).length >= 64);
    expect(long.length).toBeGreaterThan(0);
    for (const problem of long) {
      const alone = [await familyOf(f32, 'linear-recurrence').run(problem), await familyOf(f64, 'linear-recurrence').run(problem)];
      for (let repeat = 0; repeat < 5; repeat++) {
        const together = await Promise.all([familyOf(f32, 'linear-recurrence').run(problem), familyOf(f64, 'linear-recurrence').run(problem)]);
        for (const k of [0, 1]) {
          for (const name of Object.keys(alone[k])) expect(together[k][name].data, `${k === 0 ? 'f32' : 'f64'} ${name}`).toEqual(alone[k][name].data);
        }
      }
    }
  });
});
