/**
 * Small cases worked out by hand (L = 0, 1, 2, 3), for every family and option: values, condition
 * scales S and depth scales W. Where Ā = exp(Δ·A) enters, the expected value is the formula
 * evaluated in float64 here, and compared to a relative 1e-15 (W: 1e-14, as it is nudged upward).
 */
import { describe, expect, it } from 'vitest';
import { reference } from '../../reference/index.ts';
import { silu, softplus } from '../../spec/families/selective-scan/discretization.ts';
import type { Problem } from '../../spec/families.ts';
import { tensor } from '../../spec/tensor.ts';

/** Asserts a float64 tensor's values; exactly unless a relative tolerance is given. */
function expectValues(actual: Float64Array, expected: readonly number[], relative = 0): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((want, i) => {
    if (relative === 0) expect(actual[i], `element ${i}`).toBe(want);
    else expect(Math.abs(actual[i] - want), `element ${i}: ${actual[i]} vs ${want}`).toBeLessThanOrEqual(relative * Math.abs(want));
  });
}

/**
 * Asserts depth scales W against their exact values: W is float64 nudged upward each step, so it
 * is never below the exact value and above it by a relative ≤ ~9u per step (1e-13 is ample here).
 */
function expectDepth(actual: Float64Array, exact: readonly number[]): void {
  expect(actual.length).toBe(exact.length);
  exact.forEach((want, i) => {
    expect(actual[i], `W[${i}] ≥ exact`).toBeGreaterThanOrEqual(want);
    expect(actual[i], `W[${i}] near exact`).toBeLessThanOrEqual(want * (1 + 1e-13));
  });
}

const prefix = (L: number) => [1, -2, 4].slice(0, L);

describe('prefix-sum, x = [1, −2, 4] cut to L', () => {
  // [L][exclusive][reverse] → y, S, W
  const cases: { L: number; exclusive: boolean; reverse: boolean; y: number[]; S: number[]; W: number[] }[] = [
    { L: 3, exclusive: false, reverse: false, y: [1, -1, 3], S: [1, 3, 7], W: [0, 1, 4] },
    { L: 3, exclusive: true, reverse: false, y: [0, 1, -1], S: [0, 1, 3], W: [0, 0, 1] },
    // reverse: W_0 = 1·|x_1| + 2·|x_2| = 10, W_1 = 1·|x_2| = 4
    { L: 3, exclusive: false, reverse: true, y: [3, 2, 4], S: [7, 6, 4], W: [10, 4, 0] },
    { L: 3, exclusive: true, reverse: true, y: [2, 4, 0], S: [6, 4, 0], W: [4, 0, 0] },
    { L: 2, exclusive: false, reverse: false, y: [1, -1], S: [1, 3], W: [0, 1] },
    { L: 2, exclusive: true, reverse: false, y: [0, 1], S: [0, 1], W: [0, 0] },
    { L: 2, exclusive: false, reverse: true, y: [-1, -2], S: [3, 2], W: [2, 0] },
    { L: 2, exclusive: true, reverse: true, y: [-2, 0], S: [2, 0], W: [0, 0] },
    ...[false, true].flatMap((reverse) => [
      { L: 1, exclusive: false, reverse, y: [1], S: [1], W: [0] },
      { L: 1, exclusive: true, reverse, y: [0], S: [0], W: [0] },
      { L: 0, exclusive: false, reverse, y: [], S: [], W: [] },
      { L: 0, exclusive: true, reverse, y: [], S: [], W: [] },
    ]),
  ];
  for (const { L, exclusive, reverse, y, S, W } of cases) {
    it(`L = ${L}, exclusive = ${exclusive}, reverse = ${reverse}: y = [${y}]`, () => {
      const result = reference({ family: 'prefix-sum', inputs: { x: tensor(prefix(L), [1, 1, L]) }, options: { exclusive, reverse } });
      expect(result.outputs.y.shape).toEqual([1, 1, L]);
      expectValues(result.outputs.y.data, y);
      expectValues(result.conditionScales.y.data, S);
      expectDepth(result.depthScales.y.data, W);
    });
  }

  it('indexes batch and channels row-major: x (2, 2, 2)', () => {
    const x = tensor([1, 2, 10, 20, 100, 200, 1000, 2000], [2, 2, 2]);
    const result = reference({ family: 'prefix-sum', inputs: { x }, options: { exclusive: false, reverse: false } });
    expectValues(result.outputs.y.data, [1, 3, 10, 30, 100, 300, 1000, 3000]);
  });
});

