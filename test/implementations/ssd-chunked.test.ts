/**
 * ssd-chunked against sequential-f64 (the reference for the ssd family comes with the generic
 * layers): the chunked float64 evaluation equals the sequential one to 1e-12 of the output's norm
 * on well-conditioned inputs (decays exp(Δ·A) in [0.2, 1), |values| ≤ 1), for every chunk size at
 * lengths around its multiples, with packed sequences (some of length 1, resets on and next to
 * chunk boundaries), G ∈ {1, 2, H}, both shapes of D, z, dtBias, dtLimit and initialStates; the
 * float32 evaluation to 1e-5; a step is a run of one token.
 */
import { describe, expect, it } from 'vitest';
import type { Problem } from '../../spec/families.ts';
import type { Tensor } from '../../spec/tensor.ts';
import sequential from '../../implementations/sequential/index.ts';
import chunked from '../../implementations/ssd-chunked/index.ts';
import { CHUNK_SIZES, DEFAULT_CHUNK_SIZE } from '../../implementations/ssd-chunked/ssd-chunked.ts';
import { normwiseError, ssdProblem, type SsdProblemSpec } from './ssd-problem.ts';

const [chunkedF64, chunkedF32] = chunked;
const sequentialF64 = sequential.find((implementation) => implementation.precision === 'float64')!;

/** Lengths of the sequences of a row of length L cut at `cuts` (those inside (0, L)). */
function cutAt(L: number, cuts: readonly number[]): number[] {
  const inside = [...new Set(cuts.filter((c) => c > 0 && c < L))].sort((a, b) => a - b);
  return [...inside, L].map((end, k) => end - (k === 0 ? 0 : inside[k - 1]));
}

/** The cases of chunk size Q: lengths Q − 1, Q, Q + 1, 2Q + 3 (and 1), each with its own mix of optional inputs. */
function casesOf(Q: number): SsdProblemSpec[] {
  const lengths = [1, Q - 1, Q, Q + 1, 2 * Q + 3];
  return lengths.map((L, k) => ({
    batch: 2,
    length: L,
    heads: 4,
    headdim: 5,
    groups: [1, 2, 4][k % 3],
    stateSize: 5,
    seed: Q * 10 + k,
    ...(k % 3 === 0 ? {} : { D: k % 3 === 1 ? ('head' as const) : ('channel' as const) }),
    z: k % 2 === 0,
    dtBias: k % 2 === 1,
    initialStates: k !== 2,
    dtSoftplus: k !== 3,
    ...(k === 1 || k === 4 ? { dtLimit: [0.05, k === 1 ? Number.POSITIVE_INFINITY : 0.3] as const } : {}),
    // Row 0: resets at 1 (a first sequence of length 1), at and after the first chunk boundary;
    // row 1: up to five sequences, the last of length 1. L = Q uses no seqIdx at all.
    ...(L === Q ? {} : { sequences: [cutAt(L, [1, Q, Q + 1]), cutAt(L, [2, 3, Q - 1, L - 1])] }),
  }));
}

