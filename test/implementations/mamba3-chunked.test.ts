/**
 * mamba3-chunked against sequential-f64: the chunked float64 evaluation equals the sequential one to
 * 1e-12 of each output's largest value (the angle state by circular distance, to 1e-12 rad) on the
 * generic and oscillating regimes, for every chunk size at lengths around its multiples, with
 * G ∈ {1, 2, H}, A from 1 to N/2 and the optional inputs (D, Z, the four states) on and off; the
 * float32 evaluation to 1e-4 (y and the states) and 1e-4 rad (the angle: a float32 phase of a few
 * dozen turns). A step is a run of one token, bit for bit.
 */
import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import sequential from '../../implementations/sequential/index.ts';
import chunked from '../../implementations/mamba3-chunked/index.ts';
import { CHUNK_SIZES, DEFAULT_CHUNK_SIZE } from '../../implementations/mamba3-chunked/mamba3-chunked.ts';
import type { Mamba3SisoOutputs, Problem } from '../../spec/families.ts';
import { sampleProblem } from '../../spec/regimes.ts';
import type { OutputTensor, Tensor } from '../../spec/tensor.ts';
import { circularDistance } from '../../suite/compare.ts';
import { normwiseError } from './ssd-problem.ts';

const [chunkedF64, chunkedF32] = chunked;
const sequentialF64 = sequential.find((implementation) => implementation.precision === 'float64')!;
const OPTIONAL = ['D', 'Z', 'angleState', 'ssmState', 'kState', 'vState'] as const;

/** The optional inputs of case k: none; D and Z; the four states; all; the angle and previous-token states with Z. */
const SWITCHES: readonly (readonly (typeof OPTIONAL)[number][])[] = [[], ['D', 'Z'], ['angleState', 'ssmState', 'kState', 'vState'], OPTIONAL, ['angleState', 'kState', 'vState', 'Z']];

/** Case k of length L: batch 2, H = 4 heads of P = 3, G cycling 1, 2, 4, N = 6, A cycling 1–3, optional inputs SWITCHES[k]. */
function problemOf(L: number, k: number, regime: 'generic' | 'oscillating'): Problem<'mamba3-siso'> {
  const optionalInputs = Object.fromEntries(OPTIONAL.map((name) => [name, SWITCHES[k].includes(name)]));
  return sampleProblem(
    { family: 'mamba3-siso', dims: { batch: 2, dim: 12, length: L, stateSize: 6, heads: 4, groups: [1, 2, 4][k % 3], angles: 1 + (k % 3) }, options: {}, optionalInputs, regime },
    seedrandom(`mamba3-chunked ${L} ${k} ${regime}`),
  );
}

/** The largest circular distance over the largest |expected| angle (2π when all are 0: an absolute bound in radians). */
function angleError(got: OutputTensor, expected: OutputTensor): number {
  expect(got.data.length).toBe(expected.data.length);
  let error = 0;
  for (let i = 0; i < got.data.length; i++) error = Math.max(error, circularDistance(got.data[i], expected.data[i]));
  return error;
}

/** Checks every output of `got` against `expected` to `tolerance`. */
function expectClose(got: Mamba3SisoOutputs, expected: Mamba3SisoOutputs, tolerance: number, where: string): void {
  for (const name of ['y', 'finalSsmState', 'finalKState', 'finalVState'] as const) {
    expect(got[name].shape, `${where} ${name}`).toEqual(expected[name].shape);
    if (expected[name].data.length > 0) expect(normwiseError(got[name], expected[name]), `${where} ${name}`).toBeLessThanOrEqual(tolerance);
  }
  expect(got.finalAngleState.shape, where).toEqual(expected.finalAngleState.shape);
  expect(angleError(got.finalAngleState, expected.finalAngleState), `${where} finalAngleState`).toBeLessThanOrEqual(tolerance);
}

