/**
 * The reference against an independent exact evaluation: dyadic rational arithmetic on BigInt
 * (test/reference/dyadic.ts), on small seeded inputs including hard cases (massive cancellation,
 * L in the hundreds, a near 1, mixed magnitudes).
 *
 * The bound asserted for every element, proved in reference/double-double.ts and
 * recurrence-state.ts: each double-double step errs by ≤ 3u²·S_k (u = 2^-53), decayed to
 * Σ_k |a_{k+1}···a_t|·S_k = W_t + S_t; a read-out over N states adds ≤ 4u²·(N + 2)·S; then one
 * final rounding:
 *
 *     |reference − exact| ≤ ½·ulp(reference) + 2^-104·(W + (N + 2)·S)
 *
 * i.e. correctly rounded up to a term 2^-104 relative to the scales, which matters only under
 * cancellation far beyond float64's own 2^-53. Measured over these cases: see the report test.
 */
import { describe, expect, it } from 'vitest';
import { linearRecurrence } from '../../reference/linear-recurrence.ts';
import { ltiSsm } from '../../reference/lti-ssm.ts';
import { prefixSum } from '../../reference/prefix-sum.ts';
import { DiagonalChannel } from '../../reference/diagonal-channel.ts';
import { selectiveScan, selectiveScanFactors, selectiveScanTokens } from '../../reference/selective-scan.ts';
import { fastTwoSum, twoProd, twoSum, DoubleDouble, mulAdd, toNumber as ddToNumber } from '../../reference/double-double.ts';
import type { SelectiveScanInputs, SelectiveScanOptions } from '../../spec/families.ts';
import { dimensionsOf } from '../../spec/shapes.ts';
import type { Tensor } from '../../spec/tensor.ts';
import { abs, add, distance, equals, fromNumber, mul, sub, toNumber, ulp, ZERO, type Dyadic } from './dyadic.ts';
import { filled, float32, seeded, type Random } from './random-inputs.ts';

/** What the comparisons saw: elements, how many were correctly rounded, the largest excess over ½ ulp in units of the bound's scale term. */
interface Tally {
  elements: number;
  correctlyRounded: number;
  worstExcess: number;
}
const tally: Tally = { elements: 0, correctlyRounded: 0, worstExcess: 0 };

/** Asserts the bound for one element and tallies it. */
function expectNear(where: string, reference: number, exact: Dyadic, S: number, W: number, N = 1): void {
  const scaleTerm = 2 ** -104 * (W + (N + 2) * S);
  const error = distance(reference, exact);
  // distance() rounds once (relative 2^-53): the factor keeps the comparison exact-safe.
  const allowed = (0.5 * ulp(reference) + scaleTerm) * (1 + 2 ** -50);
  if (!(error <= allowed)) {
    expect.fail(`${where}: |reference − exact| = ${error} > ½ulp + 2^-104·(W + (N+2)S) = ${allowed} (ref ${reference}, exact ≈ ${toNumber(exact)})`);
  }
  tally.elements++;
  if (reference === toNumber(exact)) tally.correctlyRounded++;
  else tally.worstExcess = Math.max(tally.worstExcess, (error - 0.5 * ulp(reference)) / (2 ** -104 * (W + (N + 2) * S)));
}

/**
 * The scales against their exact values: S (double-double, rounded once) within ½ ulp + the
 * double-double term; W (float64 nudged upward) never below, and above by a relative ≤ 9u per step.
 */
function expectScales(where: string, S: number, exactS: Dyadic, W: number, exactW: Dyadic): void {
  const sTolerance = (0.5 * ulp(S) + 2 ** -104 * (W + 3 * S)) * (1 + 2 ** -50);
  if (!(distance(S, exactS) <= sTolerance)) expect.fail(`${where}: S = ${S}, exact ≈ ${toNumber(exactS)}`);
  const below = toNumber(sub(fromNumber(W), exactW));
  if (below < 0 || W > toNumber(exactW) * (1 + 9 * 2 ** -53 * (L_MAX + 2))) {
    expect.fail(`${where}: W = ${W}, exact ≈ ${toNumber(exactW)} (must not be below, nor far above)`);
  }
}

