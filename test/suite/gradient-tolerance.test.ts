/**
 * Rule V (spec/tolerance.md, "Gradients", suite/gradient-tolerance.ts) on the sequential backward
 * kernels (implementations/sequential/vjp.ts):
 *  - sound: the float32 and float64 kernels stay within the bound on generated problems of every
 *    family × applicable regime × option setting (bench/gradient-cases.ts, random cotangents);
 *  - sharp: wrong backward kernels exceed it on small cases — dA not summed over the batch, a
 *    time-invariant dB summed over the wrong axis, dh0 missing the first decay, ddelta without the
 *    softplus derivative. Each wrong kernel is the float32 kernel composed so that it makes exactly
 *    that mistake (run on one batch row, on a layout that exposes per-(b, d, n, t) contributions,
 *    read before the first decay, on Δ given directly), so it carries float32 rounding like a real one;
 *    and a selective-scan backward that ignores seqIdx (run on the problem without it).
 * Packed selective-scan rows (seqIdx, odd seeds of bench/gradient-cases.ts) are judged like the rest.
 * The wider measurement: npx tsx bench/gradient-margins.ts.
 */
import { GRADIENT_FAMILIES } from '../../spec/gradients.ts';
import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { sequentialVjp } from '../../implementations/sequential/vjp.ts';
import { FAMILY_NAMES, type AnyProblem, type FamilyName, type Problem, type SelectiveScanInputs } from '../../spec/families.ts';
import { softplus } from '../../spec/families/selective-scan/discretization.ts';
import { sampleProblem, type SampleRequest } from '../../spec/regimes.ts';
import { tensor, type Tensor } from '../../spec/tensor.ts';
import { gradientCases, hasResets, measure, randomCotangents, referenceOf, type CotangentTensors, type GradientCase } from '../../bench/gradient-cases.ts';

type Gradients = Record<string, { data: Float32Array | Float64Array } | undefined>;
const vjp32 = (problem: AnyProblem, cot: CotangentTensors): Gradients => sequentialVjp('float32', problem as Problem<FamilyName>, cot as never) as Gradients;

/** A small selective-scan case with the given B layout, options and inputs. */
function selectiveCase(label: string, B: 'time-invariant' | 'time-varying', options: { deltaSoftplus: boolean }, optionalInputs: Record<string, boolean>, length = 3): GradientCase {
  const request = {
    family: 'selective-scan',
    regime: 'generic',
    dims: { batch: 2, dim: 4, length, stateSize: 3 },
    options,
    optionalInputs,
    projections: { B, C: 'time-varying' },
  } as unknown as SampleRequest;
  const problem = sampleProblem(request, seedrandom(`wrong-${label}`)) as AnyProblem;
  return { label, family: 'selective-scan', regime: 'generic', problem, cotangents: randomCotangents(problem, `wrong-${label}`) };
}

/** The float32 kernel's usage on a case, and a wrong kernel's usage on one input. */
function usages(c: GradientCase, wrong: Gradients, input: string): { correct: number; wrong: number } {
  const reference = referenceOf(c);
  const correct = measure(c, vjp32(c.problem, c.cotangents), 'float32', reference);
  const bad = measure(c, wrong, 'float32', reference);
  return { correct: correct.max, wrong: bad.usage[input] };
}

/** Rows [0, 1) of the batch axis of the named tensors. */
function firstRow(values: Record<string, Tensor | undefined>, batched: readonly string[], batch: number): Record<string, Tensor | undefined> {
  return Object.fromEntries(
    Object.entries(values).map(([name, t]) => {
      if (t === undefined || !batched.includes(name)) return [name, t];
      const size = t.data.length / batch;
      return [name, tensor(t.data.slice(0, size), [1, ...t.shape.slice(1)])];
    }),
  );
}