describe('ssd-chunked', () => {
  it('declares its chunk sizes, one of which does not divide a power of two, and the default among them', () => {
    for (const implementation of chunked) expect(implementation.families.ssd!.chunkSizes).toEqual(CHUNK_SIZES);
    expect(CHUNK_SIZES).toContain(DEFAULT_CHUNK_SIZE);
    expect(CHUNK_SIZES.some((Q) => 2048 % Q !== 0)).toBe(true);
    expect(chunked.map((implementation) => [implementation.name, implementation.precision])).toEqual([
      ['ssd-chunked-f64', 'float64'],
      ['ssd-chunked-f32', 'float32'],
    ]);
  });

  describe.each(CHUNK_SIZES)('chunk size %i', (Q) => {
    it('float64 equals sequential-f64 to 1e-12, float32 to 1e-5, at lengths 1, Q − 1, Q, Q + 1, 2Q + 3', async () => {
      for (const spec of casesOf(Q)) {
        const problem = ssdProblem(spec);
        const expected = await sequentialF64.families.ssd!.run(problem);
        const got = await chunkedF64.families.ssd!.run(problem, { chunkSize: Q });
        const got32 = await chunkedF32.families.ssd!.run(problem, { chunkSize: Q });
        const where = `L ${spec.length}, G ${spec.groups}, sequences ${JSON.stringify(spec.sequences)}`;
        expect(got.y.shape, where).toEqual(problem.inputs.x.shape);
        expect(got.finalStates.shape, where).toEqual([2, 4, 5, 5]);
        expect(normwiseError(got.y, expected.y), where).toBeLessThanOrEqual(1e-12);
        expect(normwiseError(got.finalStates, expected.finalStates), where).toBeLessThanOrEqual(1e-12);
        expect(got32.y.data, where).toBeInstanceOf(Float32Array);
        expect(normwiseError(got32.y, expected.y), where).toBeLessThanOrEqual(1e-5);
        expect(normwiseError(got32.finalStates, expected.finalStates), where).toBeLessThanOrEqual(1e-5);
      }
    });
  });

  it('uses the default chunk size without settings and rejects an undeclared one, naming the field', async () => {
    const problem = ssdProblem({ batch: 1, length: 2 * DEFAULT_CHUNK_SIZE + 1, heads: 2, headdim: 2, groups: 1, stateSize: 3 });
    const implicit = await chunkedF32.families.ssd!.run(problem);
    const explicit = await chunkedF32.families.ssd!.run(problem, { chunkSize: DEFAULT_CHUNK_SIZE });
    expect(Array.from(implicit.y.data)).toEqual(Array.from(explicit.y.data));
    await expect(chunkedF64.families.ssd!.run(problem, { chunkSize: 7 })).rejects.toThrow(
      'ssd-chunked-f64 ssd: settings.chunkSize: expected one of 16, 64, 100, 256, got 7',
    );
  });

  it('takes each segment sum afresh: a decay exp(−1e19) after cumulative sums of −1e39 is 0, not 1 (nor NaN in float32)', async () => {
    const f32 = (values: number[], shape: number[]): Tensor => ({ data: Float32Array.from(values), shape });
    const problem: Problem<'ssd'> = {
      family: 'ssd',
      inputs: { x: f32([1, 1, 1], [1, 3, 1, 1]), dt: f32([1e20, 1e20, 1], [1, 3, 1]), A: f32([-1e19], [1]), B: f32([1, 1, 1], [1, 3, 1, 1]), C: f32([1, 1, 1], [1, 3, 1, 1]) },
      options: { dtSoftplus: false },
    };
    // h_0 = Δ_0 = 1e20; h_1 = exp(−1e39)·h_0 + 1e20 = 1e20; h_2 = exp(−1e19)·h_1 + 1 = 1.
    const expected = [Math.fround(1e20), Math.fround(1e20), 1];
    expect(Array.from((await sequentialF64.families.ssd!.run(problem)).y.data)).toEqual(expected);
    for (const implementation of chunked) {
      for (const chunkSize of CHUNK_SIZES) expect(Array.from((await implementation.families.ssd!.run(problem, { chunkSize })).y.data), `${implementation.name} Q=${chunkSize}`).toEqual(expected);
    }
  });

  it('L = 0: y is empty and finalStates is initialStates', async () => {
    const problem = ssdProblem({ batch: 1, length: 0, heads: 2, headdim: 2, groups: 2, stateSize: 2, initialStates: true });
    for (const implementation of chunked) {
      const out = await implementation.families.ssd!.run(problem);
      expect(out.y.shape).toEqual([1, 0, 2, 2]);
      expect(Array.from(out.finalStates.data)).toEqual(Array.from(problem.inputs.initialStates!.data));
    }
  });

  describe.each(chunked)('$name step', (implementation) => {
    const problem = ssdProblem({ batch: 2, length: 1, heads: 4, headdim: 6, groups: 2, stateSize: 3, D: 'channel', z: true, dtBias: true, dtLimit: [0.05, 0.3], initialStates: true });
    const drop = (tensor: Tensor): Tensor => ({ data: tensor.data, shape: [tensor.shape[0], ...tensor.shape.slice(2)] });
    const stepOf = (p: Problem<'ssd'>) => {
      const { x, dt, A, B, C, D, z, dtBias, dtLimit, initialStates } = p.inputs;
      return implementation.families.ssd!.step!({ x: drop(x), dt: drop(dt), A, B: drop(B), C: drop(C), D, z: drop(z!), dtBias, dtLimit, state: initialStates! }, p.options);
    };

    it('is a run of one token from the step state, bit for bit', async () => {
      const stepped = await stepOf(problem);
      const ran = await implementation.families.ssd!.run(problem);
      expect(stepped.y.shape).toEqual([2, 4, 6]);
      expect(stepped.state.shape).toEqual([2, 4, 6, 3]);
      expect(Array.from(stepped.y.data)).toEqual(Array.from(ran.y.data));
      expect(Array.from(stepped.state.data)).toEqual(Array.from(ran.finalStates.data));
    });

    it("equals sequential-f64's step", async () => {
      const stepped = await stepOf(problem);
      const { x, dt, A, B, C, D, z, dtBias, dtLimit, initialStates } = problem.inputs;
      const expected = await sequentialF64.families.ssd!.step!({ x: drop(x), dt: drop(dt), A, B: drop(B), C: drop(C), D, z: drop(z!), dtBias, dtLimit, state: initialStates! }, problem.options);
      const tolerance = implementation.precision === 'float64' ? 1e-12 : 1e-5;
      expect(normwiseError(stepped.y, expected.y)).toBeLessThanOrEqual(tolerance);
      expect(normwiseError(stepped.state, expected.state)).toBeLessThanOrEqual(tolerance);
    });
  });
});