describe('linear-recurrence, a = [0.5, −1, 2], b = [1, 1, −1] cut to L, h0 = 4 or absent', () => {
  const a = (L: number) => [0.5, -1, 2].slice(0, L);
  const b = (L: number) => [1, 1, -1].slice(0, L);
  const cases: { L: number; reverse: boolean; h0?: number; h: number[]; S: number[]; W: number[]; last: [number, number, number] }[] = [
    // forward: h = 0.5·4 + 1 = 3, −3 + 1 = −2, −4 − 1 = −5; S = 0.5·4 + 1 = 3, 3 + 1 = 4, 8 + 1 = 9; W = 0.5·4 = 2, 1·(2 + 3) = 5, 2·(5 + 4) = 18
    { L: 3, reverse: false, h0: 4, h: [3, -2, -5], S: [3, 4, 9], W: [2, 5, 18], last: [-5, 9, 18] },
    { L: 3, reverse: false, h: [1, 0, -1], S: [1, 2, 5], W: [0, 1, 6], last: [-1, 5, 6] },
    // reverse: h_2 = 2·4 − 1 = 7, h_1 = −7 + 1 = −6, h_0 = −3 + 1 = −2; S_2 = 9, S_1 = 10, S_0 = 6; W_2 = 8, W_1 = 8 + 9 = 17, W_0 = 0.5·(17 + 10)
    { L: 3, reverse: true, h0: 4, h: [-2, -6, 7], S: [6, 10, 9], W: [13.5, 17, 8], last: [-2, 6, 13.5] },
    { L: 3, reverse: true, h: [2, 2, -1], S: [2, 2, 1], W: [1.5, 1, 0], last: [2, 2, 1.5] },
    { L: 2, reverse: false, h0: 4, h: [3, -2], S: [3, 4], W: [2, 5], last: [-2, 4, 5] },
    // reverse L = 2: h_1 = −4 + 1 = −3, h_0 = −1.5 + 1 = −0.5; S_1 = 5, S_0 = 3.5; W_1 = 4, W_0 = 0.5·(4 + 5)
    { L: 2, reverse: true, h0: 4, h: [-0.5, -3], S: [3.5, 5], W: [4.5, 4], last: [-0.5, 3.5, 4.5] },
    ...[false, true].flatMap((reverse) => [
      { L: 1, reverse, h0: 4, h: [3], S: [3], W: [2], last: [3, 3, 2] as [number, number, number] },
      { L: 1, reverse, h: [1], S: [1], W: [0], last: [1, 1, 0] as [number, number, number] },
      { L: 0, reverse, h0: -4, h: [], S: [], W: [], last: [-4, 4, 0] as [number, number, number] },
      { L: 0, reverse, h: [], S: [], W: [], last: [0, 0, 0] as [number, number, number] },
    ]),
  ];
  for (const { L, reverse, h0, h, S, W, last } of cases) {
    it(`L = ${L}, reverse = ${reverse}, h0 = ${h0 ?? 'absent'}: h = [${h}], lastState = ${last[0]}`, () => {
      const inputs = {
        a: tensor(a(L), [1, 1, L]),
        b: tensor(b(L), [1, 1, L]),
        ...(h0 === undefined ? {} : { h0: tensor([h0], [1, 1]) }),
      };
      const result = reference({ family: 'linear-recurrence', inputs, options: { reverse } });
      expectValues(result.outputs.h.data, h);
      expectValues(result.conditionScales.h.data, S);
      expectDepth(result.depthScales.h.data, W);
      expectValues(result.outputs.lastState.data, [last[0]]);
      expectValues(result.conditionScales.lastState.data, [last[1]]);
      expectDepth(result.depthScales.lastState.data, [last[2]]);
    });
  }
});

