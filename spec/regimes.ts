/**
 * Input regimes: the one list of where scan kernels break, and the one sampler that draws a problem
 * in a regime. Fixtures drive it with seedrandom, the fast-check arbitraries with a uniform source
 * derived from a generated seed; both get the same problems from the same uniforms.
 *
 * Determinism: a sampler reads randomness only from `uniform()` (values in [0, 1)), in a fixed order
 * (the draw order of each family below, each tensor row-major), and every element consumes the same
 * number of uniforms whatever value it takes, so changing one draw changes one element. Arithmetic
 * is exact or basic IEEE operations only (no Math.pow/exp/log), so every machine samples the same
 * float32 values.
 */
import { FAMILY_NAMES, type AnyProblem, type FamilyName, type InputsOf, type OptionsOf, type Problem } from './families.ts';
import type { ProjectionLayout } from './shapes.ts';
import { elementCount, type Tensor } from './tensor.ts';

/** A source of uniform numbers in [0, 1). */
export type Uniform = () => number;

/** Every regime, in the order reports list them. */
export const REGIME_NAMES = [
  'generic',
  'decay-near-1',
  'decay-near-0',
  'zeros',
  'oscillating',
  'tiny',
  'huge',
  'subnormal',
  'dyadic-exact',
  'softplus-threshold',
  'identity-padding',
] as const;

/** The name of an input regime. */
export type RegimeName = (typeof REGIME_NAMES)[number];

/** Whether a string names a regime. */
export function isRegimeName(value: unknown): value is RegimeName {
  return typeof value === 'string' && (REGIME_NAMES as readonly string[]).includes(value);
}

/** How a selective-scan B or C is laid out: (dim, N), (batch, N, L) or (batch, G, N, L). */
export type ProjectionKind = ProjectionLayout['kind'];

/** The three B/C layouts, in a fixed order. */
export const PROJECTION_KINDS: readonly ProjectionKind[] = ['time-invariant', 'time-varying', 'grouped'];

/**
 * Sizes of a problem to sample: stateSize (N) is required by selective-scan and lti-ssm and ignored
 * by the scalar-state families; groups (G) is read only for a grouped B or C.
 */
export interface SampleDimensions {
  readonly batch: number;
  readonly dim: number;
  readonly length: number;
  readonly stateSize?: number;
  /** Ignored unless B or C is grouped; must then divide dim. */
  readonly groups?: number;
}

/** Which optional inputs to draw (absent means off). */
export interface OptionalInputSwitches {
  readonly h0?: boolean;
  readonly D?: boolean;
  readonly z?: boolean;
  readonly deltaBias?: boolean;
}

/** The name of an optional input. */
export type OptionalInputName = keyof OptionalInputSwitches;

/** The optional inputs each family has. */
export const OPTIONAL_INPUTS: { readonly [F in FamilyName]: readonly OptionalInputName[] } = {
  'prefix-sum': [],
  'linear-recurrence': ['h0'],
  'selective-scan': ['D', 'z', 'deltaBias', 'h0'],
  'lti-ssm': ['D'],
};

/** What to sample: a family, its sizes, options, optional inputs, B/C layouts and the regime. */
export interface SampleRequest<F extends FamilyName = FamilyName> {
  readonly family: F;
  readonly dims: SampleDimensions;
  readonly options: OptionsOf<F>;
  readonly optionalInputs?: OptionalInputSwitches;
  /** selective-scan only; each defaults to 'time-varying' (mamba_ssm's usual layout). */
  readonly projections?: { readonly B?: ProjectionKind; readonly C?: ProjectionKind };
  readonly regime: RegimeName;
  /**
   * softplus-threshold only: also place half of delta + deltaBias in [88, 104), past float32 exp's
   * overflow (x > 88.72), where a softplus without PyTorch's threshold returns Inf. Absent or false
   * (as in the committed fixtures): only around the threshold 20. Generated cases set it.
   */
  readonly expOverflow?: boolean;
}

/** An input regime: what it stresses, the families it applies to and its sampler. */
export interface Regime {
  readonly name: RegimeName;
  readonly description: string;
  /** Families this regime applies to. */
  readonly families: readonly FamilyName[];
  /** For each family it does not apply to, why. */
  readonly excluded: { readonly [F in FamilyName]?: string };
  /** Draws a problem of this regime; throws RegimeNotApplicableError where it does not apply. */
  readonly sample: <F extends FamilyName>(request: SampleRequest<F>, uniform: Uniform) => Problem<F>;
}

/** Thrown when a regime cannot produce the requested problem (family, options, optional inputs or size). */
export class RegimeNotApplicableError extends Error {
  override readonly name = 'RegimeNotApplicableError';
}

/** Thrown for a malformed sample request (sizes, switches or layouts that the family does not have). */
export class SampleRequestError extends Error {
  override readonly name = 'SampleRequestError';
}

// ------------------------------------------------------------------ value draws

/** One element's value; consumes a fixed number of uniforms. */
type Draw = (uniform: Uniform) => number;

