/**
 * Condition and depth scales (S ≥ |output|; S = |output| for non-negative inputs; W = 0 at t = 0
 * forward without h0) and the one-token step (one step = the scan of length 1 from that state;
 * L steps = the scan of length L). Also: reference() and referenceStep() validate first.
 */
import { describe, expect, it } from 'vitest';
import { reference, referenceStep } from '../../reference/index.ts';
import type { ReferenceResult } from '../../reference/result.ts';
import { SpecValidationError } from '../../spec/errors.ts';
import { OUTPUT_NAMES, type AnyProblem, type FamilyName, type Problem, type SelectiveScanInputs } from '../../spec/families.ts';
import { tensor, type Tensor } from '../../spec/tensor.ts';
import { filled, float32, seeded, type Random } from './random-inputs.ts';

const [batch, dim, L, N] = [2, 4, 29, 3];

/** Random problems of every family and option, inputs in [lo, hi) with random signs unless positive. */
function problems(random: Random, positive: boolean): AnyProblem[] {
  const value = (lo: number, hi: number) => () => float32(random, lo, hi, positive);
  const seq = (lo: number, hi: number): Tensor => filled([batch, dim, L], value(lo, hi));
  const selective = (B: Tensor, C: Tensor): SelectiveScanInputs => ({
    u: seq(0.1, 10),
    delta: filled([batch, dim, L], () => float32(random, 0.01, 0.5, true)),
    A: filled([dim, N], () => -float32(random, 0.1, 2, true)),
    B,
    C,
    D: filled([dim], value(0.1, 2)),
    z: seq(0.1, 5),
    deltaBias: filled([dim], () => float32(random, 0.01, 0.1, true)),
    h0: filled([batch, dim, N], value(0.1, 1)),
  });
  const list: AnyProblem[] = [];
  for (const exclusive of [false, true]) {
    for (const reverse of [false, true]) list.push({ family: 'prefix-sum', inputs: { x: seq(0.1, 10) }, options: { exclusive, reverse } });
  }
  for (const reverse of [false, true]) {
    list.push({ family: 'linear-recurrence', inputs: { a: seq(0.5, 1.1), b: seq(0.1, 10), h0: filled([batch, dim], value(0.1, 10)) }, options: { reverse } });
    list.push({ family: 'linear-recurrence', inputs: { a: seq(0.5, 1.1), b: seq(0.1, 10) }, options: { reverse } });
  }
  for (const deltaSoftplus of [false, true]) {
    list.push({ family: 'selective-scan', inputs: selective(filled([dim, N], value(0.1, 2)), filled([dim, N], value(0.1, 2))), options: { deltaSoftplus } });
    list.push({ family: 'selective-scan', inputs: selective(filled([batch, N, L], value(0.1, 2)), filled([batch, 2, N, L], value(0.1, 2))), options: { deltaSoftplus } });
  }
  const lti = { Abar: filled([dim, N], value(0.5, 1)), Bbar: filled([dim, N], value(0.1, 2)), C: filled([dim, N], value(0.1, 2)), u: seq(0.1, 10) };
  list.push({ family: 'lti-ssm', inputs: lti, options: {} });
  list.push({ family: 'lti-ssm', inputs: { ...lti, D: filled([dim], value(0.1, 2)) }, options: {} });
  return list;
}

/** Names a problem for test titles. */
const describeProblem = (p: AnyProblem): string => `${p.family} ${JSON.stringify(p.options)}${'h0' in p.inputs && p.inputs.h0 ? ' h0' : ''}`;

/** Every output of a result with its scales. */
function outputsOf(problem: AnyProblem, result: ReferenceResult<FamilyName>): { name: string; value: Float64Array; S: Float64Array; W: Float64Array }[] {
  const r = result as unknown as Record<'outputs' | 'conditionScales' | 'depthScales', Record<string, { data: Float64Array }>>;
  return (OUTPUT_NAMES[problem.family] as readonly string[]).map((name) => ({
    name,
    value: r.outputs[name].data,
    S: r.conditionScales[name].data,
    W: r.depthScales[name].data,
  }));
}