// ------------------------------------------------------------ inputs

type Regime = 'generic' | 'cancellation' | 'mixed-magnitudes' | 'near-one' | 'long';

/** Sequence values b_t / x_t of a regime for one channel of length L. */
function sequence(random: Random, regime: Regime, L: number): number[] {
  switch (regime) {
    case 'generic':
    case 'near-one':
    case 'long':
      return Array.from({ length: L }, () => float32(random, 0.01, 1));
    case 'mixed-magnitudes':
      return Array.from({ length: L }, () => float32(random, 1e-20, 1e20));
    case 'cancellation': {
      // Large terms whose running sum returns near zero: each big x is followed, a little later,
      // by its negation, with small terms in between.
      const values: number[] = [];
      while (values.length < L) {
        const big = float32(random, 1e6, 1e12);
        values.push(big, float32(random, 1e-6, 1), float32(random, 1e-12, 1e-6), -big);
      }
      return values.slice(0, L);
    }
  }
}

/** Decays a_t of a regime. */
function decays(random: Random, regime: Regime, L: number): number[] {
  switch (regime) {
    case 'near-one':
      return Array.from({ length: L }, () => Math.fround(1 - 2 ** -24 * Math.floor(1 + 8 * random())));
    case 'cancellation':
      return Array.from({ length: L }, () => (random() < 0.8 ? 1 : -1));
    case 'mixed-magnitudes':
      return Array.from({ length: L }, () => float32(random, 1e-3, 3));
    default:
      return Array.from({ length: L }, () => float32(random, 0.5, 1.01));
  }
}

/** A (batch, dim, L) tensor, each channel filled by `channel`. */
function sequenceTensor(batch: number, dim: number, L: number, channel: () => number[]): Tensor {
  const values: number[] = [];
  for (let c = 0; c < batch * dim; c++) values.push(...channel());
  return filled([batch, dim, L], (i) => values[i]);
}

const REGIMES: readonly Regime[] = ['generic', 'cancellation', 'mixed-magnitudes', 'near-one', 'long'];
const L_MAX = 300;
const lengthOf = (regime: Regime): number => (regime === 'long' ? L_MAX : 24);

// ------------------------------------------------------------ exact evaluations

/** Processing order of a channel: 0 … L−1, or reversed. */
function order(L: number, reverse: boolean): number[] {
  const times = Array.from({ length: L }, (_, s) => s);
  return reverse ? times.reverse() : times;
}

describe('double-double error-free transformations', () => {
  it('TwoSum, FastTwoSum and TwoProd are exact (incl. operands beyond 2^996, where the split rescales)', () => {
    const random = seeded('eft');
    const out = new DoubleDouble();
    for (let k = 0; k < 500; k++) {
      const a = (random() - 0.5) * 2 ** Math.floor(random() * 200 - 100);
      const b = (random() - 0.5) * 2 ** Math.floor(random() * 200 - 100);
      twoSum(a, b, out);
      expect(out.hi).toBe(a + b);
      expect(toNumber(add(fromNumber(out.hi), fromNumber(out.lo)))).toBe(a + b);
      expect(equals(add(fromNumber(out.hi), fromNumber(out.lo)), add(fromNumber(a), fromNumber(b)))).toBe(true);
      const [big, small] = Math.abs(a) >= Math.abs(b) ? [a, b] : [b, a];
      fastTwoSum(big, small, out);
      expect(equals(add(fromNumber(out.hi), fromNumber(out.lo)), add(fromNumber(a), fromNumber(b)))).toBe(true);
      twoProd(a, b, out);
      expect(equals(add(fromNumber(out.hi), fromNumber(out.lo)), mul(fromNumber(a), fromNumber(b)))).toBe(true);
      const huge = (1 + random()) * 2 ** 1000;
      const tiny = (random() - 0.5) * 2 ** -40;
      twoProd(huge, tiny, out);
      expect(equals(add(fromNumber(out.hi), fromNumber(out.lo)), mul(fromNumber(huge), fromNumber(tiny)))).toBe(true);
    }
  });

  it('mulAdd keeps h ← a·h + b within 3u²·(W + S) over 1000 steps', () => {
    const random = seeded('mulAdd');
    const h = new DoubleDouble();
    let exact: Dyadic = ZERO;
    let S = 0;
    let W = 0;
    for (let t = 0; t < 1000; t++) {
      const a = 0.9 + 0.2 * random();
      const b = (random() - 0.5) * 2 ** Math.floor(random() * 40 - 20);
      mulAdd(h, a, b);
      exact = add(mul(fromNumber(a), exact), fromNumber(b));
      W = a * (W + S);
      S = a * S + Math.abs(b);
      const error = Math.abs(toNumber(add(add(fromNumber(h.hi), fromNumber(h.lo)), mul(fromNumber(-1), exact))));
      expect(error).toBeLessThanOrEqual(3 * 2 ** -106 * (W + S) * 1.001);
    }
    expect(ddToNumber(h)).toBe(toNumber(exact));
  });
});