/** A whole tensor; may read tensors drawn before it (the draw order of its family). */
type TensorDraw = (uniform: Uniform, shape: readonly number[], drawn: Readonly<Record<string, Float32Array>>) => Float32Array;

/** Exact 2^k by repeated doubling or halving (Math.pow is not specified to be exact). */
function pow2(k: number): number {
  let value = 1;
  for (let i = 0; i < k; i++) value *= 2;
  for (let i = 0; i > k; i--) value /= 2;
  return value;
}

/** Uniform on [lo, hi); one draw. */
const between = (lo: number, hi: number): Draw => (uniform) => lo + (hi - lo) * uniform();

/** Exactly 0 with probability p, else `draw`; 1 + draws(draw) draws. */
const withZeros = (p: number, draw: Draw): Draw => (uniform) => {
  const zero = uniform() < p;
  const value = draw(uniform);
  return zero ? 0 : value;
};

/** ±(1 + f)·2^k with k uniform on the integers [minExponent, maxExponent]; three draws. */
const signedMagnitude = (minExponent: number, maxExponent: number): Draw => (uniform) => {
  const negative = uniform() < 0.5;
  const exponent = minExponent + Math.floor(uniform() * (maxExponent - minExponent + 1));
  const mantissa = 1 + uniform();
  const value = mantissa * pow2(exponent);
  return negative ? -value : value;
};

/** f32 normals far below 1: |v| ∈ [2^-110, 2^-90). */
const tiny = signedMagnitude(-110, -91);
/**
 * f32 values far above 1: |v| ∈ [2^80, 2^90). Sums of up to 2^16 of them, times N ≤ 2^4, a few
 * factors ≤ 2 and the gate, stay below 2^120, inside f32 range (max ≈ 2^128), so no output needs
 * the Inf allowance of the output policy; float64 (reference) is nowhere near its range.
 */
const huge = signedMagnitude(80, 89);

/** f32 subnormals ±m·2^-149, m ∈ [1, 2^23) log-uniform over its bit length; three draws. */
const subnormal: Draw = (uniform) => {
  const negative = uniform() < 0.5;
  const bits = Math.floor(uniform() * 23);
  const m = Math.floor(pow2(bits) * (1 + uniform()));
  const value = Math.min(m, 2 ** 23 - 1) * pow2(-149);
  return negative ? -value : value;
};

/** An integer uniform on [lo, hi]; one draw. */
const integer = (lo: number, hi: number): Draw => (uniform) => lo + Math.min(hi - lo, Math.floor(uniform() * (hi - lo + 1)));

/** One of the given values, uniformly; one draw. */
const oneOf = (values: readonly number[]): Draw => (uniform) => values[Math.min(values.length - 1, Math.floor(uniform() * values.length))];

/** Elementwise draw of a whole tensor, row-major. */
function each(draw: Draw): TensorDraw {
  return (uniform, shape) => {
    const out = new Float32Array(elementCount(shape));
    for (let i = 0; i < out.length; i++) out[i] = draw(uniform);
    return out;
  };
}

// ------------------------------------------------------------------ dyadic-exact

/*
 * Why dyadic-exact is exact in EVERY evaluation order built from additions and multiplications of
 * the inputs (sequential, Hillis–Steele / Blelloch trees, chunked scans with state passing, direct
 * convolution), so every correct float32 (or wider) implementation returns the exact answer, bit
 * for bit up to the sign of an exact zero (−0 and +0 are both exact; which one comes depends on
 * the order, e.g. 0·(−3) + (−0)):
 *
 * linear-recurrence: a ∈ {0, ±½, ±1}, b, h0 integers in [−4, 4]. Every intermediate is a sum of
 * terms (a_j···a_i)·b_k (or ·h0) over some set of k, or a product of a's. In one (batch, dim) row at
 * most K of the a's are ±½, so every product of a's is 0 or ±2^-j with j ≤ K and every term and
 * partial sum is an integer multiple of 2^-K with magnitude ≤ Σ|b| + |h0| ≤ 4(L + 1). With
 * K = 22 − ⌈log2(L + 1)⌉, that multiple m·2^-K has |m| ≤ 4(L + 1)·2^K ≤ 2^24: 24 bits, exact in
 * float32 (and no underflow since K ≤ 22). Valid for L ≤ 2^22 − 1; either direction.
 *
 * prefix-sum: x ∈ {k/2 : |k| ≤ 8}; any partial sum is a multiple of ½ of magnitude ≤ 4L, exact
 * while 8L ≤ 2^24, i.e. L ≤ 2^21.
 *
 * selective-scan: exp is irrational at every non-zero rational, so Ā must be exactly 0 or 1:
 * A ∈ {0, −1024} and Δ' = delta + deltaBias a small non-negative integer, so Δ'·A is 0 (Ā = 1) or
 * ≤ −1024 (Ā = exp(≤ −1024) = 0 in float32 and float64 alike; any sum of such exponents a chunked
 * algorithm forms is 0 or ≤ −1024 too, whatever its rounding). softplus is irrational below its
 * threshold, so with deltaSoftplus Δ' ∈ {21, …, 25} (> 20: softplus(x) = x); without, Δ' ∈ {0, …, 3}.
 * B, C, D ∈ {−1, 0, 1}, u ∈ [−U, U] and h0 ∈ [−2, 2] integers; silu is irrational, so no z.
 * Every intermediate (Δ'·B·u, state, partial sums of C·h and D·u) is an integer of magnitude
 * ≤ N·(2 + L·Δmax·U) + U, which must be ≤ 2^24: U = 2 where that holds, else U = 1, else the size
 * is refused.
 *
 * lti-ssm: Abar ∈ {0, ±1} (a ½ would put 2^-k for every k < L into the convolution kernel, which
 * underflows float32), Bbar, C, D ∈ {−1, 0, 1}, u integers in [−2, 2]: integers of magnitude
 * ≤ N·2L + 2 ≤ 2^24. FFT evaluation is not covered (its twiddle factors are irrational).
 */
