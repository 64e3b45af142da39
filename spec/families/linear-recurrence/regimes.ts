/** linear-recurrence's value regimes: how a, b and h0 are drawn in each regime (spec/family-regimes.ts). */
import { between, each, huge, integer, subnormal, tiny, unit, withZeros, type TensorDraw } from '../../draws.ts';
import { elementCount } from '../../tensor.ts';
import type { FamilyRegimes } from '../../family-regimes.ts';

/**
 * dyadic-exact: a ∈ {0, ±½, ±1}, b, h0 integers in [−4, 4]. Every intermediate is a sum of terms
 * (a_j···a_i)·b_k (or ·h0) over some set of k, or a product of a's. In one (batch, dim) row at most
 * K of the a's are ±½, so every product of a's is 0 or ±2^-j with j ≤ K and every term and partial
 * sum is an integer multiple of 2^-K with magnitude ≤ Σ|b| + |h0| ≤ 4(L + 1). With
 * K = 22 − ⌈log2(L + 1)⌉, that multiple m·2^-K has |m| ≤ 4(L + 1)·2^K ≤ 2^24: 24 bits, exact in
 * float32 (and no underflow since K ≤ 22). Valid for L ≤ 2^22 − 1; either direction.
 */
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

/** The value regimes of linear-recurrence. */
export const linearRecurrenceRegimes: FamilyRegimes<'linear-recurrence'> = {
  drawOrder: ['a', 'b', 'h0'],
  generic: { a: unit, b: unit, h0: unit },
  regimes: {
    'decay-near-1': { a: each((uniform) => 1 - 1e-3 * (1 - uniform())) },
    'decay-near-0': { a: each(between(0, 1e-3)) },
    zeros: {
      a: each(withZeros(0.25, between(-1, 1))),
      b: each(withZeros(0.25, between(-1, 1))),
      h0: each(withZeros(0.5, between(-1, 1))),
    },
    oscillating: { a: each(between(-0.999, -0.001)) },
    tiny: { b: each(tiny), h0: each(tiny) },
    huge: { b: each(huge), h0: each(huge) },
    subnormal: { b: each(subnormal), h0: each(subnormal) },
    'dyadic-exact': (request) => {
      const budget = dyadicHalfBudget(request.dims.length);
      if (budget < 0) return `length ${request.dims.length} exceeds 2^22 − 1, where partial sums stop being exact`;
      return { a: dyadicDecays(budget), b: each(integer(-4, 4)), h0: each(integer(-4, 4)) };
    },
    'softplus-threshold': 'only selective-scan applies softplus',
  },
  // h_t = 1·h_{t−1} + 0.
  identityStep: { fills: { a: 1, b: 0 } },
};
