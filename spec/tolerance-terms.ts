/**
 * What a family contributes to the tolerance model (spec/tolerance.md) beyond the reference's
 * condition scales: per channel, the error of its decay and input terms, its growth and read-out,
 * and, where IEEE arithmetic can make scaling by 2^k exact, the lattice and magnitude of its
 * intermediates. Each family computes its own in spec/families/<name>/tolerance.ts; the suite
 * (suite/tolerance.ts, suite/exactness.ts) combines them into bounds without naming a family.
 */
import type { FamilyName, Problem } from './families.ts';
import type { Dimensions } from './shapes.ts';
import type { FlushThresholds } from './flush-envelope.ts';

/** The unit roundoffs a bound is built from. */
export interface Roundoffs {
  /** u of the arithmetic of the scan (the accumulator). */
  readonly arithmetic: number;
  /** u of the declared storage precision (e is measured in it). */
  readonly storage: number;
  /** Rounding of each float32 input into a narrower storage precision; 0 when none happens. */
  readonly input: number;
  /** Rounding of each result into storage narrower than the accumulator; 0 when none happens. */
  readonly output: number;
  /** Absolute error one operation may make below the normal range (gradual underflow, or a flush). */
  readonly underflow: number;
  /**
   * What one rounding into a storage narrower than the arithmetic may lose when subnormals may
   * flush: that storage's smallest normal. 0 when the storage is the arithmetic, or nothing flushes.
   */
  readonly storageFlush: number;
  /**
   * The arithmetic's smallest normal when subnormals may flush: its own subnormal operands and
   * intermediates (an input under it, a decay exp(Δ·A) under it) may become 0. 0 when it preserves them.
   */
  readonly arithmeticFlush: number;
}

/** What a family's channels add to every bound: arrays indexed by channel (batch·dim) or sequence element. */
export interface ChannelTerms {
  /** Relative error of each channel's decay factors beyond their own rounding (exp, Δ'·A). */
  readonly decayError: Float64Array;
  /** Relative error of each channel's input terms b beyond one rounding (Δ'·B·u, B̄·u). */
  readonly inputError: Float64Array;
  /** max(1, |decay|) per channel: the most a rounding error can be amplified per step. */
  readonly growth: Float64Array;
  /** max_t Σ_n |C| per channel: absolute state errors reach y through C. */
  readonly readout: Float64Array;
  /** Per sequence element, the relative error of the gate silu(z_t) in units of u; absent without z. */
  readonly gateError?: Float64Array;
  /** Per sequence element, |silu(z_t)|; absent without z. */
  readonly gateMagnitude?: Float64Array;
  /** Per channel, the normwise scale ‖K‖₁·‖u‖₂ + |D|·max|u| of a time-invariant convolution (NaN: not one). */
  readonly convolutionScale?: Float64Array;
}

/** Per channel: the lattice exponent Q of every intermediate (each is a multiple of 2^Q) and a bound on its magnitude. */
export interface ScalingExtent {
  readonly lattice: number;
  readonly magnitude: number;
}

/** A family's tolerance terms. */
export interface FamilyToleranceTerms<F extends FamilyName> {
  /** The per-channel terms of a problem, computed once per comparison. */
  channelTerms(problem: Problem<F>, dims: Dimensions, r: Roundoffs): ChannelTerms;
  /**
   * The scaling extents of every channel, for the certificate that scaling by 2^k is exact
   * (suite/exactness.ts); absent for a family with transcendental factors (exp, softplus, silu),
   * which is never certified and is held to its bound.
   */
  scalingExtents?(problem: Problem<F>, dims: Dimensions): ScalingExtent[];
  /**
   * Per input, a bound on the co-factor that multiplies one of its elements on its way into the
   * state or the output (Δ'·B for selective-scan's u): what a flushed element loses is its
   * magnitude times this (spec/tolerance.md, rule U's narrow storage). Inputs it leaves out, and
   * families without it, are taken at 1.
   */
  flushCofactors?(problem: Problem<F>, dims: Dimensions): Readonly<Record<string, number>>;
  /**
   * Per output (by name, in its layout), what flushing the inputs that multiply a state or an
   * output — decays and what makes them, C, the gate, D — and the intermediates that do (a decay
   * exp(Δ·A), Δ, a gate) under their thresholds can move each element by (spec/flush-envelope.ts);
   * undefined when nothing may flush. Families without it take those at co-factor 1
   * (spec/tolerance.md, rule U).
   */
  multiplierFlush?(problem: Problem<F>, dims: Dimensions, below: FlushThresholds): Readonly<Record<string, Float64Array>> | undefined;
}