const EXACT_LIMIT = 2 ** 24;

/** How many ±½ a linear-recurrence row of length L may hold and stay exact (see above). */
function dyadicHalfBudget(length: number): number {
  return 22 - Math.ceil(Math.log2(length + 1));
}

/** a ∈ {0, ±½, ±1} row by row, at most `budget` halves per row; three draws per element. */
function dyadicDecays(budget: number): TensorDraw {
  return (uniform, shape) => {
    const out = new Float32Array(elementCount(shape));
    const rowLength = shape[shape.length - 1];
    let halves = 0;
    for (let i = 0; i < out.length; i++) {
      if (i % rowLength === 0) halves = 0;
      const kind = uniform();
      const negative = uniform() < 0.5;
      uniform(); // keeps three draws per element, like the other decays of this family
      let magnitude = kind < 0.15 ? 0 : kind < 0.7 ? 1 : 0.5;
      if (magnitude === 0.5) {
        if (halves < budget) halves++;
        else magnitude = 1;
      }
      out[i] = negative ? -magnitude : magnitude;
    }
    return out;
  };
}

/** Largest integer |u| of a dyadic selective scan that keeps every intermediate exact, or 0 if none. */
function dyadicSelectiveScanInputBound(request: SampleRequest<'selective-scan'>): number {
  const N = request.dims.stateSize ?? 1;
  const L = request.dims.length;
  const deltaMax = request.options.deltaSoftplus ? 25 : 3;
  const h0Max = request.optionalInputs?.h0 ? 2 : 0;
  for (const U of [2, 1]) {
    if (N * (h0Max + L * deltaMax * U) + U <= EXACT_LIMIT) return U;
  }
  return 0;
}

// ------------------------------------------------------------------ value models per family

/** How each input of a family is drawn in one regime; a missing optional input is never drawn. */
type Model = Readonly<Record<string, TensorDraw>>;

/** A regime's value model for one family, or a reason it cannot serve this request. */
type ModelFor<F extends FamilyName> = (request: SampleRequest<F>) => Model | string;

/** The fixed order in which each family's inputs are drawn (each row-major). */
export const DRAW_ORDER: { readonly [F in FamilyName]: readonly string[] } = {
  'prefix-sum': ['x'],
  'linear-recurrence': ['a', 'b', 'h0'],
  // deltaBias before delta: softplus-threshold places delta + deltaBias exactly.
  'selective-scan': ['A', 'deltaBias', 'D', 'h0', 'B', 'C', 'delta', 'u', 'z'],
  'lti-ssm': ['Abar', 'Bbar', 'C', 'D', 'u'],
};

const unit = each(between(-1, 1));

const GENERIC: { readonly [F in FamilyName]: Model } = {
  'prefix-sum': { x: unit },
  'linear-recurrence': { a: unit, b: unit, h0: unit },
  // As mamba_ssm's own tests draw them: A < 0, small positive delta and bias, the rest O(1).
  'selective-scan': {
    A: each(between(-1, 0)),
    deltaBias: each(between(0, 0.5)),
    D: unit,
    h0: unit,
    B: unit,
    C: unit,
    delta: each(between(0, 0.5)),
    u: unit,
    z: each(between(-2, 2)),
  },
  // S4D: Abar = exp(Δ·A) ∈ (0, 1) for real A < 0.
  'lti-ssm': { Abar: each(between(0, 1)), Bbar: unit, C: unit, D: unit, u: unit },
};

/** The generic model with some inputs replaced. */
function genericWith<F extends FamilyName>(family: F, replaced: Model): Model {
  return { ...GENERIC[family], ...replaced };
}

/** delta such that delta + deltaBias (drawn before it, 0 when absent) equals `target(uniform)` as exactly as f32 allows. */
function deltaAround(target: Draw): TensorDraw {
  return (uniform, shape, drawn) => {
    const [, dim, length] = shape;
    const bias = drawn.deltaBias;
    const out = new Float32Array(elementCount(shape));
    for (let i = 0; i < out.length; i++) {
      const d = Math.floor(i / length) % dim;
      out[i] = Math.fround(target(uniform)) - (bias === undefined ? 0 : bias[d]);
    }
    return out;
  };
}

