/**
 * The mamba3-siso reference: tiny cases computed by hand (trapezoidal weights, the previous token's
 * key and value, D before the gate, a rotation by π/2), the angle state's wrap in both directions,
 * the step against a run of one token, the reduction to ssd (Angles = 0, trap = 1) across the two
 * references, and the circular comparison of the angle state.
 */
import { describe, expect, it } from 'vitest';
import { mamba3Siso, mamba3SisoStep, reference } from '../../reference/index.ts';
import type { Mamba3SisoInputs, Problem } from '../../spec/families.ts';
import type { Tensor } from '../../spec/tensor.ts';
import { circularDistance, compareWithReference } from '../../suite/compare.ts';
import { expectedOf } from '../../suite/pipeline.ts';

const t = (data: number[], shape: number[]): Tensor => ({ data: Float32Array.from(data), shape });

/** One head, one Q/K head, P = 1, N = 2, A = 1, L = data length; everything else neutral. */
function tiny(overrides: Partial<Mamba3SisoInputs> & { L: number }): Mamba3SisoInputs {
  const { L, ...rest } = overrides;
  return {
    Q: t(new Array(2 * L).fill(0), [1, L, 1, 2]),
    K: t(new Array(2 * L).fill(0), [1, L, 1, 2]),
    V: t(new Array(L).fill(0), [1, L, 1, 1]),
    ADT: t(new Array(L).fill(0), [1, 1, L]),
    DT: t(new Array(L).fill(1), [1, 1, L]),
    Trap: t(new Array(L).fill(0), [1, 1, L]),
    QBias: t([0, 0], [1, 2]),
    KBias: t([0, 0], [1, 2]),
    Angles: t(new Array(L).fill(0), [1, L, 1, 1]),
    ...rest,
  };
}