describe('condition and depth scales', () => {
  for (const problem of problems(seeded('mixed signs'), false)) {
    it(`S ≥ |output| and W ≥ 0 everywhere, mixed signs: ${describeProblem(problem)}`, () => {
      const result = reference(problem);
      for (const { name, value, S, W } of outputsOf(problem, result)) {
        value.forEach((v, i) => {
          expect(S[i], `${name}[${i}]`).toBeGreaterThanOrEqual(Math.abs(v));
          expect(W[i], `${name}[${i}]`).toBeGreaterThanOrEqual(0);
        });
        // Mixed signs do cancel somewhere: S is not just |output|.
        expect(value.some((v, i) => S[i] > Math.abs(v))).toBe(true);
      }
    });
  }

  for (const problem of problems(seeded('non-negative'), true)) {
    it(`S = |output| bitwise with non-negative inputs: ${describeProblem(problem)}`, () => {
      const result = reference(problem);
      for (const { value, S } of outputsOf(problem, result)) expect(S).toEqual(value.map(Math.abs));
    });
  }

  it('W = 0 at t = 0 forward without h0, and at t = L − 1 reversed, for every family', () => {
    const random = seeded('depth zero');
    for (const withH0 of problems(random, false)) {
      // Drop h0 where there is one: the selective scans here all have one.
      const { h0: _h0, ...inputs } = withH0.inputs as unknown as Record<string, Tensor>;
      const problem = { ...withH0, inputs } as unknown as AnyProblem;
      const reverse = 'reverse' in problem.options && problem.options.reverse;
      const first = reverse ? L - 1 : 0;
      const [sequence] = outputsOf(problem, reference(problem));
      for (let c = 0; c < batch * dim; c++) expect(sequence.W[c * L + first], describeProblem(problem)).toBe(0);
    }
    // With h0, W_0 = |a_0|·|h0| > 0: the initial state counts one step deep.
    const withH0 = reference({ family: 'linear-recurrence', inputs: { a: tensor([0.5], [1, 1, 1]), b: tensor([1], [1, 1, 1]), h0: tensor([-4], [1, 1]) }, options: { reverse: false } });
    // (W is nudged upward by ≤ ~9u per step: at least 2, barely more.)
    expect(withH0.depthScales.h.data[0]).toBeGreaterThanOrEqual(2);
    expect(withH0.depthScales.h.data[0]).toBeLessThanOrEqual(2 * (1 + 1e-15));
  });
});

// ------------------------------------------------------------------ step

/** The step inputs of token t: sequence tensors (batch, dim); a time-varying B/C keeps its layout with L = 1. */
function tokenOf(tensorIn: Tensor, t: number, keepTimeAxis: boolean): Tensor {
  const length = tensorIn.shape[tensorIn.shape.length - 1];
  const leading = tensorIn.shape.slice(0, -1);
  const rows = leading.reduce((p, s) => p * s, 1);
  return tensor(Float32Array.from({ length: rows }, (_, r) => tensorIn.data[r * length + t]), keepTimeAxis ? [...leading, 1] : leading);
}

/** Step inputs of a problem at token t, from the given float32 state. */
function stepInputs(problem: AnyProblem, t: number, state: Tensor): Record<string, Tensor> {
  switch (problem.family) {
    case 'prefix-sum':
      return { x: tokenOf(problem.inputs.x, t, false), state };
    case 'linear-recurrence':
      return { a: tokenOf(problem.inputs.a, t, false), b: tokenOf(problem.inputs.b, t, false), state };
    case 'selective-scan': {
      const { u, delta, z, B, C, h0: _h0, ...rest } = problem.inputs;
      const projection = (p: Tensor): Tensor => (p.shape.length === 2 ? p : tokenOf(p, t, true));
      return {
        ...(rest as Record<string, Tensor>),
        u: tokenOf(u, t, false),
        delta: tokenOf(delta, t, false),
        ...(z === undefined ? {} : { z: tokenOf(z, t, false) }),
        B: projection(B),
        C: projection(C),
        state,
      };
    }
    case 'lti-ssm':
      return { ...problem.inputs, u: tokenOf(problem.inputs.u, t, false), state };
    case 'ssd':
      // ssd's time is axis 1; its steps and L = 1 are tested in test/reference/ssd.test.ts.
      throw new Error('stepInputs: ssd problems are not in this file');
    case 'mamba3-siso':
      throw new Error('stepInputs: mamba3-siso problems are not in this file (test/reference/mamba3-siso.test.ts)');
  }
}