interface RegimeDefinition {
  readonly name: RegimeName;
  readonly description: string;
  readonly models: { readonly [F in FamilyName]?: ModelFor<F> };
  readonly excluded: { readonly [F in FamilyName]?: string };
}

const NO_DECAY = 'prefix-sum has no decay';
const POSITIVE_DECAY = 'Ā = exp(Δ·A) is positive for real A';
const SOFTPLUS_ONLY = 'only selective-scan applies softplus';

const DEFINITIONS: readonly RegimeDefinition[] = [
  {
    name: 'generic',
    description:
      'O(1) values: linear-recurrence a, b, h0 ∈ [−1, 1); prefix-sum x ∈ [−1, 1); selective-scan as mamba_ssm tests ' +
      '(A ∈ [−1, 0), delta, deltaBias ∈ [0, ½), z ∈ [−2, 2), the rest ∈ [−1, 1)); lti-ssm Abar ∈ [0, 1), the rest ∈ [−1, 1).',
    models: {
      'prefix-sum': () => GENERIC['prefix-sum'],
      'linear-recurrence': () => GENERIC['linear-recurrence'],
      'selective-scan': () => GENERIC['selective-scan'],
      'lti-ssm': () => GENERIC['lti-ssm'],
    },
    excluded: {},
  },
  {
    name: 'decay-near-1',
    description:
      'Long memory: decays in [1 − 10⁻³, 1). selective-scan: A ∈ [−1, −½), Δ\' ∈ [10⁻⁴, 10⁻³] (delta placed below ' +
      'the softplus knee when deltaSoftplus), so Ā = exp(Δ\'·A) ∈ (1 − 10⁻³, 1). Errors that compound over t show here.',
    models: {
      'linear-recurrence': () => genericWith('linear-recurrence', { a: each((uniform) => 1 - 1e-3 * (1 - uniform())) }),
      'selective-scan': (request) =>
        genericWith('selective-scan', {
          A: each(between(-1, -0.5)),
          deltaBias: each(between(0, 1e-4)),
          // softplus(x) ≈ e^x for x ≪ 0: x ∈ [−9, −7) gives Δ' ∈ [1.2·10⁻⁴, 9.1·10⁻⁴].
          delta: each(request.options.deltaSoftplus ? between(-9, -7) : between(1e-4, 9e-4)),
        }),
      'lti-ssm': () => genericWith('lti-ssm', { Abar: each((uniform) => 1 - 1e-3 * (1 - uniform())) }),
    },
    excluded: { 'prefix-sum': NO_DECAY },
  },
  {
    name: 'decay-near-0',
    description:
      'Reset: decays in [0, 10⁻³). selective-scan: A ∈ [−20, −5), delta ∈ [5, 15), so Δ\'·A ≤ −25 and Ā underflows ' +
      'float32 to 0 for most elements while float64 keeps it; the state forgets its past at every step.',
    models: {
      'linear-recurrence': () => genericWith('linear-recurrence', { a: each(between(0, 1e-3)) }),
      'selective-scan': () => genericWith('selective-scan', { A: each(between(-20, -5)), delta: each(between(5, 15)) }),
      'lti-ssm': () => genericWith('lti-ssm', { Abar: each(between(0, 1e-3)) }),
    },
    excluded: { 'prefix-sum': NO_DECAY },
  },
  {
    name: 'zeros',
    description:
      'Generic values with exact zeros sprinkled in: a and b (¼ each) and h0 (½); x (¼); selective-scan A (⅛, so Ā = 1), ' +
      'delta, B and u (¼ each); lti-ssm Abar, Bbar and u (¼ each). Catches 0·Inf, log(0) and division tricks.',
    models: {
      'prefix-sum': () => ({ x: each(withZeros(0.25, between(-1, 1))) }),
      'linear-recurrence': () => ({
        a: each(withZeros(0.25, between(-1, 1))),
        b: each(withZeros(0.25, between(-1, 1))),
        h0: each(withZeros(0.5, between(-1, 1))),
      }),
      'selective-scan': () =>
        genericWith('selective-scan', {
          A: each(withZeros(0.125, between(-1, 0))),
          B: each(withZeros(0.25, between(-1, 1))),
          delta: each(withZeros(0.25, between(0, 0.5))),
          u: each(withZeros(0.25, between(-1, 1))),
        }),
      'lti-ssm': () =>
        genericWith('lti-ssm', {
          Abar: each(withZeros(0.25, between(0, 1))),
          Bbar: each(withZeros(0.25, between(-1, 1))),
          u: each(withZeros(0.25, between(-1, 1))),
        }),
    },
    excluded: {},
  },
  {
    name: 'oscillating',
    description: 'Negative decays a, Abar ∈ (−1, 0): the state alternates sign, which log-space scans cannot represent.',
    models: {
      'linear-recurrence': () => genericWith('linear-recurrence', { a: each(between(-0.999, -0.001)) }),
      'lti-ssm': () => genericWith('lti-ssm', { Abar: each(between(-0.999, -0.001)) }),
    },
    excluded: { 'prefix-sum': NO_DECAY, 'selective-scan': POSITIVE_DECAY },
  },
  {
    name: 'tiny',
    description:
      'Float32 normals far below 1 (|v| ∈ [2⁻¹¹⁰, 2⁻⁹⁰)) in the additive inputs (b, h0, x, u), decays generic: ' +
      'products decay towards the subnormal range.',
    models: {
      'prefix-sum': () => ({ x: each(tiny) }),
      'linear-recurrence': () => genericWith('linear-recurrence', { b: each(tiny), h0: each(tiny) }),
      'selective-scan': () => genericWith('selective-scan', { u: each(tiny), h0: each(tiny) }),
      'lti-ssm': () => genericWith('lti-ssm', { u: each(tiny) }),
    },
    excluded: {},
  },
  {
    name: 'huge',
    description:
      'Float32 values far above 1 (|v| ∈ [2⁸⁰, 2⁹⁰)) in the additive inputs (b, h0, x, u), decays generic; outputs stay ' +
      'below 2¹²⁰ for L·N ≤ 2²⁰, inside float32 range.',
    models: {
      'prefix-sum': () => ({ x: each(huge) }),
      'linear-recurrence': () => genericWith('linear-recurrence', { b: each(huge), h0: each(huge) }),
      'selective-scan': () => genericWith('selective-scan', { u: each(huge), h0: each(huge) }),
      'lti-ssm': () => genericWith('lti-ssm', { u: each(huge) }),
    },
    excluded: {},
  },
  {
    name: 'subnormal',
    description:
      'Float32 subnormals (|v| < 2⁻¹²⁶) in the additive inputs (b, h0, x, u), decays generic: flush-to-zero hardware ' +
      'and fast-math kernels lose them.',
    models: {
      'prefix-sum': () => ({ x: each(subnormal) }),
      'linear-recurrence': () => genericWith('linear-recurrence', { b: each(subnormal), h0: each(subnormal) }),
      'selective-scan': () => genericWith('selective-scan', { u: each(subnormal), h0: each(subnormal) }),
      'lti-ssm': () => genericWith('lti-ssm', { u: each(subnormal) }),
    },
    excluded: {},
  },
  {
    name: 'dyadic-exact',
    description:
      'Values whose every intermediate in every +/× evaluation order is exact in float32 (a ∈ {0, ±½, ±1} with a ' +
      'budget of halves, small integers elsewhere; selective-scan with Ā ∈ {0, 1} and no z; lti-ssm Abar ∈ {0, ±1}), ' +
      'so every correct implementation matches the reference exactly, bit for bit up to the sign of zero (FFT evaluation excepted).',
    models: {
      'prefix-sum': (request) =>
        request.dims.length > 2 ** 21 ? `length ${request.dims.length} exceeds 2^21, where partial sums stop being exact` : { x: each((u) => integer(-8, 8)(u) / 2) },
      'linear-recurrence': (request) => {
        const budget = dyadicHalfBudget(request.dims.length);
        if (budget < 0) return `length ${request.dims.length} exceeds 2^22 − 1, where partial sums stop being exact`;
        return { a: dyadicDecays(budget), b: each(integer(-4, 4)), h0: each(integer(-4, 4)) };
      },
      'selective-scan': (request) => {
        if (request.optionalInputs?.z) return 'the gate silu(z) is irrational, so z must be off';
        const U = dyadicSelectiveScanInputBound(request);
        if (U === 0) {
          return `N·(2 + L·Δmax) + 1 exceeds 2^24 for N=${request.dims.stateSize ?? 1}, L=${request.dims.length}: partial sums stop being exact`;
        }
        const softplus = request.options.deltaSoftplus;
        return {
          A: each(oneOf([0, 0, 0, -1024])),
          deltaBias: each(integer(0, 1)),
          D: each(integer(-1, 1)),
          h0: each(integer(-2, 2)),
          B: each(integer(-1, 1)),
          C: each(integer(-1, 1)),
          delta: each(softplus ? integer(21, 24) : integer(0, 2)),
          u: each(integer(-U, U)),
        };
      },
      'lti-ssm': (request) => {
        const N = request.dims.stateSize ?? 1;
        if (N * 2 * request.dims.length + 2 > EXACT_LIMIT) {
          return `N·2L + 2 exceeds 2^24 for N=${N}, L=${request.dims.length}: partial sums stop being exact`;
        }
        return {
          Abar: each(oneOf([0, 1, 1, -1])),
          Bbar: each(integer(-1, 1)),
          C: each(integer(-1, 1)),
          D: each(integer(-1, 1)),
          u: each(integer(-2, 2)),
        };
      },
    },
    excluded: {},
  },
  {
    name: 'softplus-threshold',
    description:
      'selective-scan with deltaSoftplus: delta + deltaBias placed exactly on 19.9, 20, 20.1, the float32 neighbours of ' +
      '20, or uniformly in [19.8, 20.2): both sides of PyTorch\'s softplus threshold (x > 20 passes x through). With ' +
      'request.expOverflow (generated cases), half of them in [88, 104) instead, where exp overflows float32.',
    models: {
      'selective-scan': (request) => {
        if (!request.options.deltaSoftplus) return 'it needs options.deltaSoftplus = true';
        return genericWith('selective-scan', {
          A: each(between(-0.05, 0)),
          // Multiples of ½: delta = target − bias is then exact in f32 (targets are multiples of 2^-19 in [16, 32)).
          deltaBias: each(oneOf([-1, -0.5, 0, 0.5, 1])),
          delta: deltaAround((uniform) => {
            let kind = uniform();
            const jitter = uniform();
            if (request.expOverflow === true) {
              // Multiples of 2^-17 in [88, 104): delta = target − bias stays exact in f32.
              if (kind >= 0.5) return 88 + 16 * jitter;
              kind *= 2;
            }
            if (kind < 0.2) return 19.9;
            if (kind < 0.4) return 20;
            if (kind < 0.6) return 20.1;
            if (kind < 0.7) return 20 - 2 ** -19;
            if (kind < 0.8) return 20 + 2 ** -19;
            return 19.8 + 0.4 * jitter;
          }),
        });
      },
    },
    excluded: { 'prefix-sum': SOFTPLUS_ONLY, 'linear-recurrence': SOFTPLUS_ONLY, 'lti-ssm': SOFTPLUS_ONLY },
  },
  {
    name: 'identity-padding',
    description:
      'A generic problem followed, in processing order, by identity steps (a = 1, b = 0; x = 0; lti-ssm u = 0; ' +
      'selective-scan Δ\' = 0, u = 0): outputs at the original positions and the last state equal the unpadded ' +
      'problem\'s. Padding goes at the end, or at the start for reverse; see appendIdentityPadding.',
    models: {
      'prefix-sum': () => GENERIC['prefix-sum'],
      'linear-recurrence': () => GENERIC['linear-recurrence'],
      'selective-scan': (request) =>
        request.options.deltaSoftplus ? 'softplus(x) > 0 for every x, so no step with Δ\' = 0 exists' : GENERIC['selective-scan'],
      'lti-ssm': () => GENERIC['lti-ssm'],
    },
    excluded: {},
  },
];

