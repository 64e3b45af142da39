/**
 * Well-conditioned ssd problems for the implementation tests (sequential and chunked): every input
 * drawn from a small deterministic generator, with the optional inputs asked for and a packed
 * seqIdx from sequence lengths per batch row.
 */
import type { Problem } from '../../spec/families.ts';
import type { OutputTensor, Tensor } from '../../spec/tensor.ts';
import type { SsdSizes } from '../../spec/families/ssd/dimensions.ts';

/** A float32 tensor of `shape` with values uniform in [lo, hi) from a small LCG seeded by `seed`. */
function sampled(shape: readonly number[], seed: number, lo: number, hi: number): Tensor {
  const data = new Float32Array(shape.reduce((p, s) => p * s, 1));
  let state = seed >>> 0;
  for (let i = 0; i < data.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    data[i] = lo + ((state >>> 8) / 2 ** 24) * (hi - lo);
  }
  return { data, shape: [...shape] };
}

/** What an ssd test problem holds; absent optional fields mean the input is absent. */
export interface SsdProblemSpec extends SsdSizes {
  /** D of shape (H) or (H, P). */
  readonly D?: 'head' | 'channel';
  readonly z?: boolean;
  readonly dtBias?: boolean;
  readonly dtLimit?: readonly [number, number];
  readonly initialStates?: boolean;
  /** Lengths of the packed sequences of each batch row, summing to `length`. */
  readonly sequences?: readonly (readonly number[])[];
  readonly dtSoftplus?: boolean;
  readonly seed?: number;
}

/** The seqIdx of a row packing sequences of the given lengths (values 0, 1, …). */
export function packedSeqIdx(rows: readonly (readonly number[])[], length: number): Tensor {
  const data = new Float32Array(rows.length * length);
  rows.forEach((lengths, b) => {
    const total = lengths.reduce((sum, l) => sum + l, 0);
    if (total !== length) throw new RangeError(`packedSeqIdx: row ${b}: expected sequence lengths summing to ${length}, got ${total}`);
    let t = 0;
    lengths.forEach((l, k) => {
      for (let i = 0; i < l; i++) data[b * length + t++] = k;
    });
  });
  return { data, shape: [rows.length, length] };
}

/**
 * An ssd problem: x, B, C, D, z, initialStates in [−1, 1]; A_h in [−1.5, −0.2]; dt so that Δ is
 * about 0.02–0.4 (softplus of [−4, −1] + bias, or [0.02, 0.4] without), so decays stay moderate.
 */
export function ssdProblem(spec: SsdProblemSpec): Problem<'ssd'> {
  const { batch, length: L, heads: H, headdim: P, groups: G, stateSize: N } = spec;
  const seed = spec.seed ?? 1;
  const softplus = spec.dtSoftplus ?? true;
  const inputs = {
    x: sampled([batch, L, H, P], seed * 7919 + 1, -1, 1),
    dt: sampled([batch, L, H], seed * 7919 + 2, softplus ? -4 : 0.02, softplus ? -1 : 0.4),
    A: sampled([H], seed * 7919 + 3, -1.5, -0.2),
    B: sampled([batch, L, G, N], seed * 7919 + 4, -1, 1),
    C: sampled([batch, L, G, N], seed * 7919 + 5, -1, 1),
    ...(spec.D === undefined ? {} : { D: sampled(spec.D === 'head' ? [H] : [H, P], seed * 7919 + 6, -1, 1) }),
    ...(spec.z === true ? { z: sampled([batch, L, H, P], seed * 7919 + 7, -2, 2) } : {}),
    ...(spec.dtBias === true ? { dtBias: sampled([H], seed * 7919 + 8, -0.5, 0.5) } : {}),
    ...(spec.dtLimit === undefined ? {} : { dtLimit: { data: Float32Array.from(spec.dtLimit), shape: [2] } }),
    ...(spec.initialStates === true ? { initialStates: sampled([batch, H, P, N], seed * 7919 + 9, -1, 1) } : {}),
    ...(spec.sequences === undefined ? {} : { seqIdx: packedSeqIdx(spec.sequences, L) }),
  };
  return { family: 'ssd', inputs, options: { dtSoftplus: softplus } };
}

/** The largest |got − expected| over the largest |expected|; throws on a length mismatch or a non-finite value. */
export function normwiseError(got: OutputTensor, expected: OutputTensor): number {
  if (got.data.length !== expected.data.length) throw new RangeError(`normwiseError: expected ${expected.data.length} elements, got ${got.data.length}`);
  let error = 0;
  let scale = 0;
  for (let i = 0; i < got.data.length; i++) {
    if (!Number.isFinite(got.data[i]) || !Number.isFinite(expected.data[i])) {
      throw new RangeError(`normwiseError: element ${i} is not finite (got ${got.data[i]}, expected ${expected.data[i]})`);
    }
    error = Math.max(error, Math.abs(got.data[i] - expected.data[i]));
    scale = Math.max(scale, Math.abs(expected.data[i]));
  }
  if (scale === 0) throw new RangeError('normwiseError: the expected output is all zeros, so the comparison would prove nothing');
  return error / scale;
}