describe('rule V on the sequential backward kernels', () => {
  it('float32 and float64 stay within the bound on every family × regime × options (2 seeds, L ∈ {0, 3, 24})', () => {
    const cases = gradientCases([1, 2], [0, 3, 24]);
    const worst = new Map<string, number>();
    const judged = new Map<string, number>();
    for (const c of cases) {
      const reference = referenceOf(c);
      for (const precision of ['float32', 'float64'] as const) {
        const usage = measure(c, sequentialVjp(precision, c.problem as Problem<FamilyName>, c.cotangents as never) as Gradients, precision, reference);
        expect(usage.max, `${c.label} ${precision}: worst at ${JSON.stringify(usage.worst)}`).toBeLessThan(1);
        for (const key of [`${c.family} ${precision}`, ...(hasResets(c) ? [`${c.family} packed ${precision}`] : [])]) {
          worst.set(key, Math.max(worst.get(key) ?? 0, usage.max));
          judged.set(key, (judged.get(key) ?? 0) + usage.judged);
        }
      }
    }
    // selective-scan rows that pack several sequences were judged, and their float32 rounding seen.
    for (const precision of ['float32', 'float64']) expect(judged.get(`selective-scan packed ${precision}`), `selective-scan packed ${precision}`).toBeGreaterThan(500);
    expect(worst.get('selective-scan packed float32')).toBeGreaterThan(1e-4);
    for (const family of GRADIENT_FAMILIES) {
      for (const precision of ['float32', 'float64']) {
        // Never green by accident: every family judged many elements, and the float32 kernel's
        // rounding is visible against its bound (usage 0 would mean it was not compared at all).
        expect(judged.get(`${family} ${precision}`), `${family} ${precision}`).toBeGreaterThan(500);
        if (precision === 'float32') expect(worst.get(`${family} ${precision}`), family).toBeGreaterThan(1e-4);
      }
    }
  });

  it('dA not summed over the batch exceeds it (selective-scan, L = 3)', () => {
    const c = selectiveCase('dA', 'time-varying', { deltaSoftplus: true }, { D: true, z: true, deltaBias: true, h0: true });
    const inputs = c.problem.inputs as unknown as Record<string, Tensor | undefined>;
    const batched = ['u', 'delta', 'z', 'B', 'C', 'h0'];
    const oneRow = { ...c.problem, inputs: firstRow(inputs, batched, 2) } as unknown as AnyProblem;
    const cot = firstRow(c.cotangents as unknown as Record<string, Tensor>, ['y', 'lastState'], 2) as unknown as CotangentTensors;
    const wrong = { ...vjp32(c.problem, c.cotangents), A: vjp32(oneRow, cot).A };
    const u = usages(c, wrong, 'A');
    expect(u.correct).toBeLessThan(1);
    expect(u.wrong).toBeGreaterThan(1);
  });

  it('a time-invariant dB summed over the state axis instead of time exceeds it (selective-scan, L = N = 3)', () => {
    const c = selectiveCase('dB', 'time-invariant', { deltaSoftplus: true }, { D: true, z: true });
    const { batch, dim, N, L } = { batch: 2, dim: 4, N: 3, L: 3 };
    const B = (c.problem.inputs as SelectiveScanInputs).B;
    // The same B laid out per (b, d, n, t) (groups = dim): its gradient is each (b, d, n, t) contribution.
    const spread = new Float32Array(batch * dim * N * L);
    for (let b = 0; b < batch; b++) for (let d = 0; d < dim; d++) for (let n = 0; n < N; n++) for (let t = 0; t < L; t++) spread[((b * dim + d) * N + n) * L + t] = B.data[d * N + n];
    const perElement = { ...c.problem, inputs: { ...c.problem.inputs, B: tensor(spread, [batch, dim, N, L]) } } as unknown as AnyProblem;
    const contributions = vjp32(perElement, c.cotangents).B as { data: Float32Array };
    const wrongB = new Float32Array(dim * N);
    for (let d = 0; d < dim; d++) {
      for (let n = 0; n < N; n++) {
        let s = 0;
        // Strides swapped: n indexes time and the sum runs over the state axis.
        for (let b = 0; b < batch; b++) for (let m = 0; m < N; m++) s = Math.fround(s + contributions.data[((b * dim + d) * N + m) * L + n]);
        wrongB[d * N + n] = s;
      }
    }
    const correct = vjp32(c.problem, c.cotangents);
    let rightSum = 0;
    for (let d = 0; d < dim; d++) for (let n = 0; n < N; n++) {
      let s = 0;
      for (let b = 0; b < batch; b++) for (let t = 0; t < L; t++) s += contributions.data[((b * dim + d) * N + n) * L + t];
      rightSum = Math.max(rightSum, Math.abs(s - (correct.B as { data: Float32Array }).data[d * N + n]));
    }
    // The composition is faithful: summed over the right axes, the contributions give the kernel's dB.
    expect(rightSum).toBeLessThan(1e-5);
    const u = usages(c, { ...correct, B: { data: wrongB } }, 'B');
    expect(u.correct).toBeLessThan(1);
    expect(u.wrong).toBeGreaterThan(1);
  });

  it('dh0 missing the first decay exceeds it (linear-recurrence, L = 2, forward and reversed)', () => {
    for (const reverse of [false, true]) {
      const request = { family: 'linear-recurrence', regime: 'generic', dims: { batch: 2, dim: 4, length: 2 }, options: { reverse }, optionalInputs: { h0: true } } as unknown as SampleRequest;
      const problem = sampleProblem(request, seedrandom('wrong-dh0')) as AnyProblem;
      const c: GradientCase = { label: 'dh0', family: 'linear-recurrence', regime: 'generic', problem, cotangents: randomCotangents(problem, 'wrong-dh0') };
      const correct = vjp32(problem, c.cotangents);
      // λ at the first step in processing order is db there: h0-bar without the decay a_first.
      const first = reverse ? 1 : 0;
      const wrongH0 = Float32Array.from({ length: 8 }, (_, row) => (correct.b as { data: Float32Array }).data[row * 2 + first]);
      const u = usages(c, { ...correct, h0: { data: wrongH0 } }, 'h0');
      expect(u.correct).toBeLessThan(1);
      expect(u.wrong).toBeGreaterThan(1);
    }
  });

  it('a backward that ignores seqIdx exceeds it (selective-scan, L = 6, resets at t = 2 and 4)', () => {
    const c0 = selectiveCase('seqIdx', 'time-varying', { deltaSoftplus: true }, { D: true, z: true, deltaBias: true, h0: true }, 6);
    const seqIdx = tensor([0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2], [2, 6]);
    const c: GradientCase = { ...c0, problem: { ...c0.problem, inputs: { ...c0.problem.inputs, seqIdx } } as AnyProblem };
    const wrong = vjp32(c0.problem, c.cotangents);
    const u = usages(c, wrong, 'h0');
    expect(u.correct).toBeLessThan(1);
    expect(u.wrong).toBeGreaterThan(1);
  });

  it('ddelta without the softplus derivative exceeds it (selective-scan, L = 3)', () => {
    const c = selectiveCase('ddelta', 'time-varying', { deltaSoftplus: true }, { D: true, z: true, h0: true });
    const delta = (c.problem.inputs as SelectiveScanInputs).delta;
    // Δ given directly (softplus applied beforehand, deltaSoftplus off): its gradient is Δ̄, not Δ̄·σ(δ).
    const given = { ...c.problem, options: { deltaSoftplus: false }, inputs: { ...c.problem.inputs, delta: tensor(Float32Array.from(delta.data, (v) => softplus(v)), delta.shape) } } as unknown as AnyProblem;
    const wrong = { ...vjp32(c.problem, c.cotangents), delta: vjp32(given, c.cotangents).delta };
    const u = usages(c, wrong, 'delta');
    expect(u.correct).toBeLessThan(1);
    expect(u.wrong).toBeGreaterThan(1);
  });
});