describe('mamba3-siso reference by hand', () => {
  it('trapezoid: λ = ½ mixes the previous token (its k and v) and the current one; D before the gate', () => {
    // DT = 1, ADT = 0 (α = 1), Trap = 0 (λ = ½: β = γ = ½), no rotation.
    // t=0: S = ½·2·[1, 0] = [1, 0], y = S·q = 1 (+ D·v = 0.5·2 = 1 → 2).
    // t=1: S = [1, 0] + ½·ṽ(2)·k̃([1, 0]) + ½·4·[0, 1] = [2, 2], y = S·[0, 1] = 2 (+ 0.5·4 → 4).
    const inputs = tiny({ L: 2, Q: t([1, 0, 0, 1], [1, 2, 1, 2]), K: t([1, 0, 0, 1], [1, 2, 1, 2]), V: t([2, 4], [1, 2, 1, 1]), D: t([0.5], [1]) });
    const { outputs } = mamba3Siso(inputs);
    expect(Array.from(outputs.y.data)).toEqual([2, 4]);
    expect(Array.from(outputs.finalSsmState.data)).toEqual([2, 2]);
    expect(Array.from(outputs.finalKState.data)).toEqual([0, 1]);
    expect(Array.from(outputs.finalVState.data)).toEqual([4]);
    expect(Array.from(outputs.finalAngleState.data)).toEqual([0]);
    // The gate multiplies after D: z = 1 gives silu(1) = 1/(1 + e^−1) times the same sums.
    const gated = mamba3Siso({ ...inputs, Z: t([1, 1], [1, 2, 1, 1]) }).outputs.y.data;
    const silu1 = 1 / (1 + Math.exp(-1));
    expect(gated[0]).toBeCloseTo(2 * silu1, 15);
    expect(gated[1]).toBeCloseTo(4 * silu1, 15);
  });

  it('the input states are the previous token at t = 0; β = (1 − λ)·DT·α with α = exp(ADT)', () => {
    // ADT = ln 2 stored in float32: α = exp(fround(ln 2)); λ = ½, DT = 1: β = α/2, γ = ½.
    const adt = Math.fround(Math.LN2);
    const alpha = Math.exp(adt);
    const inputs = tiny({
      L: 1,
      Q: t([1, 1], [1, 1, 1, 2]),
      K: t([0, 1], [1, 1, 1, 2]),
      V: t([3], [1, 1, 1, 1]),
      ADT: t([adt], [1, 1, 1]),
      ssmState: t([1, -1], [1, 1, 1, 2]),
      kState: t([2, 0], [1, 1, 2]),
      vState: t([5], [1, 1, 1]),
    });
    const { outputs } = mamba3Siso(inputs);
    // S = α·[1, −1] + (α/2)·5·[2, 0] + ½·3·[0, 1] = [6α, −α + 1.5]; y = S·[1, 1] = 5α + 1.5.
    expect(outputs.finalSsmState.data[0]).toBeCloseTo(6 * alpha, 14);
    expect(outputs.finalSsmState.data[1]).toBeCloseTo(-alpha + 1.5, 14);
    expect(outputs.y.data[0]).toBeCloseTo(5 * alpha + 1.5, 14);
  });

  it('rotation: θ = π·tanh(20)·½ = π/2 turns the pair (q0, q1) into (−q1, q0); the kept key is the rotated one', () => {
    // tanh(20) is 1 in float64; Trap = 40: λ = 1 (β = 0, γ = DT = ½).
    const base = { L: 1, K: t([1, 0], [1, 1, 1, 2]), V: t([1], [1, 1, 1, 1]), DT: t([0.5], [1, 1, 1]), Trap: t([40], [1, 1, 1]), Angles: t([20], [1, 1, 1, 1]) };
    const a = mamba3Siso(tiny({ ...base, Q: t([1, 0], [1, 1, 1, 2]) })).outputs;
    // k̂ = (cos, sin)·1 = (0, 1); S = ½·[0, 1]; q̂ = (0, 1): y = ½.
    expect(a.finalAngleState.data[0]).toBeCloseTo(Math.PI / 2, 15);
    expect(a.y.data[0]).toBeCloseTo(0.5, 15);
    expect(a.finalKState.data[0]).toBeCloseTo(0, 15);
    expect(a.finalKState.data[1]).toBeCloseTo(1, 15);
    // q = (0, 1) rotates to (−1, 0), orthogonal to S: y = 0.
    const b = mamba3Siso(tiny({ ...base, Q: t([0, 1], [1, 1, 1, 2]) })).outputs;
    expect(Math.abs(b.y.data[0])).toBeLessThan(1e-15);
  });

  it('pairs past A are not rotated (identity), and Q/K head g serves V heads in blocks ⌊h / (H/G)⌋', () => {
    // H = 2 V heads, G = 2 Q/K heads, N = 4, A = 1: the second pair stays as it is.
    const L = 1;
    const inputs: Mamba3SisoInputs = {
      Q: t([0, 0, 1, 0, 0, 0, 0, 1], [1, L, 2, 4]),
      K: t([0, 0, 1, 0, 0, 0, 0, 1], [1, L, 2, 4]),
      V: t([1, 1], [1, L, 2, 1]),
      ADT: t([0, 0], [1, 2, L]),
      DT: t([1, 1], [1, 2, L]),
      Trap: t([40, 40], [1, 2, L]),
      QBias: t(new Array(8).fill(0), [2, 4]),
      KBias: t(new Array(8).fill(0), [2, 4]),
      Angles: t([20, 20], [1, L, 2, 1]),
    };
    const { outputs } = mamba3Siso(inputs);
    // Head 0 reads Q/K head 0 = (0, 0, 1, 0): S = k = (0, 0, 1, 0), y = q·k = 1; head 1 reads Q/K head 1.
    expect(Array.from(outputs.y.data)).toEqual([1, 1]);
    // θ = π rotates the first pair (zero, so ±0) and would turn (1, 0) into (−1, 0): the second pair is kept.
    expect(Array.from(outputs.finalKState.data.slice(0, 4), (v) => v + 0)).toEqual([0, 0, 1, 0]);
    expect(Array.from(outputs.finalKState.data.slice(4), (v) => v + 0)).toEqual([0, 0, 0, 1]);
  });
});

