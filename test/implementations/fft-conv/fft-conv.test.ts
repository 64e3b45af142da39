/**
 * fft-conv-f64 and fft-conv-f32 against the double-double reference, under the normwise bound of
 * normwise.ts: lti-ssm over awkward lengths with and without D, time-invariant selective scans
 * (y and lastState), every decline with its reason, the one-token step, and a circular
 * convolution (no zero padding, built here from fft.js) that the same bound rejects grossly.
 */
import FFT from 'fft.js';
import seedrandom from 'seedrandom';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import implementations from '../../../implementations/fft-conv/index.ts';
import { createFftConv } from '../../../implementations/fft-conv/fft-conv.ts';
import { blockSizeFor } from '../../../implementations/fft-conv/powers.ts';
import { effectiveDelta, reference, referenceStep, silu, type ReferenceResult } from '../../../reference/index.ts';
import type { FamilyImplementation, ScanImplementation } from '../../../spec/implementation.ts';
import type { FamilyName, LtiSsmInputs, Problem, SelectiveScanInputs } from '../../../spec/families.ts';
import { UNIT_ROUNDOFF } from '../../../spec/precision.ts';
import { tensor, type Tensor } from '../../../spec/tensor.ts';
import { validateOutputs, validateProblem } from '../../../spec/validate.ts';
import { checkChannel, inputNorms, kernelL1, type ChannelCheck } from './normwise.ts';

const LENGTHS = [0, 1, 2, 3, 7, 8, 9, 63, 64, 65, 1000, 4097];

/** Uniform float32 values in [lo, hi) from a seeded generator. */
function uniform(random: () => number, count: number, lo: number, hi: number): Float32Array {
  return Float32Array.from({ length: count }, () => lo + (hi - lo) * random());
}

function familyOf<F extends FamilyName>(implementation: ScanImplementation, family: F): FamilyImplementation<F> {
  const found = implementation.families[family] as FamilyImplementation<F> | undefined;
  if (found === undefined) throw new Error(`${implementation.name} does not implement ${family}`);
  return found;
}

/** An lti-ssm problem: batch 2, dim 3, N 4, decays in (−1, 1) with some near ±1. */
function ltiProblem(length: number, withD: boolean, seed: string): Problem<'lti-ssm'> {
  const random = seedrandom(seed);
  const dim = 3;
  const N = 4;
  const batch = 2;
  const Abar = uniform(random, dim * N, -0.95, 0.95);
  Abar[0] = 0.999;
  Abar[5] = -0.998;
  const inputs: LtiSsmInputs = {
    Abar: tensor(Abar, [dim, N]),
    Bbar: tensor(uniform(random, dim * N, -1, 1), [dim, N]),
    C: tensor(uniform(random, dim * N, -1, 1), [dim, N]),
    u: tensor(uniform(random, batch * dim * length, -1, 1), [batch, dim, length]),
    ...(withD ? { D: tensor(uniform(random, dim, -2, 2), [dim]) } : {}),
  };
  return { family: 'lti-ssm', inputs, options: {} };
}

/** A time-invariant selective scan: Δ constant over t per (b, d) (different across the batch), B, C (dim, N). */
function selectiveProblem(length: number, seed: string): Problem<'selective-scan'> {
  const random = seedrandom(seed);
  const batch = 2;
  const dim = 3;
  const N = 4;
  const delta = new Float32Array(batch * dim * length);
  for (let channel = 0; channel < batch * dim; channel++) delta.fill(Math.fround(-2 + 3 * random()), channel * length, (channel + 1) * length);
  const inputs: SelectiveScanInputs = {
    u: tensor(uniform(random, batch * dim * length, -1, 1), [batch, dim, length]),
    delta: tensor(delta, [batch, dim, length]),
    A: tensor(uniform(random, dim * N, -3, -0.001), [dim, N]),
    B: tensor(uniform(random, dim * N, -1, 1), [dim, N]),
    C: tensor(uniform(random, dim * N, -1, 1), [dim, N]),
    D: tensor(uniform(random, dim, -1, 1), [dim]),
    z: tensor(uniform(random, batch * dim * length, -3, 3), [batch, dim, length]),
    deltaBias: tensor(uniform(random, dim, -0.5, 0.5), [dim]),
  };
  return { family: 'selective-scan', inputs, options: { deltaSoftplus: true } };
}

