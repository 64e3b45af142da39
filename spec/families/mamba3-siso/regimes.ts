/** mamba3-siso's value regimes: how each of its inputs is drawn in each regime (spec/family-regimes.ts). */
import { between, each, huge, subnormal, tiny, unit, withZeros, type Draw, type TensorDraw } from '../../draws.ts';
import type { FamilyRegimes } from '../../family-regimes.ts';
import { elementCount } from '../../tensor.ts';

/** ADT (batch, H, L) = −c·DT with c drawn from `rate`: a decay per unit of time, as mamba_ssm's A·dt (DT drawn before it). */
function adtOf(rate: Draw): TensorDraw {
  return (uniform, shape, drawn) => {
    const dt = drawn.DT;
    const out = new Float32Array(elementCount(shape));
    for (let i = 0; i < out.length; i++) out[i] = -rate(uniform) * (dt === undefined ? 0 : dt[i]);
    return out;
  };
}

/** The value regimes of mamba3-siso. */
export const mamba3SisoRegimes: FamilyRegimes<'mamba3-siso'> = {
  // DT before ADT: ADT is A·DT, drawn from it.
  drawOrder: ['QBias', 'KBias', 'D', 'angleState', 'ssmState', 'kState', 'vState', 'Q', 'K', 'V', 'DT', 'ADT', 'Trap', 'Angles', 'Z'],
  // As mamba_ssm's tests draw them (A ∈ −[1, 16), O(1) Q, K, V, biases and states), with DT up to
  // 0.5 and the angles' tanh spread over (−π, π) so the angle state turns within a few dozen steps;
  // input angle states on both sides of [0, 2π) so the first reduction is exercised.
  generic: {
    QBias: unit,
    KBias: unit,
    D: unit,
    angleState: each(between(-1, 7.5)),
    ssmState: unit,
    kState: unit,
    vState: unit,
    Q: unit,
    K: unit,
    V: unit,
    DT: each(between(0.01, 0.5)),
    ADT: adtOf(between(1, 16)),
    Trap: each(between(-3, 3)),
    Angles: each(between(-3, 3)),
    Z: each(between(-2, 2)),
  },
  regimes: {
    'decay-near-1': { DT: each(between(1e-4, 1e-3)), ADT: adtOf(between(0.1, 1)) },
    'decay-near-0': { DT: each(between(0.5, 1.5)), ADT: adtOf(between(5, 20)) },
    zeros: {
      K: each(withZeros(0.25, between(-1, 1))),
      V: each(withZeros(0.25, between(-1, 1))),
      DT: each(withZeros(0.25, between(0.01, 0.5))),
      Angles: each(withZeros(0.25, between(-3, 3))),
    },
    // The rotation oscillates: long DT and saturated tanh turn the angle by up to π·DT per step.
    oscillating: { DT: each(between(1, 2)), ADT: adtOf(between(0.01, 0.2)), Angles: each(between(-8, 8)) },
    tiny: { V: each(tiny), ssmState: each(tiny), vState: each(tiny) },
    huge: { V: each(huge), ssmState: each(huge), vState: each(huge) },
    subnormal: { V: each(subnormal), ssmState: each(subnormal), vState: each(subnormal) },
    'dyadic-exact': 'tanh, cos, sin, sigmoid and exp make every step irrational',
    'softplus-threshold': 'mamba3-siso takes DT as given (no softplus)',
  },
  identityStep: {
    fills: {},
    none: 'the key and value states are the last token\'s (k̃ = k̂_{L−1}, ṽ = v_{L−1}), so any appended token replaces them',
  },
};
