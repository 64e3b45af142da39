/** lti-ssm's value regimes: how Abar, Bbar, C, D and u are drawn in each regime (spec/family-regimes.ts). */
import { EXACT_LIMIT, between, each, huge, integer, oneOf, subnormal, tiny, unit, withZeros } from '../../draws.ts';
import type { FamilyRegimes } from '../../family-regimes.ts';

/** The value regimes of lti-ssm. */
export const ltiSsmRegimes: FamilyRegimes<'lti-ssm'> = {
  drawOrder: ['Abar', 'Bbar', 'C', 'D', 'u'],
  // S4D: Abar = exp(Δ·A) ∈ (0, 1) for real A < 0.
  generic: { Abar: each(between(0, 1)), Bbar: unit, C: unit, D: unit, u: unit },
  regimes: {
    'decay-near-1': { Abar: each((uniform) => 1 - 1e-3 * (1 - uniform())) },
    'decay-near-0': { Abar: each(between(0, 1e-3)) },
    zeros: {
      Abar: each(withZeros(0.25, between(0, 1))),
      Bbar: each(withZeros(0.25, between(-1, 1))),
      u: each(withZeros(0.25, between(-1, 1))),
    },
    oscillating: { Abar: each(between(-0.999, -0.001)) },
    tiny: { u: each(tiny) },
    huge: { u: each(huge) },
    subnormal: { u: each(subnormal) },
    // Abar ∈ {0, ±1} (a ½ would put 2^-k for every k < L into the convolution kernel, which
    // underflows float32), Bbar, C, D ∈ {−1, 0, 1}, u integers in [−2, 2]: every intermediate is an
    // integer of magnitude ≤ N·2L + 2 ≤ 2^24. FFT evaluation is not covered (its twiddle factors are irrational).
    'dyadic-exact': (request) => {
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
    'softplus-threshold': 'only selective-scan applies softplus',
  },
  // u = 0 after the last step: the earlier outputs of a causal convolution do not see it (lti-ssm returns no final state).
  identityStep: { fills: { u: 0 } },
};