// ------------------------------------------------------------------ the sampler

/** Checks a request's sizes, switches and layouts against its family; throws SampleRequestError. */
function checkRequest(request: SampleRequest): void {
  const { family, dims } = request;
  if (!(FAMILY_NAMES as readonly string[]).includes(family)) throw new SampleRequestError(`family: expected one of ${FAMILY_NAMES.join(', ')}, got ${String(family)}`);
  for (const key of ['batch', 'dim', 'length'] as const) {
    const value = dims[key];
    if (!Number.isSafeInteger(value) || value < 0) throw new SampleRequestError(`dims.${key}: expected a non-negative integer, got ${String(value)}`);
  }
  const hasState = family === 'selective-scan' || family === 'lti-ssm';
  if (hasState) {
    const N = dims.stateSize;
    if (N === undefined || !Number.isSafeInteger(N) || N < 1) throw new SampleRequestError(`dims.stateSize: expected an integer ≥ 1 for ${family}, got ${String(N)}`);
  }
  for (const [name, on] of Object.entries(request.optionalInputs ?? {})) {
    if (on && !(OPTIONAL_INPUTS[family] as readonly string[]).includes(name)) {
      const known = OPTIONAL_INPUTS[family].length === 0 ? 'none' : OPTIONAL_INPUTS[family].join(', ');
      throw new SampleRequestError(`optionalInputs.${name}: ${family} has no such input (its optional inputs: ${known})`);
    }
  }
  if (request.projections !== undefined && family !== 'selective-scan') {
    throw new SampleRequestError(`projections: only selective-scan has B/C layouts, got a request for ${family}`);
  }
  const kinds = [request.projections?.B, request.projections?.C];
  for (const kind of kinds) {
    if (kind !== undefined && !PROJECTION_KINDS.includes(kind)) throw new SampleRequestError(`projections: expected one of ${PROJECTION_KINDS.join(', ')}, got ${String(kind)}`);
  }
  if (request.expOverflow === true && request.regime !== 'softplus-threshold') {
    throw new SampleRequestError(`expOverflow: only the softplus-threshold regime reads it, got a request for regime '${String(request.regime)}'`);
  }
  if (kinds.includes('grouped')) {
    const G = dims.groups;
    if (G === undefined || !Number.isSafeInteger(G) || G < 1 || dims.dim % G !== 0) {
      throw new SampleRequestError(`dims.groups: expected an integer ≥ 1 dividing dim=${dims.dim} for a grouped B or C, got ${String(G)}`);
    }
  }
}