describe('mamba3-chunked', () => {
  it('declares its chunk sizes, one of which does not divide a power of two, and the default among them', () => {
    for (const implementation of chunked) expect(implementation.families['mamba3-siso']!.chunkSizes).toEqual(CHUNK_SIZES);
    expect(CHUNK_SIZES).toContain(DEFAULT_CHUNK_SIZE);
    expect(CHUNK_SIZES.some((Q) => 2048 % Q !== 0)).toBe(true);
    expect(chunked.map((implementation) => [implementation.name, implementation.precision])).toEqual([
      ['mamba3-chunked-f64', 'float64'],
      ['mamba3-chunked-f32', 'float32'],
    ]);
  });

  describe.each(CHUNK_SIZES)('chunk size %i', (Q) => {
    it('float64 equals sequential-f64 to 1e-12, float32 to 1e-4, at lengths 1, Q − 1, Q, Q + 1, 2Q + 3', async () => {
      const lengths = [1, Q - 1, Q, Q + 1, 2 * Q + 3];
      for (const [k, L] of lengths.entries()) {
        for (const regime of ['generic', 'oscillating'] as const) {
          const problem = problemOf(L, k, regime);
          const expected = await sequentialF64.families['mamba3-siso']!.run(problem);
          const where = `L ${L}, ${regime}, G ${problem.inputs.Q.shape[2]}, A ${problem.inputs.Angles.shape[3]}, inputs ${OPTIONAL.filter((n) => problem.inputs[n] !== undefined).join(' ')}`;
          expectClose(await chunkedF64.families['mamba3-siso']!.run(problem, { chunkSize: Q }), expected, 1e-12, `f64 ${where}`);
          const got32 = await chunkedF32.families['mamba3-siso']!.run(problem, { chunkSize: Q });
          expect(got32.y.data, where).toBeInstanceOf(Float32Array);
          expectClose(got32, expected, 1e-4, `f32 ${where}`);
        }
      }
    });
  });

  it('uses the default chunk size without settings and rejects an undeclared one, naming the field', async () => {
    const problem = problemOf(2 * DEFAULT_CHUNK_SIZE + 1, 1, 'generic');
    const implicit = await chunkedF32.families['mamba3-siso']!.run(problem);
    const explicit = await chunkedF32.families['mamba3-siso']!.run(problem, { chunkSize: DEFAULT_CHUNK_SIZE });
    expect(Array.from(implicit.y.data)).toEqual(Array.from(explicit.y.data));
    await expect(chunkedF64.families['mamba3-siso']!.run(problem, { chunkSize: 7 })).rejects.toThrow(
      'mamba3-chunked-f64 mamba3-siso: settings.chunkSize: expected one of 16, 48, 64, 256, got 7',
    );
  });

  it('L = 0: y is empty and each final state is its input state', async () => {
    const problem = problemOf(0, 3, 'generic');
    for (const name of ['angleState', 'ssmState', 'kState', 'vState'] as const) expect(problem.inputs[name], name).toBeDefined();
    for (const implementation of chunked) {
      const out = await implementation.families['mamba3-siso']!.run(problem);
      expect(out.y.shape).toEqual([2, 0, 4, 3]);
      expect(Array.from(out.finalAngleState.data)).toEqual(Array.from(problem.inputs.angleState!.data));
      expect(Array.from(out.finalSsmState.data)).toEqual(Array.from(problem.inputs.ssmState!.data));
      expect(Array.from(out.finalKState.data)).toEqual(Array.from(problem.inputs.kState!.data));
      expect(Array.from(out.finalVState.data)).toEqual(Array.from(problem.inputs.vState!.data));
    }
  });

  it.each(chunked)('$name step is a run of one token from the step states, bit for bit', async (implementation) => {
    const problem = problemOf(1, 3, 'oscillating');
    const { Q, K, V, Z, ADT, DT, Trap, Angles, angleState, ssmState, kState, vState, ...rest } = problem.inputs;
    // Drop the time axis: axis 1 of (batch, L, …), axis 2 of (batch, H, L).
    const drop = (tensor: Tensor, axis: number): Tensor => ({ data: tensor.data, shape: tensor.shape.filter((_, i) => i !== axis) });
    const stepped = await implementation.families['mamba3-siso']!.step!(
      { ...rest, Q: drop(Q, 1), K: drop(K, 1), V: drop(V, 1), Z: drop(Z!, 1), ADT: drop(ADT, 2), DT: drop(DT, 2), Trap: drop(Trap, 2), Angles: drop(Angles, 1), angleState: angleState!, ssmState: ssmState!, kState: kState!, vState: vState! },
      {},
    );
    const ran = await implementation.families['mamba3-siso']!.run(problem);
    expect(stepped.y.shape).toEqual([2, 4, 3]);
    expect(Array.from(stepped.y.data)).toEqual(Array.from(ran.y.data));
    expect(Array.from(stepped.angleState.data)).toEqual(Array.from(ran.finalAngleState.data));
    expect(Array.from(stepped.ssmState.data)).toEqual(Array.from(ran.finalSsmState.data));
    expect(Array.from(stepped.kState.data)).toEqual(Array.from(ran.finalKState.data));
    expect(Array.from(stepped.vState.data)).toEqual(Array.from(ran.finalVState.data));
  });
});