const referenceCache = new Map<string, ReferenceResult<FamilyName>>();
/** The reference of a problem, computed once per key (both precisions check the same problem). */
function cachedReference<F extends FamilyName>(key: string, problem: Problem<F>): ReferenceResult<F> {
  let found = referenceCache.get(key);
  if (found === undefined) {
    found = reference(problem) as ReferenceResult<FamilyName>;
    referenceCache.set(key, found);
  }
  return found as ReferenceResult<F>;
}

/** Worst ratios seen per implementation and length, printed at the end for the tolerance model. */
const worst = new Map<string, Map<number, { boundRatio: number; shapeRatio: number }>>();
function record(name: string, length: number, check: ChannelCheck): void {
  const byLength = worst.get(name) ?? new Map<number, { boundRatio: number; shapeRatio: number }>();
  const seen = byLength.get(length) ?? { boundRatio: 0, shapeRatio: 0 };
  byLength.set(length, { boundRatio: Math.max(seen.boundRatio, check.boundRatio), shapeRatio: Math.max(seen.shapeRatio, check.shapeRatio) });
  worst.set(name, byLength);
}
afterAll(() => {
  for (const [name, byLength] of worst) {
    const rows = [...byLength].sort(([a], [b]) => a - b);
    const cell = (ratio: number): string => ratio.toPrecision(2);
    console.log(
      `${name}, max over channels of error / normwise bound by L: ${rows.map(([L, r]) => `${L}: ${cell(r.boundRatio)}`).join(', ')}\n` +
        `${name}, max of error / (u·log2 M·‖K‖₁·max|u|·|g|) by L: ${rows.map(([L, r]) => `${L}: ${cell(r.shapeRatio)}`).join(', ')}`,
    );
  }
});

describe('channel ranges across worker threads', () => {
  // dim 3 on 3 threads: every thread takes one dim of both batch entries.
  const threaded = [
    createFftConv('float64', { threads: 3, minParallelWork: 0, name: 'fft-conv-f64, 3 threads' }),
    createFftConv('float32', { threads: 3, minParallelWork: 0, name: 'fft-conv-f32, 3 threads' }),
  ];
  beforeAll(async () => {
    for (const implementation of threaded) await implementation.setup?.();
  });
  afterAll(async () => {
    for (const implementation of threaded) await implementation.dispose?.();
  });

  it.each(threaded.flatMap((implementation, i) => [1, 65, 1000].map((length) => ({ implementation, single: implementations[i], length }))))(
    '$implementation.name, L = $length: the same bits as on one thread (lti-ssm with and without D, selective scan)',
    async ({ implementation, single, length }) => {
      expect(implementation.environment?.()).toMatchObject({ threads: '3', workers: '2' });
      for (const withD of [true, false]) {
        const problem = ltiProblem(length, withD, `threads-lti-${length}-${withD}`);
        const split = await familyOf(implementation, 'lti-ssm').run(problem);
        const whole = await familyOf(single, 'lti-ssm').run(problem);
        expect(split.y.data).toEqual(whole.y.data);
      }
      const problem = selectiveProblem(length, `threads-selective-${length}`);
      const split = await familyOf(implementation, 'selective-scan').run(problem);
      const whole = await familyOf(single, 'selective-scan').run(problem);
      expect(split.y.data).toEqual(whole.y.data);
      expect(split.lastState.data).toEqual(whole.lastState.data);
    },
  );
});