const stateShape = (problem: AnyProblem): number[] => (problem.family === 'selective-scan' || problem.family === 'lti-ssm' ? [batch, dim, N] : [batch, dim]);

/** The initial state of a problem as a float32 tensor: h0, or zeros. */
function initialState(problem: AnyProblem): Tensor {
  const h0 = 'h0' in problem.inputs ? problem.inputs.h0 : undefined;
  return h0 ?? filled(stateShape(problem), () => 0);
}

/** Runs referenceStep over all L tokens, feeding each new state back (rounded to float32, the step's input type). */
function chainSteps(problem: AnyProblem): { y: Float64Array; lastState: Float64Array } {
  let state = initialState(problem);
  const y = new Float64Array(batch * dim * L);
  let last: Float64Array = Float64Array.from(state.data);
  for (let t = 0; t < L; t++) {
    const step = referenceStep(problem.family, stepInputs(problem, t, state) as never, problem.options as never);
    step.outputs.y.data.forEach((v, c) => (y[c * L + t] = v));
    last = step.outputs.state.data;
    state = tensor(Float32Array.from(last), stateShape(problem));
  }
  return { y, lastState: last };
}

const forwardOnly = (p: AnyProblem): boolean => !('reverse' in p.options && p.options.reverse) && !('exclusive' in p.options && p.options.exclusive);