/** Shape of each input of a request's family (optional ones included). */
function inputShapes(request: SampleRequest): Readonly<Record<string, readonly number[]>> {
  const { batch, dim, length: L } = request.dims;
  const N = request.dims.stateSize ?? 1;
  const G = request.dims.groups ?? 1;
  const projection = (kind: ProjectionKind | undefined): number[] =>
    kind === 'time-invariant' ? [dim, N] : kind === 'grouped' ? [batch, G, N, L] : [batch, N, L];
  switch (request.family) {
    case 'prefix-sum':
      return { x: [batch, dim, L] };
    case 'linear-recurrence':
      return { a: [batch, dim, L], b: [batch, dim, L], h0: [batch, dim] };
    case 'selective-scan':
      return {
        u: [batch, dim, L],
        delta: [batch, dim, L],
        z: [batch, dim, L],
        A: [dim, N],
        B: projection(request.projections?.B),
        C: projection(request.projections?.C),
        D: [dim],
        deltaBias: [dim],
        h0: [batch, dim, N],
      };
    case 'lti-ssm':
      return { Abar: [dim, N], Bbar: [dim, N], C: [dim, N], D: [dim], u: [batch, dim, L] };
  }
}

/** Draws the inputs of `request` from `model`, in the family's draw order. */
function drawInputs<F extends FamilyName>(request: SampleRequest<F>, model: Model, uniform: Uniform): Problem<F> {
  const shapes = inputShapes(request);
  const optional = OPTIONAL_INPUTS[request.family] as readonly string[];
  const switches = (request.optionalInputs ?? {}) as Readonly<Record<string, boolean | undefined>>;
  const drawn: Record<string, Float32Array> = {};
  const inputs: Record<string, Tensor> = {};
  for (const name of DRAW_ORDER[request.family]) {
    if (optional.includes(name) && switches[name] !== true) continue;
    const draw = model[name];
    if (draw === undefined) throw new Error(`spec/regimes.ts: regime ${request.regime} has no draw for ${request.family} input ${name}`);
    const shape = shapes[name];
    drawn[name] = draw(uniform, shape, drawn);
    inputs[name] = { data: drawn[name], shape: [...shape] };
  }
  return { family: request.family, inputs: inputs as unknown as InputsOf<F>, options: { ...request.options } };
}