describe('reference against exact dyadic arithmetic', () => {
  for (const regime of REGIMES) {
    const L = lengthOf(regime);

    it(`prefix-sum, every option (${regime}, L = ${L})`, () => {
      const random = seeded(`prefix-sum/${regime}`);
      const [batch, dim] = [2, 2];
      const x = sequenceTensor(batch, dim, L, () => sequence(random, regime, L));
      for (const exclusive of [false, true]) {
        for (const reverse of [false, true]) {
          const result = prefixSum({ x }, { exclusive, reverse });
          for (let c = 0; c < batch * dim; c++) {
            let sum: Dyadic = ZERO;
            for (const t of order(L, reverse)) {
              const i = c * L + t;
              if (!exclusive) sum = add(sum, fromNumber(x.data[i]));
              expectNear(`prefix-sum ${regime} exclusive=${exclusive} reverse=${reverse} [${c}, ${t}]`, result.outputs.y.data[i], sum, result.conditionScales.y.data[i], result.depthScales.y.data[i]);
              if (exclusive) sum = add(sum, fromNumber(x.data[i]));
            }
          }
        }
      }
    });

    it(`linear-recurrence, forward and reverse, with and without h0, and its scales S and W (${regime}, L = ${L})`, () => {
      const random = seeded(`linear-recurrence/${regime}`);
      const [batch, dim] = [2, 2];
      const a = sequenceTensor(batch, dim, L, () => decays(random, regime, L));
      const b = sequenceTensor(batch, dim, L, () => sequence(random, regime, L));
      const h0 = filled([batch, dim], () => float32(random, 0.1, 10));
      for (const reverse of [false, true]) {
        for (const withH0 of [false, true]) {
          const result = linearRecurrence(withH0 ? { a, b, h0 } : { a, b }, { reverse });
          for (let c = 0; c < batch * dim; c++) {
            let h = withH0 ? fromNumber(h0.data[c]) : ZERO;
            let S = abs(h);
            let W = ZERO;
            for (const t of order(L, reverse)) {
              const i = c * L + t;
              const absA = abs(fromNumber(a.data[i]));
              W = mul(absA, add(W, S));
              S = add(mul(absA, S), abs(fromNumber(b.data[i])));
              h = add(mul(fromNumber(a.data[i]), h), fromNumber(b.data[i]));
              expectScales(`linear-recurrence ${regime} [${c}, ${t}]`, result.conditionScales.h.data[i], S, result.depthScales.h.data[i], W);
              expectNear(`linear-recurrence ${regime} reverse=${reverse} h0=${withH0} [${c}, ${t}]`, result.outputs.h.data[i], h, result.conditionScales.h.data[i], result.depthScales.h.data[i]);
            }
            expectNear(`linear-recurrence lastState [${c}]`, result.outputs.lastState.data[c], h, result.conditionScales.lastState.data[c], result.depthScales.lastState.data[c]);
          }
        }
      }
    });

    it(`lti-ssm, with and without D (${regime}, L = ${L})`, () => {
      const random = seeded(`lti-ssm/${regime}`);
      const [batch, dim, N] = [2, 2, 3];
      const u = sequenceTensor(batch, dim, L, () => sequence(random, regime, L));
      const Abar = filled([dim, N], () => decays(random, regime, 1)[0]);
      const Bbar = filled([dim, N], () => float32(random, 0.1, 2));
      const C = filled([dim, N], () => float32(random, 0.1, 2));
      const D = filled([dim], () => float32(random, 0.1, 2));
      for (const withD of [false, true]) {
        const result = ltiSsm(withD ? { Abar, Bbar, C, D, u } : { Abar, Bbar, C, u }, {});
        for (let bb = 0; bb < batch; bb++) {
          for (let d = 0; d < dim; d++) {
            const h: Dyadic[] = Array.from({ length: N }, () => ZERO);
            for (let t = 0; t < L; t++) {
              const i = (bb * dim + d) * L + t;
              const ut = fromNumber(u.data[i]);
              let y = withD ? mul(fromNumber(D.data[d]), ut) : ZERO;
              for (let n = 0; n < N; n++) {
                h[n] = add(mul(fromNumber(Abar.data[d * N + n]), h[n]), mul(fromNumber(Bbar.data[d * N + n]), ut));
                y = add(y, mul(fromNumber(C.data[d * N + n]), h[n]));
              }
              expectNear(`lti-ssm ${regime} D=${withD} [${bb}, ${d}, ${t}]`, result.outputs.y.data[i], y, result.conditionScales.y.data[i], result.depthScales.y.data[i], N);
            }
          }
        }
      }
    });

    it(`selective-scan recurrence and read-out on the reference's float64 factors, all B/C layouts (${regime}, L = ${L})`, () => {
      const random = seeded(`selective-scan/${regime}`);
      // The exact states grow by ~53 bits per step (float64 factors): keep the long case small.
      const [batch, dim, N, G] = regime === 'long' ? [1, 2, 3, 2] : [2, 4, 3, 2];
      const u = sequenceTensor(batch, dim, L, () => sequence(random, regime, L));
      const delta = sequenceTensor(batch, dim, L, () => Array.from({ length: L }, () => float32(random, 1e-3, 0.5) ));
      const A = filled([dim, N], () => -float32(random, 0.01, 2, true));
      const layouts: Record<string, readonly number[]> = {
        'time-invariant': [dim, N],
        'time-varying': [batch, N, L],
        grouped: [batch, G, N, L],
      };
      const projections = Object.entries(layouts);
      for (const [index, [layout, shape]] of projections.entries()) {
        const B = filled(shape, () => float32(random, 0.1, 2));
        const C = filled(projections[(index + 1) % 3][1], () => float32(random, 0.1, 2));
        const inputs: SelectiveScanInputs = {
          u,
          delta,
          A,
          B,
          C,
          D: filled([dim], () => float32(random, 0.1, 2)),
          z: sequenceTensor(batch, dim, L, () => Array.from({ length: L }, () => float32(random, 0.1, 4))),
          deltaBias: filled([dim], () => float32(random, 0.01, 0.1)),
          h0: filled([batch, dim, N], () => float32(random, 0.1, 1)),
        };
        for (const deltaSoftplus of regime === 'long' ? [index === 1] : [false, true]) {
          expectSelectiveScanExact(`selective-scan ${regime} B ${layout} softplus=${deltaSoftplus}`, inputs, { deltaSoftplus });
        }
      }
    });
  }

  it('agrees with the bound everywhere and is correctly rounded almost everywhere (measured)', () => {
    // Runs after the cases above (vitest runs a file's tests in order). The excess over ½ ulp is
    // reported in units of the bound's scale term 2^-104·(W + (N+2)S); it must stay ≤ 1.
    expect(tally.elements).toBeGreaterThan(20_000);
    expect(tally.worstExcess).toBeLessThanOrEqual(1);
    expect(tally.correctlyRounded / tally.elements).toBeGreaterThan(0.99);
    console.info(
      `reference vs exact: ${tally.elements} elements, ${tally.correctlyRounded} correctly rounded, ` +
        `worst excess over ½ ulp = ${tally.worstExcess.toExponential(2)} × 2^-104·(W + (N+2)S)`,
    );
  });
});