/** Terms of a family whose decays and inputs carry no error beyond their own rounding and no read-out. */
export function plainTerms(channels: number, growth: Float64Array = new Float64Array(channels).fill(1)): ChannelTerms {
  return { decayError: new Float64Array(channels), inputError: new Float64Array(channels), growth, readout: new Float64Array(channels) };
}

/**
 * Relative error allowed for exp(x), in units of u: WGSL allows 3 + 2|x| ULP for f32 exp (an ULP
 * is at most 2u), and JavaScript's, CUDA's and Mesa's exp are well inside that.
 */
export function expAllowance(x: number): number {
  return 6 + 4 * Math.abs(x);
}

/**
 * The relative error of a step Δ = clamp(softplus(dt + bias)) (softplus and clamp where present)
 * that rounding dt and bias into a narrow storage causes, u_in the storage's unit roundoff: the sum
 * moves by |e| ≤ u_in·(|dt| + |bias|), softplus passes that on times its slope σ (at most
 * σ(x + |e|), x = dt + bias; 1 past PyTorch's threshold 20), the clamp does not enlarge it; relative
 * to |Δ|. At least 2·u_in, the rounding of each term, which is what it was before cancellation in
 * dt + bias and softplus's flat tail were counted; 0 when nothing is rounded (u_in = 0). Capped
 * far below Infinity so that a zero exponent times it stays 0.
 */
export function stepInputError(dt: number, bias: number, softplus: boolean, delta: number, uIn: number): number {
  if (uIn === 0) return 0;
  const spread = Math.abs(dt) + Math.abs(bias);
  // Δ = 0: dt = −bias exactly (rounding keeps the cancellation, Δ stays 0), or a clamp to a bound of 0, which keeps the 2·u_in of before.
  if (delta === 0 || spread === 0) return 2 * uIn;
  const moved = spread * uIn;
  const x = dt + bias;
  const slope = softplus && x + moved <= 20 ? 1 / (1 + Math.exp(-(x + moved))) : 1;
  return Math.min(1e300, Math.max(2 * uIn, (moved * slope) / Math.abs(delta)));
}

/** Σ_{k<L} a^k for a ≥ 0, without overflow for a near 1. */
export function geometricSum(a: number, L: number): number {
  if (L === 0) return 0;
  if (a === 1) return L;
  const power = a ** L;
  return Number.isFinite(power) ? (1 - power) / (1 - a) : Number.POSITIVE_INFINITY;
}

/** √(Σ x²) over data[offset … offset+count). */
export function l2Norm(data: Float32Array, offset: number, count: number): number {
  let s = 0;
  for (let i = 0; i < count; i++) s += data[offset + i] * data[offset + i];
  return Math.sqrt(s);
}

/** max |x| over data[offset … offset+count). */
export function maxAbs(data: Float32Array, offset: number, count: number): number {
  let m = 0;
  for (let i = 0; i < count; i++) m = Math.max(m, Math.abs(data[offset + i]));
  return m;
}

/** Σ |x| over data[offset … offset+count). */
export function sumAbs(data: ArrayLike<number>, offset: number, count: number): number {
  let s = 0;
  for (let i = offset; i < offset + count; i++) s += Math.abs(data[i]);
  return s;
}

const scratch = new DataView(new ArrayBuffer(8));

/** Trailing zero bits of a non-zero 32-bit integer. */
function trailingZeros(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/**
 * The lattice exponent of a finite non-zero number: the largest E with v an integer multiple of
 * 2^E (exact, from the float64 bits). Rounding to any binary format keeps a multiple of 2^E a
 * multiple of 2^E (the result is a multiple of its own spacing, or exact), so the lattice of
 * inputs bounds the lattice of every intermediate built from them by +, − and ×.
 */
export function latticeExponent(v: number): number {
  if (v === 0 || !Number.isFinite(v)) throw new RangeError(`latticeExponent: expected a finite non-zero number, got ${v}`);
  scratch.setFloat64(0, v);
  const high = scratch.getUint32(0);
  const low = scratch.getUint32(4);
  const biased = (high >>> 20) & 0x7ff;
  const exponent = biased === 0 ? -1074 : biased - 1075; // of the last bit of the 53-bit significand
  const fraction = high & 0xfffff;
  const zeros = low !== 0 ? trailingZeros(low) : fraction !== 0 ? 32 + trailingZeros(fraction) : 52;
  return exponent + zeros;
}

/** Smallest lattice exponent over the non-zero values of data[offset … offset+count); +Infinity when all are zero. */
export function minLattice(data: ArrayLike<number>, offset = 0, count = data.length): number {
  let q = Number.POSITIVE_INFINITY;
  for (let i = offset; i < offset + count; i++) if (data[i] !== 0) q = Math.min(q, latticeExponent(data[i]));
  return q;
}