describe('lti-ssm, Abar = [0.5, −1], Bbar = [1, 2], C = [1, 3], D = 2 or absent, u = [1, 2, −1] cut to L', () => {
  // h_0 = [1, 2]; h_1 = [0.5 + 2, −2 + 4] = [2.5, 2]; h_2 = [1.25 − 1, −2 − 2] = [0.25, −4]
  // y = Σ C·h + D·u = 1 + 6 + 2 = 9; 2.5 + 6 + 4 = 12.5; 0.25 − 12 − 2 = −13.75
  // S_n = [1, 2], [0.5 + 2, 2 + 4] = [2.5, 6], [1.25 + 1, 6 + 2] = [2.25, 8]; S(y) = Σ|C|·S + |D·u| = 9, 24.5, 28.25
  // W_n = [0, 0], [0.5·1, 1·2] = [0.5, 2], [0.5·(0.5 + 2.5), 1·(2 + 6)] = [1.5, 8]; W(y) = Σ|C|·W = 0, 6.5, 25.5
  const withD = { y: [9, 12.5, -13.75], S: [9, 24.5, 28.25], W: [0, 6.5, 25.5] };
  const withoutD = { y: [7, 8.5, -11.75], S: [7, 20.5, 26.25], W: [0, 6.5, 25.5] };
  for (const L of [0, 1, 2, 3]) {
    for (const [label, expected] of [['D = 2', withD], ['no D', withoutD]] as const) {
      it(`L = ${L}, ${label}: y = [${expected.y.slice(0, L)}]`, () => {
        const inputs = {
          Abar: tensor([0.5, -1], [1, 2]),
          Bbar: tensor([1, 2], [1, 2]),
          C: tensor([1, 3], [1, 2]),
          u: tensor([1, 2, -1].slice(0, L), [1, 1, L]),
          ...(label === 'D = 2' ? { D: tensor([2], [1]) } : {}),
        };
        const result = reference({ family: 'lti-ssm', inputs, options: {} });
        expectValues(result.outputs.y.data, expected.y.slice(0, L));
        expectValues(result.conditionScales.y.data, expected.S.slice(0, L));
        expectDepth(result.depthScales.y.data, expected.W.slice(0, L));
      });
    }
  }
});