/** The model a definition gives for a request, or the reason it cannot. */
function modelOf(definition: RegimeDefinition, request: SampleRequest): Model | string {
  const excluded = definition.excluded[request.family];
  if (excluded !== undefined) return excluded;
  const modelFor = definition.models[request.family] as ModelFor<FamilyName> | undefined;
  if (modelFor === undefined) throw new Error(`spec/regimes.ts: regime ${definition.name} neither models nor excludes ${request.family}`);
  return modelFor(request);
}

/** How many identity steps the identity-padding regime appends to a problem of length L; one draw. */
function paddingCount(length: number, uniform: Uniform): number {
  const draw = uniform();
  if (length === 0) return 0;
  return Math.min(length, 1 + Math.floor(draw * Math.max(1, Math.floor(length / 2))));
}

function buildRegime(definition: RegimeDefinition): Regime {
  const families = FAMILY_NAMES.filter((family) => definition.excluded[family] === undefined);
  for (const family of families) {
    if (definition.models[family] === undefined) throw new Error(`spec/regimes.ts: regime ${definition.name} neither models nor excludes ${family}`);
  }
  const sample = <F extends FamilyName>(request: SampleRequest<F>, uniform: Uniform): Problem<F> => {
    checkRequest(request);
    if (request.regime !== definition.name) {
      throw new SampleRequestError(`regime: this sampler draws '${definition.name}', the request asks for '${request.regime}'`);
    }
    const model = modelOf(definition, request);
    if (typeof model === 'string') {
      throw new RegimeNotApplicableError(`regime '${definition.name}' cannot sample this ${request.family} problem: ${model}`);
    }
    if (definition.name !== 'identity-padding') return drawInputs(request, model, uniform);
    // The count comes first in the draw order; the body is a generic problem of the remaining length.
    const count = paddingCount(request.dims.length, uniform);
    const body = drawInputs({ ...request, dims: { ...request.dims, length: request.dims.length - count } }, model, uniform);
    return appendIdentityPadding(body, count);
  };
  return { name: definition.name, description: definition.description, families, excluded: definition.excluded, sample };
}

/** Every regime, in REGIME_NAMES order. */
export const REGIMES: readonly Regime[] = DEFINITIONS.map(buildRegime);

// REGIMES and REGIME_NAMES list the same names in the same order.
if (REGIMES.map((r) => r.name).join() !== REGIME_NAMES.join()) throw new Error('spec/regimes.ts: REGIMES and REGIME_NAMES disagree');

/** The regime of a name. */
export function regimeByName(name: RegimeName): Regime {
  const regime = REGIMES.find((r) => r.name === name);
  if (regime === undefined) throw new SampleRequestError(`regime: expected one of ${REGIME_NAMES.join(', ')}, got ${String(name)}`);
  return regime;
}

/** The regimes that apply to a family. */
export function regimesFor(family: FamilyName): readonly Regime[] {
  return REGIMES.filter((r) => r.families.includes(family));
}

