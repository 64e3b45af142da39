/**
 * The value draws the families' regimes are built from (spec/families/<name>/regimes.ts): one
 * element's value from uniforms, and a whole tensor drawn element by element.
 *
 * Determinism (spec/regimes.ts relies on it): a draw reads randomness only from `uniform()`, and
 * every element consumes the same number of uniforms whatever value it takes, so changing one draw
 * changes one element. Arithmetic is exact or basic IEEE operations only (no Math.pow/exp/log), so
 * every machine samples the same float32 values.
 */
import { elementCount, type Tensor } from './tensor.ts';

/** A source of uniform numbers in [0, 1). */
export type Uniform = () => number;

/** One element's value; consumes a fixed number of uniforms. */
export type Draw = (uniform: Uniform) => number;

/** A whole tensor; may read tensors drawn before it (the draw order of its family). */
export type TensorDraw = (uniform: Uniform, shape: readonly number[], drawn: Readonly<Record<string, Float32Array>>) => Float32Array;

/** Exact 2^k by repeated doubling or halving (Math.pow is not specified to be exact). */
export function pow2(k: number): number {
  let value = 1;
  for (let i = 0; i < k; i++) value *= 2;
  for (let i = 0; i > k; i--) value /= 2;
  return value;
}

/** Uniform on [lo, hi); one draw. */
export const between = (lo: number, hi: number): Draw => (uniform) => lo + (hi - lo) * uniform();

/** Exactly 0 with probability p, else `draw`; 1 + draws(draw) draws. */
export const withZeros = (p: number, draw: Draw): Draw => (uniform) => {
  const zero = uniform() < p;
  const value = draw(uniform);
  return zero ? 0 : value;
};

/** ±(1 + f)·2^k with k uniform on the integers [minExponent, maxExponent]; three draws. */
export const signedMagnitude = (minExponent: number, maxExponent: number): Draw => (uniform) => {
  const negative = uniform() < 0.5;
  const exponent = minExponent + Math.floor(uniform() * (maxExponent - minExponent + 1));
  const mantissa = 1 + uniform();
  const value = mantissa * pow2(exponent);
  return negative ? -value : value;
};

/** f32 normals far below 1: |v| ∈ [2^-110, 2^-90). */
export const tiny = signedMagnitude(-110, -91);
/**
 * f32 values far above 1: |v| ∈ [2^80, 2^90). Sums of up to 2^16 of them, times N ≤ 2^4, a few
 * factors ≤ 2 and the gate, stay below 2^120, inside f32 range (max ≈ 2^128), so no output needs
 * the Inf allowance of the output policy; float64 (reference) is nowhere near its range.
 */
export const huge = signedMagnitude(80, 89);

/** f32 subnormals ±m·2^-149, m ∈ [1, 2^23) log-uniform over its bit length; three draws. */
export const subnormal: Draw = (uniform) => {
  const negative = uniform() < 0.5;
  const bits = Math.floor(uniform() * 23);
  const m = Math.floor(pow2(bits) * (1 + uniform()));
  const value = Math.min(m, 2 ** 23 - 1) * pow2(-149);
  return negative ? -value : value;
};

/** An integer uniform on [lo, hi]; one draw. */
export const integer = (lo: number, hi: number): Draw => (uniform) => lo + Math.min(hi - lo, Math.floor(uniform() * (hi - lo + 1)));

/** One of the given values, uniformly; one draw. */
export const oneOf = (values: readonly number[]): Draw => (uniform) => values[Math.min(values.length - 1, Math.floor(uniform() * values.length))];

/** Elementwise draw of a whole tensor, row-major. */
export function each(draw: Draw): TensorDraw {
  return (uniform, shape) => {
    const out = new Float32Array(elementCount(shape));
    for (let i = 0; i < out.length; i++) out[i] = draw(uniform);
    return out;
  };
}

/** O(1) values, uniform on [−1, 1): what most inputs are in the generic regime. */
export const unit = each(between(-1, 1));

/**
 * The dyadic-exact regime's budget: every integer of magnitude ≤ 2^24 is exact in float32, so a
 * family keeps every intermediate (each term and partial sum, in any +/× evaluation order) an
 * integer multiple of its smallest step below this many steps. Each family's regimes file proves
 * its own bound.
 */
export const EXACT_LIMIT = 2 ** 24;

/**
 * seqIdx (batch, L): each row starts at 0 (as mamba_ssm's kernels assume) and a new sequence
 * starts at t ≥ 1 with probability min(½, 2.5/L), so rows hold one to a few sequences, some of
 * length 1 on short rows; one uniform per element.
 */
export const sequenceIds: TensorDraw = (uniform, shape) => {
  const [batch, L] = shape;
  const out = new Float32Array(batch * L);
  const p = Math.min(0.5, 2.5 / Math.max(1, L));
  for (let b = 0; b < batch; b++) {
    let id = 0;
    for (let t = 0; t < L; t++) {
      const change = uniform() < p;
      if (t > 0 && change) id += 1;
      out[b * L + t] = id;
    }
  }
  return out;
};

/**
 * The identity-step fill of a sequence-ids input (batch, L) named `name`: rows around its time axis
 * are batches, and an identity step continues the row's last sequence (0 for an empty row).
 */
export function lastSequenceId<K extends string>(name: K): (row: number, inputs: { readonly [P in K]?: Tensor }) => number {
  return (row, inputs) => {
    const ids = inputs[name];
    if (ids === undefined) throw new Error(`lastSequenceId: expected an input '${name}', got none`);
    const L = ids.shape[1];
    return L === 0 ? 0 : ids.data[row * L + L - 1];
  };
}

/**
 * The softplus-threshold regime's target for Δ + bias: around PyTorch's threshold 20 (19.9, 20,
 * 20.1, 20 ∓ 2^-19 and a band 19.8 … 20.2, multiples of 2^-19 so target − bias is exact in f32 for
 * the regime's biases, multiples of ½), and with `expOverflow` half of the draws in [88, 104),
 * past float32 exp's overflow (multiples of 2^-17, exact too); two uniforms.
 */
export function softplusThresholdTarget(expOverflow: boolean): Draw {
  return (uniform) => {
    let kind = uniform();
    const jitter = uniform();
    if (expOverflow) {
      if (kind >= 0.5) return 88 + 16 * jitter;
      kind *= 2;
    }
    if (kind < 0.2) return 19.9;
    if (kind < 0.4) return 20;
    if (kind < 0.6) return 20.1;
    if (kind < 0.7) return 20 - 2 ** -19;
    if (kind < 0.8) return 20 + 2 ** -19;
    return 19.8 + 0.4 * jitter;
  };
}
