/** ssd's value regimes: how each of its inputs is drawn in each regime (spec/family-regimes.ts). */
import { EXACT_LIMIT, between, each, huge, integer, lastSequenceId, oneOf, sequenceIds, softplusThresholdTarget, subnormal, tiny, unit, withZeros, type Draw, type TensorDraw, type Uniform } from '../../draws.ts';
import type { FamilyRegimes } from '../../family-regimes.ts';
import type { SampleRequest } from '../../regimes.ts';
import { elementCount } from '../../tensor.ts';

/** dt (batch, L, H) such that dt + dtBias (drawn before it, 0 when absent) equals `target(uniform)` as exactly as f32 allows. */
function dtAround(target: Draw): TensorDraw {
  return (uniform, shape, drawn) => {
    const heads = shape[2];
    const bias = drawn.dtBias;
    const out = new Float32Array(elementCount(shape));
    for (let i = 0; i < out.length; i++) out[i] = Math.fround(target(uniform)) - (bias === undefined ? 0 : bias[i % heads]);
    return out;
  };
}

/**
 * A dtLimit (lo, hi) from three uniforms: lo and hi from `bounds`, lo ≤ hi; one in five without a
 * lower bound (−∞) and one in five without an upper (+∞), as mamba_ssm's default (0, ∞) has none.
 */
function limits(bounds: (uniform: Uniform) => readonly [number, number]): TensorDraw {
  return (uniform) => {
    const open = uniform();
    const [a, b] = bounds(uniform);
    const lo = Math.min(a, b);
    const hi = Math.max(a, b);
    return Float32Array.of(open < 0.2 ? Number.NEGATIVE_INFINITY : lo, open >= 0.2 && open < 0.4 ? Number.POSITIVE_INFINITY : hi);
  };
}

/*
 * dyadic-exact, as selective-scan's: A ∈ {0, −1024} and Δ a small integer, so every decay is exactly
 * 1 or 0 (exp(≤ −1024) is 0 in float32 and float64, and so is the exp of any sum of such exponents a
 * chunked kernel forms); with dtSoftplus Δ ∈ {21, …, 25} (> 20: softplus(x) = x), else {0, …, 3};
 * dtLimit integer bounds; B, C, D ∈ {−1, 0, 1}, x integers in [−U, U], initialStates in [−2, 2], no z.
 * Every intermediate is an integer of magnitude ≤ N·(2 + L·Δmax·U) + U ≤ 2^24.
 */

/** Largest integer |x| of a dyadic ssd problem that keeps every intermediate exact, or 0 if none. */
function dyadicInputBound(request: SampleRequest<'ssd'>): number {
  const N = request.dims.stateSize ?? 1;
  const L = request.dims.length;
  const deltaMax = request.options.dtSoftplus ? 25 : 3;
  const stateMax = request.optionalInputs?.initialStates ? 2 : 0;
  for (const U of [2, 1]) {
    if (N * (stateMax + L * deltaMax * U) + U <= EXACT_LIMIT) return U;
  }
  return 0;
}