/** Exact scan of the reference's own float64 factors (Ā, Δ'·B·u, D·u, silu(z)), compared element by element. */
function expectSelectiveScanExact(where: string, inputs: SelectiveScanInputs, options: SelectiveScanOptions): void {
  const result = selectiveScan(inputs, options);
  const dims = dimensionsOf({ family: 'selective-scan', inputs, options });
  const { batch, dim, length: L, stateSize: N } = dims;
  const tokens = selectiveScanTokens(inputs, dims, options);
  const factors = new DiagonalChannel(N);
  const C = inputs.C;
  const cLayoutTimeInvariant = C.shape.length === 2;
  for (let b = 0; b < batch; b++) {
    for (let d = 0; d < dim; d++) {
      const h: Dyadic[] = Array.from({ length: N }, (_, n) => fromNumber(inputs.h0 === undefined ? 0 : inputs.h0.data[(b * dim + d) * N + n]));
      for (let t = 0; t < L; t++) {
        selectiveScanFactors(factors, tokens, b, d, t);
        expectFactorsFollowTheFormulas(factors, inputs, options, b, d, t);
        let sum = fromNumber(factors.skip);
        for (let n = 0; n < N; n++) {
          h[n] = add(mul(fromNumber(factors.decay[n]), h[n]), fromNumber(factors.input[n]));
          const c = cLayoutTimeInvariant
            ? C.data[d * N + n]
            : C.shape.length === 3
              ? C.data[(b * N + n) * L + t]
              : C.data[((b * C.shape[1] + Math.floor(d / (dim / C.shape[1]))) * N + n) * L + t];
          sum = add(sum, mul(fromNumber(c), h[n]));
        }
        const y = mul(fromNumber(factors.gate), sum);
        const i = (b * dim + d) * L + t;
        expectNear(`${where} y[${b}, ${d}, ${t}]`, result.outputs.y.data[i], y, result.conditionScales.y.data[i], result.depthScales.y.data[i], N);
      }
      for (let n = 0; n < N; n++) {
        const i = (b * dim + d) * N + n;
        expectNear(`${where} lastState[${b}, ${d}, ${n}]`, result.outputs.lastState.data[i], h[n], result.conditionScales.lastState.data[i], result.depthScales.lastState.data[i]);
      }
    }
  }
}