describe('selective-scan', () => {
  const e = Math.exp;
  const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

  it('softplus follows PyTorch: log1p(exp(x)) up to 20 inclusive, x above; silu(z) = z·σ(z)', () => {
    expect(softplus(0)).toBe(Math.log1p(1));
    expect(softplus(20)).toBe(Math.log1p(Math.exp(20)));
    expect(softplus(20.5)).toBe(20.5);
    expect(softplus(-30)).toBe(Math.log1p(Math.exp(-30)));
    expect(silu(0)).toBe(0);
    expect(silu(1)).toBeCloseTo(sigmoid(1), 15);
    expect(silu(-1000)).toBe(-0);
  });

  /** A (1, 1, L) problem with N = 2: A = [−1, 0], B = [1, 2], C = [1, 1] time-invariant. */
  const base = (L: number, extra: Record<string, unknown>, deltaSoftplus = false) =>
    ({
      family: 'selective-scan',
      inputs: {
        u: tensor([1, 2, 4].slice(0, L), [1, 1, L]),
        delta: tensor([0.5, 0.25, 0.125].slice(0, L), [1, 1, L]),
        A: tensor([-1, 0], [1, 2]),
        B: tensor([1, 2], [1, 2]),
        C: tensor([1, 1], [1, 2]),
        ...extra,
      },
      options: { deltaSoftplus },
    }) as Problem<'selective-scan'>;

  it('L = 3, no options: Ā = [e^{−Δ}, 1], x = Δ·B·u, y = Σ C·h', () => {
    // Δ·B·u: t0 = 0.5·[1, 2]·1 = [0.5, 1]; t1 = 0.25·[1, 2]·2 = [0.5, 1]; t2 = 0.125·[1, 2]·4 = [0.5, 1]
    const h0 = [0.5, 1];
    const h1 = [e(-0.25) * 0.5 + 0.5, 2];
    const h2 = [e(-0.125) * h1[0] + 0.5, 3];
    const result = reference(base(3, {}));
    expectValues(result.outputs.y.data, [h0[0] + h0[1], h1[0] + h1[1], h2[0] + h2[1]], 1e-15);
    expectValues(result.outputs.lastState.data, h2, 1e-15);
    // All terms are non-negative: S equals y; W_n = Ā·(W + S): W(y_1) = e^{−0.25}·0.5 + 1, W(y_2) = e^{−0.125}·(W_{1,0} + h1[0]) + (1 + 2)
    expectValues(result.conditionScales.y.data, Array.from(result.outputs.y.data));
    // (expected from float64 formulas here, so two-sided; the nudge upward is ≤ ~1e-15 relative)
    expectValues(result.depthScales.y.data, [0, e(-0.25) * 0.5 + 1, e(-0.125) * (e(-0.25) * 0.5 + h1[0]) + 3], 1e-14);
  });

  it('L = 2 with D and z: y = (Σ C·h + D·u)·silu(z), S and W through |silu(z)|', () => {
    const result = reference(base(2, { D: tensor([2], [1]), z: tensor([1, -1], [1, 1, 2]) }));
    const inner = [1.5 + 2 * 1, e(-0.25) * 0.5 + 0.5 + 2 + 2 * 2];
    expectValues(result.outputs.y.data, [inner[0] * silu(1), inner[1] * silu(-1)], 1e-15);
    expectValues(result.conditionScales.y.data, [inner[0] * sigmoid(1), inner[1] * Math.abs(silu(-1))], 1e-15);
    expectValues(result.depthScales.y.data, [0, (e(-0.25) * 0.5 + 1) * Math.abs(silu(-1))], 1e-14);
  });

  it('L = 1 with h0 = [1, −1]: h = Ā·h0 + Δ·B·u, S = Ā·|h0| + |Δ·B·u|, W = Ā·|h0|', () => {
    const result = reference(base(1, { h0: tensor([1, -1], [1, 1, 2]) }));
    const h = [e(-0.5) + 0.5, -1 + 1];
    expectValues(result.outputs.y.data, [h[0] + h[1]], 1e-15);
    expectValues(result.outputs.lastState.data, h, 1e-15);
    expectValues(result.conditionScales.lastState.data, [e(-0.5) + 0.5, 2], 1e-15);
    expectValues(result.depthScales.lastState.data, [e(-0.5), 1], 1e-14);
    expectValues(result.conditionScales.y.data, [e(-0.5) + 0.5 + 2], 1e-15);
  });

  it('L = 2 with deltaSoftplus and deltaBias: Δ\' = softplus(0.5 − 0.5) = ln 2, then softplus(30 − 0.5) = 29.5 (threshold)', () => {
    const problem = base(2, { delta: tensor([0.5, 30], [1, 1, 2]), deltaBias: tensor([-0.5], [1]) }, true);
    const result = reference(problem);
    const ln2 = Math.log1p(1);
    const h0 = [ln2 * 1, ln2 * 2];
    const h1 = [e(-29.5) * h0[0] + 29.5 * 2, h0[1] + 29.5 * 4];
    expectValues(result.outputs.y.data, [h0[0] + h0[1], h1[0] + h1[1]], 1e-15);
    expectValues(result.outputs.lastState.data, h1, 1e-15);
    // The same inputs without softplus: Δ' = 0 then 29.5; at t = 0 nothing enters the state.
    const plain = reference({ ...problem, options: { deltaSoftplus: false } });
    expectValues(plain.outputs.y.data, [0, 29.5 * 2 + 29.5 * 4], 1e-15);
  });

  it('L = 0: y is empty and lastState is h0 (S = |h0|, W = 0), or zeros', () => {
    const withH0 = reference(base(0, { h0: tensor([3, -2], [1, 1, 2]) }));
    expect(withH0.outputs.y.shape).toEqual([1, 1, 0]);
    expectValues(withH0.outputs.lastState.data, [3, -2]);
    expectValues(withH0.conditionScales.lastState.data, [3, 2]);
    expectDepth(withH0.depthScales.lastState.data, [0, 0]);
    expectValues(reference(base(0, {})).outputs.lastState.data, [0, 0]);
  });

  it('time-varying B and C (batch, N, L): B_t and C_t per token', () => {
    // N = 1, A = 0 (Ā = 1), Δ = 1, u = 1: h = 1, 1 + 3 = 4; y = 2·1, 0.5·4
    const result = reference({
      family: 'selective-scan',
      inputs: {
        u: tensor([1, 1], [1, 1, 2]),
        delta: tensor([1, 1], [1, 1, 2]),
        A: tensor([0], [1, 1]),
        B: tensor([1, 3], [1, 1, 2]),
        C: tensor([2, 0.5], [1, 1, 2]),
      },
      options: { deltaSoftplus: false },
    });
    expectValues(result.outputs.y.data, [2, 2]);
    expectValues(result.outputs.lastState.data, [4]);
  });

  it('grouped B (batch, G, N, L): channel d reads group ⌊d / (dim / G)⌋', () => {
    // dim = 4, N = 1, L = 1, A = 0, Δ = 1, u = 1, C = 1: y_d = B of d's group
    const run = (B: number[], G: number) =>
      reference({
        family: 'selective-scan',
        inputs: {
          u: tensor([1, 1, 1, 1], [1, 4, 1]),
          delta: tensor([1, 1, 1, 1], [1, 4, 1]),
          A: tensor([0, 0, 0, 0], [4, 1]),
          B: tensor(B, [1, G, 1, 1]),
          C: tensor(Array(G).fill(1), [1, G, 1, 1]),
        },
        options: { deltaSoftplus: false },
      }).outputs.y.data;
    expectValues(run([10], 1), [10, 10, 10, 10]);
    expectValues(run([10, 20], 2), [10, 10, 20, 20]);
    expectValues(run([10, 20, 30, 40], 4), [10, 20, 30, 40]);
  });
});
