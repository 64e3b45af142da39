/**
 * Accuracy of fft-conv's kernel for long L: the blocked powers Ā^(jB)·Ā^i against double-double
 * powers, the float64 kernel against the reference's impulse response (y for u = δ_0 is K), and
 * the whole convolution at L = 65536 with |Ā| close to 1. Repeated multiplication (p ← p·Ā) is
 * measured beside it to show the error the blocked tables avoid. The tables printed here are the
 * ones quoted in implementations/fft-conv/README.md.
 */
import { describe, expect, it } from 'vitest';
import implementations from '../../../implementations/fft-conv/index.ts';
import { kernelFloat64 } from '../../../implementations/fft-conv/kernel.ts';
import { allocatePowerTables, fillPowerTables, powerAt } from '../../../implementations/fft-conv/powers.ts';
import { DoubleDouble, mulNumber, toNumber } from '../../../reference/double-double.ts';
import { reference } from '../../../reference/index.ts';
import type { Problem } from '../../../spec/families.ts';
import { tensor } from '../../../spec/tensor.ts';
import { checkChannel, inputNorms, kernelL1 } from './normwise.ts';

const u64 = 2 ** -53;
/** Decays near ±1 (float32 values, as lti-ssm receives them), plus a fast one. */
const DECAYS = [1 - 2 ** -20, Math.fround(0.99995), Math.fround(-0.9999), Math.fround(0.999), 0.5, Math.fround(-0.7)];
const LONG = 65536;

/** Ā^k for k < L by double-double repeated multiplication: error ≲ k·2^-104, exact for this purpose. */
function exactPowers(decay: number, length: number): Float64Array {
  const p = new DoubleDouble(1);
  const out = new Float64Array(length);
  for (let k = 0; k < length; k++) {
    out[k] = toNumber(p);
    mulNumber(p, decay);
  }
  return out;
}

/** max_k |p̂_k − p_k| / (u·|p_k|) over normal-range powers. */
function maxRelativeUlps(computed: (k: number) => number, exact: Float64Array): number {
  let worst = 0;
  for (let k = 0; k < exact.length; k++) {
    if (Math.abs(exact[k]) < 2 ** -1000) break;
    worst = Math.max(worst, Math.abs(computed(k) - exact[k]) / (u64 * Math.abs(exact[k])));
  }
  return worst;
}

describe('blocked powers Ā^(jB)·Ā^i', () => {
  it('stay within 4 u of double-double powers up to L = 65536, where repeated multiplication drifts', () => {
    const rows: string[] = [];
    let blockedWorst = 0;
    let naiveWorstLong = 0;
    const exactLong = DECAYS.map((decay) => exactPowers(decay, LONG));
    for (const length of [1024, 4096, 16384, LONG]) {
      const tables = allocatePowerTables(DECAYS.length, length);
      fillPowerTables(tables, { kind: 'base', bases: Float64Array.from(DECAYS) }, 0);
      let blocked = 0;
      let naive = 0;
      DECAYS.forEach((decay, n) => {
        const exact = exactLong[n].subarray(0, length);
        blocked = Math.max(blocked, maxRelativeUlps((k) => powerAt(tables, n, k), exact));
        let p = 1;
        const repeated = new Float64Array(length);
        for (let k = 0; k < length; k++, p *= decay) repeated[k] = p;
        naive = Math.max(naive, maxRelativeUlps((k) => repeated[k], exact));
      });
      rows.push(`L = ${length}: blocked ${blocked.toFixed(2)} u, repeated multiplication ${naive.toFixed(1)} u`);
      blockedWorst = Math.max(blockedWorst, blocked);
      if (length === LONG) naiveWorstLong = naive;
    }
    console.log(`max relative error of Ā^k, k < L, Ā ∈ {${DECAYS.map((d) => d.toPrecision(6)).join(', ')}}:\n  ${rows.join('\n  ')}`);
    expect(blockedWorst).toBeLessThanOrEqual(4);
    expect(naiveWorstLong).toBeGreaterThan(10 * blockedWorst);
  });

  it('near the ends of the exponent range (|Ā| > 1 toward 2^1024, small Ā toward underflow) agree with Math.pow', () => {
    const bases = Float64Array.from([1.25, -1.25, 0.01, Math.fround(-0.003), 0]);
    const length = 3000;
    const tables = allocatePowerTables(bases.length, length);
    fillPowerTables(tables, { kind: 'base', bases }, 0);
    bases.forEach((a, n) => {
      let worst = 0;
      for (let k = 0; k < length; k++) {
        const exact = Math.pow(a, k);
        if (!Number.isFinite(exact)) break;
        const got = powerAt(tables, n, k);
        // Below 2^-1000 only the absolute size matters (the kernel's scale is far above it).
        const ratio = Math.abs(exact) < 2 ** -1000 ? (Math.abs(got) <= 2 ** -990 ? 0 : Infinity) : Math.abs(got - exact) / (u64 * Math.abs(exact));
        worst = Math.max(worst, ratio);
      }
      expect(worst, `powers of ${a}`).toBeLessThanOrEqual(6);
    });
  });

  it('from log-rates x, exp(jB·x)·exp(i·x) stays within 2·(|k·x| + 4)·u of Math.exp(k·x)', () => {
    const rates = Float64Array.from([-1e-6, -1e-3, -0.5, Math.fround(-2.5e-4)]);
    const tables = allocatePowerTables(rates.length, LONG);
    fillPowerTables(tables, { kind: 'log-rate', rates }, 0);
    rates.forEach((x, n) => {
      for (let k = 0; k < LONG; k += 97) {
        const exact = Math.exp(k * x);
        if (exact < 2 ** -1000) break;
        // Both sides round k·x and call exp, so each carries (|k·x| + 1)·u; the tables add ≤ 3 u more.
        expect(Math.abs(powerAt(tables, n, k) - exact)).toBeLessThanOrEqual(2 * (Math.abs(k * x) + 4) * u64 * exact);
      }
    });
  });
});