describe('mamba3-siso angle state', () => {
  it('wraps past 2π back to near 0, and below 0 up to near 2π, exactly in real 2π', () => {
    const up = mamba3Siso(tiny({ L: 1, DT: t([0.01], [1, 1, 1]), Angles: t([20], [1, 1, 1, 1]), angleState: t([6.28], [1, 1, 1]) })).outputs;
    expect(up.finalAngleState.data[0]).toBeCloseTo(Math.fround(6.28) + Math.fround(0.01) * Math.PI - 2 * Math.PI, 14);
    expect(up.finalAngleState.data[0]).toBeGreaterThanOrEqual(0);
    const down = mamba3Siso(tiny({ L: 1, DT: t([0.01], [1, 1, 1]), Angles: t([-20], [1, 1, 1, 1]), angleState: t([0.001], [1, 1, 1]) })).outputs;
    expect(down.finalAngleState.data[0]).toBeCloseTo(Math.fround(0.001) - Math.fround(0.01) * Math.PI + 2 * Math.PI, 14);
    expect(down.finalAngleState.data[0]).toBeLessThan(2 * Math.PI);
    // An input angle several turns out is reduced by as many turns.
    const far = mamba3Siso(tiny({ L: 1, angleState: t([-20], [1, 1, 1]) })).outputs;
    expect(far.finalAngleState.data[0]).toBeCloseTo(-20 + 4 * 2 * Math.PI, 14);
  });

  it('is compared by circular distance: 2π − ε where the reference has ε/… passes, a quarter turn fails', () => {
    expect(circularDistance(2 * Math.PI - 1e-6, 1e-6)).toBeCloseTo(2e-6, 12);
    expect(circularDistance(0.5, 0.25)).toBeCloseTo(0.25, 15);
    const problem: Problem<'mamba3-siso'> = {
      family: 'mamba3-siso',
      inputs: tiny({ L: 1, DT: t([0.01], [1, 1, 1]), Angles: t([-20], [1, 1, 1, 1]), angleState: t([0.0314159], [1, 1, 1]) }),
      options: {},
    };
    const expected = expectedOf(problem);
    const theta = expected.outputs.finalAngleState.data[0];
    expect(Math.min(theta, 2 * Math.PI - theta)).toBeLessThan(1e-5); // right at the wrap
    const outputs = (angle: number) => ({ ...Object.fromEntries(Object.entries(expected.outputs).map(([k, v]) => [k, { data: Float32Array.from(v.data), shape: v.shape }])), finalAngleState: { data: Float32Array.of(angle), shape: [1, 1, 1] } });
    const declaration = { precision: 'float32' as const };
    // The other side of the wrap, within float32 rounding of the angle: passes.
    const across = theta < 1 ? Math.fround(theta + 2 * Math.PI) : Math.fround(theta - 2 * Math.PI);
    expect(compareWithReference(problem, outputs(across), expected, declaration).passed).toBe(true);
    expect(compareWithReference(problem, outputs(Math.fround(theta + Math.PI / 2)), expected, declaration).passed).toBe(false);
  });
});