describe('referenceStep', () => {
  it('one step from a state equals the scan of length 1 from that state, bitwise (values and S)', () => {
    const random = seeded('single step');
    for (const problem of problems(random, false).filter(forwardOnly)) {
      const step = referenceStep(problem.family, stepInputs(problem, 0, initialState(problem)) as never, problem.options as never);
      // The scan of length 1: L = 1 slices with h0 = the state (zero state for families without h0).
      const sliced = sliceLength1(problem);
      const scan = outputsOf(sliced, reference(sliced));
      expect(step.outputs.y.data, describeProblem(problem)).toEqual(scan[0].value);
      expect(step.conditionScales.y.data, describeProblem(problem)).toEqual(scan[0].S);
      // The new state: the scan's lastState, or (prefix-sum, lti-ssm: no lastState output) y itself
      // for the scalar families.
      if (scan.length > 1) {
        expect(step.outputs.state.data).toEqual(scan[1].value);
        expect(step.conditionScales.state.data).toEqual(scan[1].S);
      } else if (problem.family === 'prefix-sum') {
        expect(step.outputs.state.data).toEqual(scan[0].value);
      }
    }
  });

  it('L chained steps equal the scan bitwise where every state is exact in float32 (dyadic inputs)', () => {
    const random = seeded('dyadic chain');
    // Decays in {−1, 0, 1} and quarter-integer inputs keep every state a short dyadic (a few bits).
    const dyadic = (): number => Math.floor(random() * 16 - 8) / 4;
    const seq = (value: () => number): Tensor => filled([batch, dim, L], value);
    const chained: AnyProblem[] = [
      { family: 'prefix-sum', inputs: { x: seq(dyadic) }, options: { exclusive: false, reverse: false } },
      { family: 'linear-recurrence', inputs: { a: seq(() => [-1, 1, 0][Math.floor(random() * 3)]), b: seq(dyadic), h0: filled([batch, dim], dyadic) }, options: { reverse: false } },
      // A ∈ {0, −1000}: Ā ∈ {1, 0} exactly; Δ = 1/2, B, u dyadic: Δ·B·u exact; no gate.
      {
        family: 'selective-scan',
        inputs: {
          u: seq(dyadic),
          delta: seq(() => 0.5),
          A: filled([dim, N], () => (random() < 0.8 ? 0 : -1000)),
          B: filled([batch, N, L], dyadic),
          C: filled([batch, 2, N, L], dyadic),
          D: filled([dim], dyadic),
          h0: filled([batch, dim, N], dyadic),
        },
        options: { deltaSoftplus: false },
      },
      { family: 'lti-ssm', inputs: { Abar: filled([dim, N], () => [-1, 1, 0][Math.floor(random() * 3)]), Bbar: filled([dim, N], dyadic), C: filled([dim, N], dyadic), D: filled([dim], dyadic), u: seq(dyadic) }, options: {} },
    ];
    for (const problem of chained) {
      const scan = outputsOf(problem, reference(problem));
      const steps = chainSteps(problem);
      expect(steps.y, problem.family).toEqual(scan[0].value);
      if (scan.length > 1) expect(steps.lastState, problem.family).toEqual(scan[1].value);
      // Not a trivial sequence: the outputs vary.
      expect(new Set(steps.y).size).toBeGreaterThan(5);
    }
  });

  it('L chained steps (state rounded to float32 between tokens) stay within 2^-24·(W + S) of the scan', () => {
    // Rounding the state to float32 at token k errs by ≤ 2^-24·|h_k| ≤ 2^-24·S_k; decayed to t it
    // contributes |a_{k+1}···a_t|·2^-24·S_k, and Σ_k |a_{k+1}···a_t|·S_k = W_t + S_t.
    const random = seeded('general chain');
    for (const problem of problems(random, false).filter(forwardOnly)) {
      const scan = outputsOf(problem, reference(problem));
      const steps = chainSteps(problem);
      let worst = 0;
      steps.y.forEach((y, i) => {
        const bound = 2 ** -24 * (scan[0].W[i] + scan[0].S[i]);
        const gap = Math.abs(y - scan[0].value[i]);
        expect(gap, `${describeProblem(problem)} y[${i}]`).toBeLessThanOrEqual(bound * 1.0001 + 2 ** -48 * scan[0].S[i]);
        worst = Math.max(worst, gap / bound);
      });
      expect(worst, 'the float32 state rounding shows').toBeGreaterThan(0);
    }
  });

  it('lti-ssm and selective-scan steps by hand: new state, y and their scales', () => {
    // lti: state [2, 1] → [0.5·2 + 1·2, −1·1 + 2·2] = [3, 3]; y = 1·3 + 3·3 + 2·2 = 16
    // S(state) = [0.5·2 + 2, 1 + 4] = [3, 5]; S(y) = 3 + 3·5 + 4 = 22
    const lti = referenceStep(
      'lti-ssm',
      { Abar: tensor([0.5, -1], [1, 2]), Bbar: tensor([1, 2], [1, 2]), C: tensor([1, 3], [1, 2]), D: tensor([2], [1]), u: tensor([2], [1, 1]), state: tensor([2, 1], [1, 1, 2]) },
      {},
    );
    expect(Array.from(lti.outputs.state.data)).toEqual([3, 3]);
    expect(Array.from(lti.outputs.y.data)).toEqual([16]);
    expect(Array.from(lti.conditionScales.state.data)).toEqual([3, 5]);
    expect(Array.from(lti.conditionScales.y.data)).toEqual([22]);
    // selective: A = 0 so Ā = 1; Δ' = softplus(40 − 20) = log1p(e^20) (20 is not above the threshold);
    // state 1 → 1 + Δ'·B·u with B = 0.5, u = 2: 1 + Δ'; y = C·state·silu(z) with C = 2, z = 30.
    const softplus20 = Math.log1p(Math.exp(20));
    const selective = referenceStep(
      'selective-scan',
      {
        u: tensor([2], [1, 1]),
        delta: tensor([40], [1, 1]),
        deltaBias: tensor([-20], [1]),
        A: tensor([0], [1, 1]),
        B: tensor([0.5], [1, 1, 1]),
        C: tensor([2], [1, 1, 1, 1]),
        z: tensor([30], [1, 1]),
        state: tensor([1], [1, 1, 1]),
      },
      { deltaSoftplus: true },
    );
    expect(selective.outputs.state.data[0]).toBe(1 + softplus20);
    expect(selective.outputs.y.data[0]).toBeCloseTo(2 * (1 + softplus20) * (30 / (1 + Math.exp(-30))), 12);
  });

  it('options reverse and exclusive do not change a step', () => {
    const inputs = { x: tensor([1, 2], [1, 2]), state: tensor([10, 20], [1, 2]) };
    const plain = referenceStep('prefix-sum', inputs, { exclusive: false, reverse: false });
    expect(Array.from(plain.outputs.y.data)).toEqual([11, 22]);
    expect(referenceStep('prefix-sum', inputs, { exclusive: true, reverse: true }).outputs.y.data).toEqual(plain.outputs.y.data);
  });
});

