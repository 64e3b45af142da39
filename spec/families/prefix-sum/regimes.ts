/** prefix-sum's value regimes: how x is drawn in each regime (spec/family-regimes.ts). */
import { between, each, huge, integer, subnormal, tiny, unit, withZeros } from '../../draws.ts';
import type { FamilyRegimes } from '../../family-regimes.ts';

const NO_DECAY = 'prefix-sum has no decay';

/** The value regimes of prefix-sum. */
export const prefixSumRegimes: FamilyRegimes<'prefix-sum'> = {
  drawOrder: ['x'],
  generic: { x: unit },
  regimes: {
    'decay-near-1': NO_DECAY,
    'decay-near-0': NO_DECAY,
    zeros: { x: each(withZeros(0.25, between(-1, 1))) },
    oscillating: NO_DECAY,
    tiny: { x: each(tiny) },
    huge: { x: each(huge) },
    subnormal: { x: each(subnormal) },
    // x ∈ {k/2 : |k| ≤ 8}: any partial sum is a multiple of ½ of magnitude ≤ 4L, exact while
    // 8L ≤ 2^24 (EXACT_LIMIT), i.e. L ≤ 2^21.
    'dyadic-exact': (request) =>
      request.dims.length > 2 ** 21 ? `length ${request.dims.length} exceeds 2^21, where partial sums stop being exact` : { x: each((u) => integer(-8, 8)(u) / 2) },
    'softplus-threshold': 'only selective-scan applies softplus',
  },
  identityStep: { fills: { x: 0 } },
};