/**
 * Why the request's regime cannot sample it (family, options, optional inputs or size), or
 * undefined when sampleProblem will succeed; throws SampleRequestError for a malformed request.
 */
export function regimeRestriction(request: SampleRequest): string | undefined {
  checkRequest(request);
  const definition = DEFINITIONS.find((d) => d.name === request.regime);
  if (definition === undefined) throw new SampleRequestError(`regime: expected one of ${REGIME_NAMES.join(', ')}, got ${String(request.regime)}`);
  const model = modelOf(definition, request);
  return typeof model === 'string' ? model : undefined;
}

/**
 * Draws a problem of `request.regime` using only `uniform()`, in the fixed draw order, every value
 * float32. Throws SampleRequestError for a malformed request and RegimeNotApplicableError where the
 * regime does not apply (regimeRestriction says why beforehand).
 */
export function sampleProblem<F extends FamilyName>(request: SampleRequest<F>, uniform: Uniform): Problem<F> {
  return regimeByName(request.regime).sample(request, uniform);
}

// ------------------------------------------------------------------ identity padding

/**
 * Where identity steps go so they come last in processing order: 'start' for a reverse
 * prefix-sum or linear-recurrence, 'end' otherwise.
 */
export function identityPaddingPlacement(problem: Problem): 'start' | 'end' {
  const options = problem.options as Readonly<Record<string, boolean>>;
  return options.reverse === true ? 'start' : 'end';
}

/**
 * The same problem with `count` identity steps after it in processing order (see
 * identityPaddingPlacement): linear-recurrence a = 1, b = 0; prefix-sum x = 0; lti-ssm u = 0;
 * selective-scan delta = −deltaBias (Δ' = 0, so Ā = 1), u = z = 0 and zero B, C columns (needs
 * deltaSoftplus off). Outputs at the original positions and the last state are unchanged.
 */
export function appendIdentityPadding<F extends FamilyName>(problem: Problem<F>, count: number): Problem<F> {
  if (!Number.isSafeInteger(count) || count < 0) throw new SampleRequestError(`count: expected a non-negative integer, got ${String(count)}`);
  const atStart = identityPaddingPlacement(problem) === 'start';
  const pad = (t: Tensor | undefined, fill: (row: number) => number): Tensor | undefined =>
    t === undefined ? undefined : padTime(t, count, atStart, fill);
  const any = problem as AnyProblem;
  switch (any.family) {
    case 'prefix-sum':
      return { ...problem, inputs: { x: pad(any.inputs.x, () => 0) } as unknown as InputsOf<F> };
    case 'linear-recurrence': {
      const { a, b, h0 } = any.inputs as InputsOf<'linear-recurrence'>;
      return { ...problem, inputs: { a: pad(a, () => 1), b: pad(b, () => 0), ...(h0 && { h0 }) } as unknown as InputsOf<F> };
    }
    case 'lti-ssm': {
      const inputs = any.inputs as InputsOf<'lti-ssm'>;
      return { ...problem, inputs: { ...inputs, u: pad(inputs.u, () => 0) } as unknown as InputsOf<F> };
    }
    case 'selective-scan': {
      if ((any.options as OptionsOf<'selective-scan'>).deltaSoftplus) {
        throw new RegimeNotApplicableError('appendIdentityPadding: a selective scan with deltaSoftplus has no identity step (softplus(x) > 0 for every x)');
      }
      const inputs = any.inputs as InputsOf<'selective-scan'>;
      const dim = inputs.u.shape[1];
      const bias = inputs.deltaBias?.data;
      // Rows of a (batch, dim, L) tensor are (b, d) pairs: row % dim is the channel.
      const delta = pad(inputs.delta, (row) => (bias === undefined ? 0 : -bias[row % dim]));
      const projection = (t: Tensor): Tensor => (t.shape.length === 2 ? t : padTime(t, count, false, () => 0));
      return {
        ...problem,
        inputs: {
          ...inputs,
          u: pad(inputs.u, () => 0),
          delta,
          B: projection(inputs.B),
          C: projection(inputs.C),
          ...(inputs.z && { z: pad(inputs.z, () => 0) }),
        } as unknown as InputsOf<F>,
      };
    }
  }
}

/** A tensor with `count` steps added on its last (time) axis, valued fill(row) per row. */
function padTime(t: Tensor, count: number, atStart: boolean, fill: (row: number) => number): Tensor {
  const L = t.shape[t.shape.length - 1];
  const rows = L === 0 ? elementCount(t.shape.slice(0, -1)) : t.data.length / L;
  const padded = L + count;
  const data = new Float32Array(rows * padded);
  for (let r = 0; r < rows; r++) {
    const offset = r * padded + (atStart ? count : 0);
    data.set(t.data.subarray(r * L, (r + 1) * L), offset);
    const value = fill(r);
    const start = r * padded + (atStart ? 0 : L);
    data.fill(value, start, start + count);
  }
  return { data, shape: [...t.shape.slice(0, -1), padded] };
}