/** The problem cut to its first token, with h0 for the families that have one. */
function sliceLength1(problem: AnyProblem): AnyProblem {
  const cut = (t: Tensor): Tensor => tensor(tokenOf(t, 0, true).data, [...t.shape.slice(0, -1), 1]);
  switch (problem.family) {
    case 'prefix-sum':
      return { ...problem, inputs: { x: cut(problem.inputs.x) } };
    case 'linear-recurrence':
      return { ...problem, inputs: { ...problem.inputs, a: cut(problem.inputs.a), b: cut(problem.inputs.b) } };
    case 'selective-scan': {
      const i = problem.inputs;
      const projection = (p: Tensor): Tensor => (p.shape.length === 2 ? p : cut(p));
      return { ...problem, inputs: { ...i, u: cut(i.u), delta: cut(i.delta), ...(i.z ? { z: cut(i.z) } : {}), B: projection(i.B), C: projection(i.C) } };
    }
    case 'lti-ssm':
      return { ...problem, inputs: { ...problem.inputs, u: cut(problem.inputs.u) } };
    case 'ssd':
      throw new Error('sliceLength1: ssd problems are not in this file (test/reference/ssd.test.ts)');
    case 'mamba3-siso':
      throw new Error('sliceLength1: mamba3-siso problems are not in this file (test/reference/mamba3-siso.test.ts)');
  }
}

describe('beyond float64 range', () => {
  it('an overflowing recurrence saturates to ±Inf (never NaN), and a = 0 restarts it exactly', () => {
    // |h_t| ≈ (3e38)^t: h_8 ≈ 6.6e307 is finite, h_9 and h_10 are beyond 1.8e308 (signs alternate);
    // a_11 = 0 gives h_11 = b_11 = 5 exactly, then h_12 = 2·5 + 1.
    const a = [1, ...Array(10).fill(-3e38), 0, 2];
    const result = reference({
      family: 'linear-recurrence',
      inputs: { a: tensor(a, [1, 1, 13]), b: tensor(Array(13).fill(1).map((v, t) => (t === 11 ? 5 : v)), [1, 1, 13]) },
      options: { reverse: false },
    });
    const h = Array.from(result.outputs.h.data);
    expect(h.some(Number.isNaN)).toBe(false);
    expect(h.slice(0, 9).every(Number.isFinite)).toBe(true);
    expect(h.slice(9, 11)).toEqual([-Infinity, Infinity]);
    expect(h.slice(11)).toEqual([5, 11]);
    const S = Array.from(result.conditionScales.h.data);
    expect(S.slice(9, 11)).toEqual([Infinity, Infinity]);
    expect(S.slice(11)).toEqual([5, 11]);
    expect(result.depthScales.h.data[11]).toBe(0);
    expect(result.depthScales.h.data[12]).toBeGreaterThanOrEqual(2 * 5);
    expect(result.depthScales.h.data[12]).toBeLessThanOrEqual(2 * 5 * (1 + 1e-15));
  });
});

describe('validation comes first', () => {
  it('reference() rejects a NaN input naming the field', () => {
    const problem: Problem<'prefix-sum'> = { family: 'prefix-sum', inputs: { x: tensor([1, NaN], [1, 1, 2]) }, options: { exclusive: false, reverse: false } };
    expect(() => reference(problem)).toThrow(SpecValidationError);
    expect(() => reference(problem)).toThrow(/x/);
  });

  it('referenceStep() rejects a state of the wrong shape naming the field', () => {
    expect(() => referenceStep('linear-recurrence', { a: tensor([1], [1, 1]), b: tensor([1], [1, 1]), state: tensor([1, 2], [1, 2]) }, { reverse: false })).toThrow(
      /state/,
    );
  });
});