describe('mamba3-siso step and reductions', () => {
  it('the step equals a run of one token from the same four states', () => {
    const L = 1;
    const run = tiny({
      L,
      Q: t([0.3, -0.7], [1, L, 1, 2]),
      K: t([0.9, 0.2], [1, L, 1, 2]),
      V: t([1.5], [1, L, 1, 1]),
      ADT: t([-0.3], [1, 1, L]),
      DT: t([0.2], [1, 1, L]),
      Trap: t([0.4], [1, 1, L]),
      Angles: t([1.1], [1, L, 1, 1]),
      Z: t([0.7], [1, L, 1, 1]),
      D: t([-0.5], [1]),
      angleState: t([6.1], [1, 1, 1]),
      ssmState: t([0.25, -1], [1, 1, 1, 2]),
      kState: t([0.5, 0.5], [1, 1, 2]),
      vState: t([-2], [1, 1, 1]),
    });
    const whole = mamba3Siso(run).outputs;
    const step = mamba3SisoStep({
      ...run,
      Q: t([0.3, -0.7], [1, 1, 2]),
      K: t([0.9, 0.2], [1, 1, 2]),
      V: t([1.5], [1, 1, 1]),
      ADT: t([-0.3], [1, 1]),
      DT: t([0.2], [1, 1]),
      Trap: t([0.4], [1, 1]),
      Angles: t([1.1], [1, 1, 1]),
      Z: t([0.7], [1, 1, 1]),
      angleState: run.angleState!,
      ssmState: run.ssmState!,
      kState: run.kState!,
      vState: run.vState!,
    }).outputs;
    expect(Array.from(step.y.data)).toEqual(Array.from(whole.y.data));
    expect(Array.from(step.angleState.data)).toEqual(Array.from(whole.finalAngleState.data));
    expect(Array.from(step.ssmState.data)).toEqual(Array.from(whole.finalSsmState.data));
    expect(Array.from(step.kState.data)).toEqual(Array.from(whole.finalKState.data));
    expect(Array.from(step.vState.data)).toEqual(Array.from(whole.finalVState.data));
  });

  it('Angles = 0, Trap → +∞ (λ = 1), no biases and no key/value state reduce it to ssd (Mamba-2)', () => {
    // 2 batches, L = 7, H = 4 heads of P = 2, G = 2, N = 4; ADT = A_h·DT rounded to float32.
    const [batch, L, H, P, G, N] = [2, 7, 4, 2, 2, 4];
    let seed = 7;
    const random = (lo: number, hi: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return lo + ((hi - lo) * seed) / 2 ** 31;
    };
    const fill = (shape: number[], lo: number, hi: number) => t(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => random(lo, hi)), shape);
    const A = fill([H], -2, -0.1);
    const dtBLH = fill([batch, L, H], 0.01, 0.5);
    const DT = t(Array.from({ length: batch * H * L }, (_, i) => {
      const [b, h, s] = [Math.floor(i / (H * L)), Math.floor(i / L) % H, i % L];
      return dtBLH.data[(b * L + s) * H + h];
    }), [batch, H, L]);
    const ADT = t(Array.from(DT.data, (v, i) => Math.fround(v * A.data[Math.floor(i / L) % H])), [batch, H, L]);
    const Q = fill([batch, L, G, N], -1, 1);
    const K = fill([batch, L, G, N], -1, 1);
    const V = fill([batch, L, H, P], -1, 1);
    const Z = fill([batch, L, H, P], -2, 2);
    const D = fill([H], -1, 1);
    const S0 = fill([batch, H, P, N], -1, 1);
    const m3 = reference({
      family: 'mamba3-siso',
      inputs: { Q, K, V, ADT, DT, Trap: t(new Array(batch * H * L).fill(40), [batch, H, L]), QBias: t(new Array(H * N).fill(0), [H, N]), KBias: t(new Array(H * N).fill(0), [H, N]), Angles: t(new Array(batch * L * H).fill(0), [batch, L, H, 1]), D, Z, ssmState: S0 },
      options: {},
    });
    const ssd = reference({ family: 'ssd', inputs: { x: V, dt: dtBLH, A, B: K, C: Q, D, z: Z, initialStates: S0 }, options: { dtSoftplus: false } });
    // exp(fround(A·dt)) against exp(A·dt): a relative difference of ~2^-24 times |A·dt|·L.
    for (let i = 0; i < ssd.outputs.y.data.length; i++) expect(m3.outputs.y.data[i]).toBeCloseTo(ssd.outputs.y.data[i], 5);
    for (let i = 0; i < ssd.outputs.finalStates.data.length; i++) expect(m3.outputs.finalSsmState.data[i]).toBeCloseTo(ssd.outputs.finalStates.data[i], 5);
  });
});