/** The float64 factors are the spec's formulas, bitwise: Δ' = softplus?(Δ + bias), Ā = exp(Δ'·A), x = Δ'·(B·u), D·u, silu(z). */
function expectFactorsFollowTheFormulas(factors: DiagonalChannel, inputs: SelectiveScanInputs, options: SelectiveScanOptions, b: number, d: number, t: number): void {
  const [, dim, L] = inputs.u.shape;
  const N = inputs.A.shape[1];
  const i = (b * dim + d) * L + t;
  const shifted = inputs.delta.data[i] + (inputs.deltaBias?.data[d] ?? 0);
  const delta = options.deltaSoftplus && shifted <= 20 ? Math.log1p(Math.exp(shifted)) : shifted;
  const u = inputs.u.data[i];
  const z = inputs.z?.data[i];
  const expected = {
    decay: Array.from({ length: N }, (_, n) => Math.exp(delta * inputs.A.data[d * N + n])),
    input: Array.from({ length: N }, (_, n) => {
      const B = inputs.B;
      const Bn =
        B.shape.length === 2
          ? B.data[d * N + n]
          : B.shape.length === 3
            ? B.data[(b * N + n) * L + t]
            : B.data[((b * B.shape[1] + Math.floor(d / (dim / B.shape[1]))) * N + n) * L + t];
      return delta * (Bn * u);
    }),
    skip: inputs.D === undefined ? 0 : inputs.D.data[d] * u,
    gate: z === undefined ? 1 : z / (1 + Math.exp(-z)),
  };
  // Plain comparisons first: this runs per token, and expect() per value would dominate the test.
  const same =
    expected.decay.every((v, n) => v === factors.decay[n]) &&
    expected.input.every((v, n) => v === factors.input[n]) &&
    expected.skip === factors.skip &&
    expected.gate === factors.gate;
  if (!same) {
    expect({ decay: Array.from(factors.decay), input: Array.from(factors.input), skip: factors.skip, gate: factors.gate }, `factors of token [${b}, ${d}, ${t}]`).toEqual(expected);
  }
}
