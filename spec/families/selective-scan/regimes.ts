/** selective-scan's value regimes: how each of its inputs is drawn in each regime (spec/family-regimes.ts). */
import { EXACT_LIMIT, between, each, huge, integer, lastSequenceId, oneOf, sequenceIds, softplusThresholdTarget, subnormal, tiny, unit, withZeros, type Draw, type TensorDraw } from '../../draws.ts';
import type { FamilyRegimes } from '../../family-regimes.ts';
import type { SampleRequest } from '../../regimes.ts';
import { elementCount } from '../../tensor.ts';

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

/*
 * dyadic-exact: exp is irrational at every non-zero rational, so Ā must be exactly 0 or 1:
 * A ∈ {0, −1024} and Δ' = delta + deltaBias a small non-negative integer, so Δ'·A is 0 (Ā = 1) or
 * ≤ −1024 (Ā = exp(≤ −1024) = 0 in float32 and float64 alike; any sum of such exponents a chunked
 * algorithm forms is 0 or ≤ −1024 too, whatever its rounding). softplus is irrational below its
 * threshold, so with deltaSoftplus Δ' ∈ {21, …, 25} (> 20: softplus(x) = x); without, Δ' ∈ {0, …, 3}.
 * B, C, D ∈ {−1, 0, 1}, u ∈ [−U, U] and h0 ∈ [−2, 2] integers; silu is irrational, so no z.
 * Every intermediate (Δ'·B·u, state, partial sums of C·h and D·u) is an integer of magnitude
 * ≤ N·(2 + L·Δmax·U) + U, which must be ≤ 2^24: U = 2 where that holds, else U = 1, else the size
 * is refused.
 */

/** Largest integer |u| of a dyadic selective scan that keeps every intermediate exact, or 0 if none. */
function dyadicInputBound(request: SampleRequest<'selective-scan'>): number {
  const N = request.dims.stateSize ?? 1;
  const L = request.dims.length;
  const deltaMax = request.options.deltaSoftplus ? 25 : 3;
  const h0Max = request.optionalInputs?.h0 ? 2 : 0;
  for (const U of [2, 1]) {
    if (N * (h0Max + L * deltaMax * U) + U <= EXACT_LIMIT) return U;
  }
  return 0;
}

/** The value regimes of selective-scan. */
export const selectiveScanRegimes: FamilyRegimes<'selective-scan'> = {
  // deltaBias before delta: softplus-threshold places delta + deltaBias exactly. seqIdx last, so
  // a problem without it draws what it drew before seqIdx existed.
  drawOrder: ['A', 'deltaBias', 'D', 'h0', 'B', 'C', 'delta', 'u', 'z', 'seqIdx'],
  // As mamba_ssm's own tests draw them: A < 0, small positive delta and bias, the rest O(1).
  generic: {
    A: each(between(-1, 0)),
    deltaBias: each(between(0, 0.5)),
    D: unit,
    h0: unit,
    B: unit,
    C: unit,
    delta: each(between(0, 0.5)),
    u: unit,
    z: each(between(-2, 2)),
    // As ssd's: one to a few sequences per row, some of length 1 on short rows.
    seqIdx: sequenceIds,
  },
  regimes: {
    'decay-near-1': (request) => ({
      A: each(between(-1, -0.5)),
      deltaBias: each(between(0, 1e-4)),
      // softplus(x) ≈ e^x for x ≪ 0: x ∈ [−9, −7) gives Δ' ∈ [1.2·10⁻⁴, 9.1·10⁻⁴].
      delta: each(request.options.deltaSoftplus ? between(-9, -7) : between(1e-4, 9e-4)),
    }),
    'decay-near-0': { A: each(between(-20, -5)), delta: each(between(5, 15)) },
    zeros: {
      A: each(withZeros(0.125, between(-1, 0))),
      B: each(withZeros(0.25, between(-1, 1))),
      delta: each(withZeros(0.25, between(0, 0.5))),
      u: each(withZeros(0.25, between(-1, 1))),
    },
    oscillating: 'Ā = exp(Δ·A) is positive for real A',
    tiny: { u: each(tiny), h0: each(tiny) },
    huge: { u: each(huge), h0: each(huge) },
    subnormal: { u: each(subnormal), h0: each(subnormal) },
    'dyadic-exact': (request) => {
      if (request.optionalInputs?.z) return 'the gate silu(z) is irrational, so z must be off';
      const U = dyadicInputBound(request);
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
    'softplus-threshold': (request) => {
      if (!request.options.deltaSoftplus) return 'it needs options.deltaSoftplus = true';
      return {
        A: each(between(-0.05, 0)),
        // Multiples of ½: delta = target − bias is then exact in f32 (targets are multiples of 2^-19 in [16, 32)).
        deltaBias: each(oneOf([-1, -0.5, 0, 0.5, 1])),
        delta: deltaAround(softplusThresholdTarget(request.expOverflow === true)),
      };
    },
  },
  // Δ' = delta + deltaBias = 0, so Ā = 1 and the state is kept; u = z = 0 and zero B, C columns add
  // and read nothing; the row's last sequence goes on. Needs deltaSoftplus off (the descriptor's identityStepNeeds).
  identityStep: {
    fills: {
      // Rows of a (batch, dim, L) tensor are (b, d) pairs: row % dim is the channel.
      delta: (row, { u, deltaBias }) => (deltaBias === undefined ? 0 : -deltaBias.data[row % u.shape[1]]),
      u: 0,
      z: 0,
      B: 0,
      C: 0,
      seqIdx: lastSequenceId('seqIdx'),
    },
    absentOtherwise: 'softplus(x) > 0 for every x, so no step with Δ\' = 0 exists',
  },
};