describe.each(implementations)('$name', (implementation) => {
  const u = UNIT_ROUNDOFF[implementation.precision];
  const lti = familyOf(implementation, 'lti-ssm');
  const selective = familyOf(implementation, 'selective-scan');

  it('declares the normwise error model and its precision', () => {
    expect(lti.errorModel).toBe('normwise');
    expect(selective.errorModel).toBe('normwise');
    expect(['float64', 'float32']).toContain(implementation.precision);
    expect(implementation.name).toBe(implementation.precision === 'float64' ? 'fft-conv-f64' : 'fft-conv-f32');
  });

  describe('lti-ssm', () => {
    it.each(LENGTHS.flatMap((length) => [true, false].map((withD) => ({ length, withD }))))(
      'L = $length, D present: $withD, batch 2 — within the normwise bound',
      async ({ length, withD }) => {
        const problem = ltiProblem(length, withD, `lti-${length}-${withD}`);
        expect(lti.decline?.(problem)).toBeUndefined();
        const outputs = validateOutputs(problem, await lti.run(problem));
        const expected = cachedReference(`lti-${length}-${withD}`, problem);
        const [batch, dim, L] = problem.inputs.u.shape;
        const N = problem.inputs.Abar.shape[1];
        expect(outputs.y.data).toBeInstanceOf(implementation.precision === 'float64' ? Float64Array : Float32Array);
        for (let d = 0; d < dim; d++) {
          const slice = (x: Tensor): number[] => Array.from(x.data.subarray(d * N, (d + 1) * N));
          const weights = slice(problem.inputs.C).map((c, n) => c * slice(problem.inputs.Bbar)[n]);
          const K1 = kernelL1(weights, slice(problem.inputs.Abar), L);
          for (let b = 0; b < batch; b++) {
            const offset = (b * dim + d) * L;
            const norms = { kernelL1: K1, ...inputNorms(problem.inputs.u.data, offset, L) };
            const check = checkChannel(implementation.precision, N, L, norms, outputs.y.data, expected.outputs.y.data, expected.conditionScales.y.data, offset, () => 1);
            record(implementation.name, L, check);
            expect(check.boundRatio, `channel (b ${b}, d ${d}), worst t = ${check.worstT}`).toBeLessThanOrEqual(1);
          }
        }
      },
    );

    it('keeps a short kernel\'s channel accurate beside a long kernel\'s (no error leaks across channels)', async () => {
      // Channel 0: Ā = 1/64, ‖K‖₁ ≈ 1; channel 1: Ā = 0.9999, ‖K‖₁ ≈ 4000·|C·B̄| with C·B̄ = 1000.
      const length = 4096;
      const random = seedrandom('paired');
      const problem: Problem<'lti-ssm'> = {
        family: 'lti-ssm',
        inputs: {
          Abar: tensor([1 / 64, 0.9999], [2, 1]),
          Bbar: tensor([1, 1000], [2, 1]),
          C: tensor([1, 1], [2, 1]),
          u: tensor(uniform(random, 2 * 2 * length, -1, 1), [2, 2, length]),
        },
        options: {},
      };
      const outputs = await lti.run(problem);
      const expected = reference(problem);
      for (let b = 0; b < 2; b++) {
        for (let d = 0; d < 2; d++) {
          const offset = (b * 2 + d) * length;
          const weights = [problem.inputs.Bbar.data[d]];
          const norms = { kernelL1: kernelL1(weights, [problem.inputs.Abar.data[d]], length), ...inputNorms(problem.inputs.u.data, offset, length) };
          const check = checkChannel(implementation.precision, 1, length, norms, outputs.y.data, expected.outputs.y.data, expected.conditionScales.y.data, offset, () => 1);
          record(implementation.name, length, check);
          expect(check.boundRatio, `channel (b ${b}, d ${d})`).toBeLessThanOrEqual(1);
          // Sharper than the sound bound: packing two channels into one complex transform made channel 0's
          // error 34× u·log2 M·‖K‖₁·max|u| (its partner's ‖K‖₁ leaking in); per-channel transforms keep it near 1.
          expect(check.shapeRatio, `channel (b ${b}, d ${d}) against u·log2 M·‖K‖₁·max|u|`).toBeLessThanOrEqual(4);
        }
      }
    });

    it('answers each batch entry bit for bit the same whatever the batch order (no cross-channel arithmetic)', async () => {
      const problem = ltiProblem(100, true, 'permutation');
      const [batch, dim, L] = problem.inputs.u.shape;
      const swapped = new Float32Array(problem.inputs.u.data.length);
      const size = dim * L;
      for (let b = 0; b < batch; b++) swapped.set(problem.inputs.u.data.subarray(b * size, (b + 1) * size), (batch - 1 - b) * size);
      const original = (await lti.run(problem)).y.data;
      const permuted = (await lti.run({ ...problem, inputs: { ...problem.inputs, u: tensor(swapped, [batch, dim, L]) } })).y.data;
      for (let b = 0; b < batch; b++) {
        expect(Array.from(permuted.subarray((batch - 1 - b) * size, (batch - b) * size))).toEqual(Array.from(original.subarray(b * size, (b + 1) * size)));
      }
    });

    it('adds D·u_t at the same t (no off-by-one): an impulse gives y_0 = K_0 + D, y_t = K_t after', async () => {
      // Ā = 1/2, B̄ = 1, C = 1, D = 4 (dyadic): y = [1 + 4, 1/2, 1/4, 1/8].
      const problem: Problem<'lti-ssm'> = {
        family: 'lti-ssm',
        inputs: { Abar: tensor([0.5], [1, 1]), Bbar: tensor([1], [1, 1]), C: tensor([1], [1, 1]), D: tensor([4], [1]), u: tensor([1, 0, 0, 0], [1, 1, 4]) },
        options: {},
      };
      const y = Array.from((await lti.run(problem)).y.data);
      const exact = [5, 0.5, 0.25, 0.125];
      y.forEach((value, t) => expect(Math.abs(value - exact[t])).toBeLessThanOrEqual(64 * u * 5));
    });

    it('declines a kernel that outgrows its range (|Ā| > 1), and run throws with the reason', async () => {
      const length = implementation.precision === 'float32' ? 200 : 1100;
      const problem: Problem<'lti-ssm'> = {
        family: 'lti-ssm',
        inputs: { Abar: tensor([2, 0.5], [1, 2]), Bbar: tensor([1, 1], [1, 2]), C: tensor([1, 1], [1, 2]), u: tensor(new Float32Array(length), [1, 1, length]) },
        options: {},
      };
      const reason = lti.decline?.(problem);
      expect(reason).toMatch(/channel dim 0: the kernel .* may reach 2\^\d+.*beyond float(32|64)'s range/);
      await expect(lti.run(problem)).rejects.toThrow(/declines this problem/);
      // The same growth over a short length fits, and is accepted.
      const short = { ...problem, inputs: { ...problem.inputs, u: tensor(new Float32Array(20), [1, 1, 20]) } };
      expect(lti.decline?.(short)).toBeUndefined();
    });

    it('steps one token like the reference step', async () => {
      const random = seedrandom('lti-step');
      const [batch, dim, N] = [2, 3, 4];
      const inputs = {
        Abar: tensor(uniform(random, dim * N, -0.99, 0.99), [dim, N]),
        Bbar: tensor(uniform(random, dim * N, -1, 1), [dim, N]),
        C: tensor(uniform(random, dim * N, -1, 1), [dim, N]),
        D: tensor(uniform(random, dim, -1, 1), [dim]),
        u: tensor(uniform(random, batch * dim, -1, 1), [batch, dim]),
        state: tensor(uniform(random, batch * dim * N, -1, 1), [batch, dim, N]),
      };
      const out = await lti.step!(inputs, {});
      const expected = referenceStep('lti-ssm', inputs, {});
      for (const name of ['y', 'state'] as const) {
        const got = out[name].data;
        got.forEach((value, i) => {
          expect(Math.abs(value - expected.outputs[name].data[i])).toBeLessThanOrEqual(8 * u * expected.conditionScales[name].data[i]);
        });
      }
    });
  });

  describe('selective-scan (time-invariant after discretization)', () => {
    it.each([0, 1, 2, 3, 7, 64, 65, 1000])('L = %i, with bias, softplus, D and z: y within the normwise bound, lastState componentwise', async (length) => {
      const problem = selectiveProblem(length, `ss-${length}`);
      expect(selective.decline?.(problem)).toBeUndefined();
      const outputs = validateOutputs(problem, await selective.run(problem));
      const expected = cachedReference(`ss-${length}`, problem);
      const { u: input, delta, A, B, C, z, deltaBias } = problem.inputs;
      const [batch, dim, L] = input.shape;
      const N = A.shape[1];
      for (let b = 0; b < batch; b++) {
        for (let d = 0; d < dim; d++) {
          const channel = b * dim + d;
          const offset = channel * L;
          const step = L === 0 ? 0 : effectiveDelta(delta.data[offset], deltaBias!.data[d], true);
          const decays = Array.from({ length: N }, (_, n) => Math.exp(step * A.data[d * N + n]));
          const weights = Array.from({ length: N }, (_, n) => C.data[d * N + n] * step * B.data[d * N + n]);
          const norms = { kernelL1: kernelL1(weights, decays, L), ...inputNorms(input.data, offset, L) };
          const gate = (t: number): number => Math.abs(silu(z!.data[offset + t]));
          const check = checkChannel(implementation.precision, N, L, norms, outputs.y.data, expected.outputs.y.data, expected.conditionScales.y.data, offset, gate);
          record(implementation.name, L, check);
          expect(check.boundRatio, `y of channel (b ${b}, d ${d}), worst t = ${check.worstT}`).toBeLessThanOrEqual(1);
          // lastState: a blocked dot product of depth B + J, plus the f32 power error, against S.
          const depth = blockSizeFor(L) + Math.ceil(L / blockSizeFor(L)) + 16;
          for (let n = 0; n < N; n++) {
            const i = channel * N + n;
            const error = Math.abs(outputs.lastState.data[i] - expected.outputs.lastState.data[i]);
            expect(error, `lastState (b ${b}, d ${d}, n ${n})`).toBeLessThanOrEqual(depth * u * expected.conditionScales.lastState.data[i]);
          }
        }
      }
    });

    it('accepts a time-varying-layout B and a grouped C whose values are constant in t', async () => {
      const base = selectiveProblem(50, 'ss-layouts');
      const [batch, dim, L] = base.inputs.u.shape;
      const N = base.inputs.A.shape[1];
      const random = seedrandom('layouts');
      const B = new Float32Array(batch * N * L);
      for (let row = 0; row < batch * N; row++) B.fill(Math.fround(random() - 0.5), row * L, (row + 1) * L);
      const G = 1;
      const C = new Float32Array(batch * G * N * L);
      for (let row = 0; row < batch * G * N; row++) C.fill(Math.fround(random() - 0.5), row * L, (row + 1) * L);
      const problem: Problem<'selective-scan'> = {
        ...base,
        inputs: { ...base.inputs, B: tensor(B, [batch, N, L]), C: tensor(C, [batch, G, N, L]) },
      };
      validateProblem(problem);
      expect(selective.decline?.(problem)).toBeUndefined();
      const outputs = await selective.run(problem);
      const expected = reference(problem);
      let scale = 0;
      let error = 0;
      expected.outputs.y.data.forEach((value, i) => {
        scale = Math.max(scale, expected.conditionScales.y.data[i]);
        error = Math.max(error, Math.abs(outputs.y.data[i] - value));
      });
      expect(error).toBeLessThanOrEqual(200 * u * scale * Math.sqrt(L));
      expected.outputs.lastState.data.forEach((value, i) => {
        expect(Math.abs(outputs.lastState.data[i] - value)).toBeLessThanOrEqual(64 * u * expected.conditionScales.lastState.data[i]);
      });
    });

    const base = selectiveProblem(16, 'ss-declines');
    const [batch, dim, L] = base.inputs.u.shape;
    const N = base.inputs.A.shape[1];
    const declines: { what: string; problem: Problem<'selective-scan'>; reason: RegExp }[] = [
      {
        what: 'h0 present',
        problem: { ...base, inputs: { ...base.inputs, h0: tensor(new Float32Array(batch * dim * N), [batch, dim, N]) } },
        reason: /^h0 is present: .*not a convolution of u/,
      },
      {
        what: 'a time-varying B',
        problem: { ...base, inputs: { ...base.inputs, B: tensor(Float32Array.from({ length: batch * N * L }, (_, i) => i % 3), [batch, N, L]) } },
        reason: /^B \(layout time-varying \(batch, N, L\), shape \[2, 4, 16\]\) changes over time: at batch 0, n 0 it is 0 at t = 0 and 1 at t = 1/,
      },
      {
        what: 'a grouped C that changes at the last step',
        problem: {
          ...base,
          inputs: { ...base.inputs, C: tensor(Float32Array.from({ length: batch * N * L }, (_, i) => (i === 2 * L - 1 ? 7 : 1)), [batch, 1, N, L]) },
        },
        reason: /^C \(layout grouped \(batch, G, N, L\), shape \[2, 1, 4, 16\]\) changes over time: at batch 0, group 0, n 1 it is 1 at t = 0 and 7 at t = 15/,
      },
      {
        what: 'a Δ that changes with t',
        problem: {
          ...base,
          inputs: { ...base.inputs, delta: tensor(Float32Array.from(base.inputs.delta.data, (v, i) => (i === L + 5 ? v + 0.5 : v)), [batch, dim, L]) },
        },
        reason: /^Δ' \(delta \+ deltaBias, softplus, in float(32|64)\) changes over time: channel \(batch 0, dim 1\) has Δ' = .* at t = 0 and .* at t = 5/,
      },
      {
        what: 'a kernel out of range (A > 0 grows it)',
        problem: { ...base, inputs: { ...base.inputs, A: tensor(new Float32Array(dim * N).fill(100), [dim, N]) } },
        reason: /^channel \(batch \d+, dim \d+\): the kernel .* beyond float(32|64)'s range/,
      },
    ];
    it.each(declines)('declines $what with its reason, and run throws', async ({ problem, reason }) => {
      validateProblem(problem);
      expect(selective.decline?.(problem)).toMatch(reason);
      await expect(selective.run(problem)).rejects.toThrow(/declines this problem/);
    });
  });

  it('a circular convolution (no zero padding) fails the same bound grossly, where this one passes', async () => {
    // Impulse at the last step: the linear response is 0 before t = L − 1; a circular one wraps the
    // kernel's tail around to t < L − 1.
    const length = 8;
    const u8 = new Float32Array(length);
    u8[length - 1] = 1;
    const problem: Problem<'lti-ssm'> = {
      family: 'lti-ssm',
      inputs: { Abar: tensor([0.75], [1, 1]), Bbar: tensor([1], [1, 1]), C: tensor([1], [1, 1]), u: tensor(u8, [1, 1, length]) },
      options: {},
    };
    const expected = reference(problem);
    const ours = (await lti.run(problem)).y.data;
    const circular = circularConvolution(Array.from({ length }, (_, k) => 0.75 ** k), u8);
    const norms = { kernelL1: kernelL1([1], [0.75], length), ...inputNorms(u8, 0, length) };
    const check = (y: ArrayLike<number>): ChannelCheck =>
      checkChannel(implementation.precision, 1, length, norms, y, expected.outputs.y.data, expected.conditionScales.y.data, 0, () => 1);
    expect(check(ours).boundRatio).toBeLessThanOrEqual(1);
    expect(check(circular).boundRatio).toBeGreaterThan(1e3);
    expect(circular[0]).toBeCloseTo(0.75 ** 1, 12); // K_1·u_7 wrapped to t = 0
    expect(Math.abs(ours[0])).toBeLessThanOrEqual(64 * u);

    // And on random data at L = 64 (FFT length 64: every output but the last is aliased).
    const random = ltiProblem(64, false, 'circular');
    const { Abar, Bbar, C, u: input } = random.inputs;
    const weights = [0, 1, 2, 3].map((n) => C.data[n] * Bbar.data[n]);
    const decays = Array.from(Abar.data.subarray(0, 4));
    const kernel = Array.from({ length: 64 }, (_, k) => weights.reduce((sum, w, n) => sum + w * decays[n] ** k, 0));
    const wrapped = circularConvolution(kernel, input.data.subarray(0, 64));
    const exact = cachedReference('lti-64-false', random);
    const randomNorms = { kernelL1: kernelL1(weights, decays, 64), ...inputNorms(input.data, 0, 64) };
    const randomCheck = checkChannel(implementation.precision, 4, 64, randomNorms, wrapped, exact.outputs.y.data, exact.conditionScales.y.data, 0, () => 1);
    expect(randomCheck.boundRatio).toBeGreaterThan(1e3);
  });
});

/** y = K ⊛ u, the circular convolution of length L (a power of two) by fft.js, without zero padding: the bug under test. */
function circularConvolution(kernel: readonly number[], input: ArrayLike<number>): Float64Array {
  const L = kernel.length;
  const fft = new FFT(L);
  const K = fft.createComplexArray() as number[];
  const U = fft.createComplexArray() as number[];
  fft.realTransform(K, kernel);
  fft.completeSpectrum(K);
  fft.realTransform(U, Array.from(input));
  fft.completeSpectrum(U);
  const Y = fft.createComplexArray() as number[];
  for (let j = 0; j < L; j++) {
    Y[2 * j] = K[2 * j] * U[2 * j] - K[2 * j + 1] * U[2 * j + 1];
    Y[2 * j + 1] = K[2 * j] * U[2 * j + 1] + K[2 * j + 1] * U[2 * j];
  }
  const y = fft.createComplexArray() as number[];
  fft.inverseTransform(y, Y);
  return Float64Array.from({ length: L }, (_, t) => y[2 * t]);
}