/** The value regimes of ssd. */
export const ssdRegimes: FamilyRegimes<'ssd'> = {
  // dtBias before dt: softplus-threshold places dt + dtBias exactly.
  drawOrder: ['A', 'dtBias', 'dtLimit', 'D', 'initialStates', 'B', 'C', 'dt', 'x', 'z', 'seqIdx'],
  // As mamba_ssm's tests draw them: A < 0, small positive dt and bias, the rest O(1); limits that bite.
  generic: {
    A: each(between(-1, 0)),
    dtBias: each(between(0, 0.5)),
    // Around Δ's range (0 … 1 without softplus, 0.69 … 1.31 with), so both bounds clamp some steps.
    dtLimit: limits((uniform) => [between(0.05, 0.9)(uniform), between(0.3, 1.2)(uniform)]),
    D: unit,
    initialStates: unit,
    B: unit,
    C: unit,
    dt: each(between(0, 0.5)),
    x: unit,
    z: each(between(-2, 2)),
    seqIdx: sequenceIds,
  },
  regimes: {
    'decay-near-1': (request) => ({
      A: each(between(-1, -0.5)),
      dtBias: each(between(0, 1e-4)),
      dtLimit: limits((uniform) => [between(0, 2e-4)(uniform), between(5e-4, 1e-3)(uniform)]),
      // softplus(x) ≈ e^x for x ≪ 0: x ∈ [−9, −7) gives Δ ∈ [1.2·10⁻⁴, 9.1·10⁻⁴].
      dt: each(request.options.dtSoftplus ? between(-9, -7) : between(1e-4, 9e-4)),
    }),
    'decay-near-0': { A: each(between(-20, -5)), dt: each(between(5, 15)), dtLimit: limits((uniform) => [between(4, 8)(uniform), between(10, 16)(uniform)]) },
    zeros: {
      A: each(withZeros(0.125, between(-1, 0))),
      B: each(withZeros(0.25, between(-1, 1))),
      dt: each(withZeros(0.25, between(0, 0.5))),
      x: each(withZeros(0.25, between(-1, 1))),
    },
    oscillating: 'exp(Δ·A) is positive for real A',
    tiny: { x: each(tiny), initialStates: each(tiny) },
    huge: { x: each(huge), initialStates: each(huge) },
    subnormal: { x: each(subnormal), initialStates: each(subnormal) },
    'dyadic-exact': (request) => {
      if (request.optionalInputs?.z) return 'the gate silu(z) is irrational, so z must be off';
      const U = dyadicInputBound(request);
      if (U === 0) {
        return `N·(2 + L·Δmax) + 1 exceeds 2^24 for N=${request.dims.stateSize ?? 1}, L=${request.dims.length}: partial sums stop being exact`;
      }
      const softplus = request.options.dtSoftplus;
      return {
        A: each(oneOf([0, 0, 0, -1024])),
        dtBias: each(integer(0, 1)),
        dtLimit: limits((uniform) => (softplus ? [integer(21, 22)(uniform), integer(23, 25)(uniform)] : [integer(0, 1)(uniform), integer(2, 3)(uniform)])),
        D: each(integer(-1, 1)),
        initialStates: each(integer(-2, 2)),
        B: each(integer(-1, 1)),
        C: each(integer(-1, 1)),
        dt: each(softplus ? integer(21, 24) : integer(0, 2)),
        x: each(integer(-U, U)),
      };
    },
    'softplus-threshold': (request) => {
      if (!request.options.dtSoftplus) return 'it needs options.dtSoftplus = true';
      return {
        A: each(between(-0.05, 0)),
        // Multiples of ½: dt = target − bias is then exact in f32 (targets are multiples of 2^-19 in [16, 32)).
        dtBias: each(oneOf([-1, -0.5, 0, 0.5, 1])),
        dtLimit: limits((uniform) => [between(0, 19.9)(uniform), between(20.1, 120)(uniform)]),
        dt: dtAround(softplusThresholdTarget(request.expOverflow === true)),
      };
    },
  },
  // Δ = dt + dtBias = 0, so exp(Δ·A) = 1 and the state is kept; x = z = 0 and zero B, C add and read
  // nothing; the segment continues. Needs dtSoftplus off and a dtLimit containing 0 (admit).
  identityStep: {
    fills: {
      // Rows of dt (batch, L, H) around its time axis are (b, h) pairs: row % H is the head.
      dt: (row, { dt, dtBias }) => (dtBias === undefined ? 0 : -dtBias.data[row % dt.shape[2]]),
      x: 0,
      z: 0,
      B: 0,
      C: 0,
      seqIdx: lastSequenceId('seqIdx'),
    },
    absentOtherwise: 'softplus(x) > 0 for every x, so no step with Δ = 0 exists',
    admit: ({ dtLimit }) => {
      if (dtLimit === undefined || (dtLimit.data[0] <= 0 && dtLimit.data[1] >= 0)) return undefined;
      return { dtLimit: { data: Float32Array.of(Math.min(dtLimit.data[0], 0), Math.max(dtLimit.data[1], 0)), shape: [2] } };
    },
  },
};