describe('the kernel against the reference impulse response', () => {
  const N = DECAYS.length;
  const weights = DECAYS.map((_, n) => (n % 2 === 0 ? 1 : -0.5) * (1 + n / 8));
  const references = new Map<string, ReturnType<typeof reference<'lti-ssm'>>>();
  /** The reference of a problem, once per name (several tests read the same long runs). */
  const cached = (name: string, problem: Problem<'lti-ssm'>): ReturnType<typeof reference<'lti-ssm'>> => {
    const found = references.get(name) ?? reference(problem);
    references.set(name, found);
    return found;
  };
  /** lti-ssm with u = δ_0: the reference's y is exactly the kernel K (rounded once). */
  const impulse = (length: number): Problem<'lti-ssm'> => {
    const u = new Float32Array(length);
    u[0] = 1;
    return {
      family: 'lti-ssm',
      inputs: {
        Abar: tensor(DECAYS, [1, N]),
        Bbar: tensor(weights, [1, N]),
        C: tensor(new Array(N).fill(1), [1, N]),
        u: tensor(u, [1, 1, length]),
      },
      options: {},
    };
  };

  it('float64 kernel: |K̂_k − K_k| ≤ (N + 4)·u·Σ_n |w_n|·|Ā_n|^k at L = 65536; repeated multiplication is measured beside it', () => {
    const expected = cached('impulse', impulse(LONG));
    const K = expected.outputs.y.data;
    const S = expected.conditionScales.y.data; // Σ_n |w_n|·|Ā_n|^k for an impulse
    const rows: string[] = [];
    let worstLong = 0;
    for (const length of [1024, 4096, 16384, LONG]) {
      const tables = allocatePowerTables(N, length);
      fillPowerTables(tables, { kind: 'base', bases: Float64Array.from(DECAYS) }, 0);
      const kernel = new Float64Array(length);
      kernelFloat64(tables, Float64Array.from(weights, (w) => Math.fround(w)), length, new Float64Array(N), kernel);
      const powers = new Float64Array(N).fill(1);
      let blocked = 0;
      let naive = 0;
      for (let k = 0; k < length; k++) {
        if (S[k] === 0) continue;
        blocked = Math.max(blocked, Math.abs(kernel[k] - K[k]) / (u64 * S[k]));
        let repeated = 0;
        for (let n = 0; n < N; n++) {
          repeated += Math.fround(weights[n]) * powers[n];
          powers[n] *= DECAYS[n];
        }
        naive = Math.max(naive, Math.abs(repeated - K[k]) / (u64 * S[k]));
      }
      rows.push(`L = ${length}: blocked ${blocked.toFixed(2)}, repeated multiplication ${naive.toFixed(1)}`);
      if (length === LONG) worstLong = blocked;
      expect(blocked).toBeLessThanOrEqual(N + 4);
    }
    console.log(`max_k |K̂_k − K_k| / (u·Σ_n|w_n||Ā_n|^k), float64 kernel, N = ${N}:\n  ${rows.join('\n  ')}`);
    expect(worstLong).toBeLessThanOrEqual(N + 4);
  });

  it.each(implementations)('$name: the whole convolution of an impulse and of a random input at L = 65536 stays within the normwise bound', async (implementation) => {
    const run = implementation.families['lti-ssm']!.run;
    const K1 = kernelL1(weights.map((w) => Math.fround(w)), DECAYS, LONG);
    const random = impulse(LONG);
    let state = 12345;
    // A small LCG keeps this file free of a seeded-random import; uniform in [−1, 1).
    const noise = Float32Array.from({ length: LONG }, () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 30) - 1);
    for (const [what, problem] of [
      ['impulse', impulse(LONG)],
      ['random input', { ...random, inputs: { ...random.inputs, u: tensor(noise, [1, 1, LONG]) } }],
    ] as const) {
      const expected = cached(what, problem);
      const y = (await run(problem)).y.data;
      const norms = { kernelL1: K1, ...inputNorms(problem.inputs.u.data, 0, LONG) };
      const check = checkChannel(implementation.precision, N, LONG, norms, y, expected.outputs.y.data, expected.conditionScales.y.data, 0, () => 1);
      console.log(
        `${implementation.name}, ${what} at L = ${LONG}: error / bound ${check.boundRatio.toExponential(2)}, ` +
          `error / (u·log2 M·‖K‖₁·max|u|) ${check.shapeRatio.toFixed(3)}`,
      );
      expect(check.boundRatio).toBeLessThanOrEqual(1);
    }
  });
});
