/**
 * The gradient reference (reference/vjp/, spec/gradients.md) against itself and the forward
 * reference, on small random problems of every family and option:
 *  (a) the dot-product test ⟨ȳ, J·v⟩ = ⟨Jᵀ·ȳ, v⟩ between the JVP and the VJP, to 1e-12;
 *  (b) central finite differences of the forward reference (reference/index.ts) against the JVP, to
 *      1e-6, per input. Inputs are multiples of 2^-8 below 8 in magnitude and tangents small integers,
 *      so x ± 2^-16·v is exact in float32 and the difference quotient sees exactly the step it divides by;
 *  (c) parameters shared over batch or time: their gradient is the sum of the per-(b, t) gradients of
 *      the same values given in a layout that does not share them;
 *  (d) the initial state's gradient: the gradient of a token prepended to carry h0 in, L = 0, resets;
 *      a packed selective-scan row's gradients are each sequence's alone (h0 only the first's);
 *  (e) ssd's gradients are selective-scan's through the reduction, summed over a head's channels,
 *      with and without seqIdx;
 * and the one-sided derivatives at the softplus threshold and the clamp bounds.
 */
import { describe, expect, it } from 'vitest';
import { reference } from '../../reference/index.ts';
import { clampDerivative, sigmoid, softplusDerivative } from '../../reference/vjp/derivatives.ts';
import { DIFFERENTIABLE_INPUTS, referenceJvp, referenceVjp } from '../../reference/vjp/index.ts';
import type { AnyProblem, FamilyName, Problem, SelectiveScanInputs, SsdInputs } from '../../spec/families.ts';
import { softplus } from '../../spec/families/selective-scan/discretization.ts';
import { dimensionsOf, outputShapes } from '../../spec/shapes.ts';
import { sliceAxis } from '../../spec/tensor-axis.ts';
import { tensor, type Tensor } from '../../spec/tensor.ts';
import { filled, seeded, type Random } from './random-inputs.ts';

const STEP = 2 ** -16;

/** A multiple of 2^-8 in [lo, hi]. */
const dyadic = (random: Random, lo: number, hi: number): number => Math.round((lo + (hi - lo) * random()) * 256) / 256;
/** A random (batch, …) tensor of multiples of 2^-8 in [lo, hi]. */
const values = (random: Random, shape: readonly number[], lo: number, hi: number): Tensor => filled(shape, () => dyadic(random, lo, hi));
/** A random small-integer tensor in [−3, 3], the direction of a finite difference. */
const direction = (random: Random, shape: readonly number[]): Tensor => filled(shape, () => Math.floor(random() * 7) - 3);

type Named = Record<string, Tensor | undefined>;

/** The problem's differentiable inputs that are present, by name. */
function differentiable(problem: AnyProblem): Record<string, Tensor> {
  const inputs = problem.inputs as unknown as Named;
  const names: readonly string[] = DIFFERENTIABLE_INPUTS[problem.family];
  return Object.fromEntries(names.flatMap((n) => (inputs[n] === undefined ? [] : [[n, inputs[n]]])));
}

/** A random cotangent for every output of the problem. */
function randomCotangents(problem: AnyProblem, random: Random): Record<string, Tensor> {
  const shapes = outputShapes(problem.family, dimensionsOf(problem)) as Record<string, readonly number[]>;
  return Object.fromEntries(Object.entries(shapes).map(([name, shape]) => [name, values(random, shape, -2, 2)]));
}

/** The problem with `name` moved by s·v (exactly representable: asserted). */
function moved(problem: AnyProblem, name: string, v: Tensor, s: number): AnyProblem {
  const base = (problem.inputs as unknown as Named)[name] as Tensor;
  const data = Float32Array.from(base.data, (x, i) => x + s * v.data[i]);
  data.forEach((x, i) => {
    if (x !== base.data[i] + s * v.data[i]) throw new Error(`${name}[${i}] ± step is not exact in float32`);
  });
  return { ...problem, inputs: { ...problem.inputs, [name]: tensor(data, base.shape) } } as AnyProblem;
}

const vjp = (problem: AnyProblem, cot: Record<string, Tensor>) => referenceVjp(problem as Problem<FamilyName>, cot as never);
const jvp = (problem: AnyProblem, tan: Record<string, Tensor>) => referenceJvp(problem as Problem<FamilyName>, tan as never) as Record<string, { data: Float64Array }>;
const grads = (r: ReturnType<typeof vjp>) => r.gradients as Record<string, { data: Float64Array } | undefined>;
const scales = (r: ReturnType<typeof vjp>) => r.conditionScales as Record<string, { data: Float64Array } | undefined>;

/** Σ x_i·y_i and Σ |x_i·y_i|. */
function dot(x: ArrayLike<number>, y: ArrayLike<number>): [number, number] {
  let [s, a] = [0, 0];
  for (let i = 0; i < x.length; i++) {
    s += x[i] * y[i];
    a += Math.abs(x[i] * y[i]);
  }
  return [s, a];
}

/** (a) and (b) for one problem. */
function checkAgainstForward(problem: AnyProblem, random: Random): void {
  const inputs = differentiable(problem);
  const cot = randomCotangents(problem, random);
  const tan = Object.fromEntries(Object.entries(inputs).map(([n, t]) => [n, direction(random, t.shape)]));
  const back = vjp(problem, cot);
  expect(Object.keys(back.gradients).sort()).toEqual(Object.keys(inputs).sort());

  // (a) ⟨ȳ, J·v⟩ = ⟨Jᵀ·ȳ, v⟩.
  const forwardTangent = jvp(problem, tan);
  let [lhs, lhsAbs, rhs, rhsAbs] = [0, 0, 0, 0];
  for (const [name, c] of Object.entries(cot)) {
    const [s, a] = dot(c.data, forwardTangent[name].data);
    [lhs, lhsAbs] = [lhs + s, lhsAbs + a];
  }
  for (const [name, v] of Object.entries(tan)) {
    const g = grads(back)[name] as { data: Float64Array };
    expect(g.data.length).toBe(v.data.length);
    const [s, a] = dot(g.data, v.data);
    [rhs, rhsAbs] = [rhs + s, rhsAbs + a];
    // The condition scale bounds the gradient's magnitude (it is the same sum on absolute values).
    const scale = (scales(back)[name] as { data: Float64Array }).data;
    g.data.forEach((x, i) => expect(Math.abs(x)).toBeLessThanOrEqual(scale[i] * (1 + 1e-15)));
    // The depth scale weighs each term by its decays, at most L of them (rule V of spec/tolerance.md).
    const depth = (back.depthScales as Record<string, { data: Float64Array }>)[name].data;
    const L = dimensionsOf(problem).length;
    depth.forEach((w, i) => {
      expect(w, `${name}[${i}] depth`).toBeGreaterThanOrEqual(0);
      expect(w, `${name}[${i}] depth`).toBeLessThanOrEqual(L * scale[i] * (1 + 2 ** -10));
    });
  }
  expect(lhsAbs).toBeGreaterThan(0);
  expect(Math.abs(lhs - rhs)).toBeLessThanOrEqual(1e-12 * Math.max(lhsAbs, rhsAbs));

  // (b) central differences of the forward reference, one input at a time.
  for (const [name, v] of Object.entries(tan)) {
    const only = jvp(problem, Object.fromEntries(Object.entries(tan).map(([n, t]) => [n, n === name ? t : filled(t.shape, () => 0)])));
    const plus = reference(moved(problem, name, v, STEP)).outputs as Record<string, { data: Float64Array }>;
    const minus = reference(moved(problem, name, v, -STEP)).outputs as Record<string, { data: Float64Array }>;
    const base = reference(problem).outputs as Record<string, { data: Float64Array }>;
    for (const output of Object.keys(only)) {
      const exact = only[output].data;
      const largest = Math.max(0, ...exact.map(Math.abs));
      const size = Math.max(0, ...base[output].data.map(Math.abs));
      exact.forEach((e, i) => {
        const fd = (plus[output].data[i] - minus[output].data[i]) / (2 * STEP);
        const where = `${problem.family} d${output}/d${name} at ${i}: fd ${fd}, jvp ${e}`;
        expect(Math.abs(fd - e), where).toBeLessThanOrEqual(1e-6 * largest + 1e-10 * size);
      });
    }
  }
}

/** dtLimit (lo, hi) in the widest gaps of v = softplus(dt + bias) (or dt + bias) in the lower and upper thirds, so some Δ are clamped and none sits near a bound. */
function limitsInGaps(inputs: SsdInputs, dtSoftplus: boolean): Tensor {
  const [, , H] = inputs.dt.shape;
  const v = [...inputs.dt.data].map((x, i) => x + (inputs.dtBias?.data[i % H] ?? 0)).map((x) => (dtSoftplus ? softplus(x) : x)).sort((p, q) => p - q);
  const widest = (from: number, to: number): number => {
    let best = from;
    for (let i = from; i < to; i++) if (v[i] - v[i - 1] > v[best] - v[best - 1]) best = i;
    expect(v[best] - v[best - 1]).toBeGreaterThan(4 * 3 * STEP);
    return Math.fround((v[best] + v[best - 1]) / 2);
  };
  return tensor([widest(1, Math.floor(v.length / 3)), widest(Math.ceil((2 * v.length) / 3), v.length - 1)], [2]);
}

/** Row 0 packs sequences [0, 3), [3, 5), [5, 6) (ids 0, 1, 4); row 1 [0, 1), [1, 6) (ids 2, 3): resets at t = 3, 5 and t = 1. */
const PACKED_IDS = [0, 0, 0, 1, 1, 4, 2, 3, 3, 3, 3, 3];

/** A random selective-scan problem: B and C in the given layouts, every optional input, seqIdx (PACKED_IDS) on request. */
function selectiveScanProblem(random: Random, layouts: readonly [number, number], deltaSoftplus: boolean, packed = false): Problem<'selective-scan'> {
  const [batch, dim, L, N] = [2, 4, 6, 3];
  const projection = (rank: number): Tensor =>
    rank === 2 ? values(random, [dim, N], -2, 2) : rank === 3 ? values(random, [batch, N, L], -2, 2) : values(random, [batch, 2, N, L], -2, 2);
  return {
    family: 'selective-scan',
    inputs: {
      u: values(random, [batch, dim, L], -2, 2),
      delta: deltaSoftplus ? values(random, [batch, dim, L], -2, 2) : values(random, [batch, dim, L], 0.05, 1),
      A: values(random, [dim, N], -2, -0.1),
      B: projection(layouts[0]),
      C: projection(layouts[1]),
      D: values(random, [dim], -2, 2),
      z: values(random, [batch, dim, L], -3, 3),
      deltaBias: values(random, [dim], deltaSoftplus ? -1 : 0, deltaSoftplus ? 1 : 0.25),
      h0: values(random, [batch, dim, N], -2, 2),
      ...(packed ? { seqIdx: tensor(PACKED_IDS, [batch, L]) } : {}),
    },
    options: { deltaSoftplus },
  };
}

/** A random ssd problem: H = 4 heads of P = 2, G = 2, N = 3, every optional input, seqIdx and dtLimit on request. */
function ssdProblem(random: Random, dtSoftplus: boolean, { packed = false, limited = false, perChannelD = false } = {}): Problem<'ssd'> {
  const [batch, L, H, P, G, N] = [2, 7, 4, 2, 2, 3];
  const inputs: SsdInputs = {
    x: values(random, [batch, L, H, P], -2, 2),
    dt: dtSoftplus ? values(random, [batch, L, H], -2, 2) : values(random, [batch, L, H], 0.05, 1),
    A: values(random, [H], -2, -0.1),
    B: values(random, [batch, L, G, N], -2, 2),
    C: values(random, [batch, L, G, N], -2, 2),
    D: perChannelD ? values(random, [H, P], -2, 2) : values(random, [H], -2, 2),
    z: values(random, [batch, L, H, P], -3, 3),
    dtBias: values(random, [H], dtSoftplus ? -1 : 0, dtSoftplus ? 1 : 0.25),
    initialStates: values(random, [batch, H, P, N], -2, 2),
    ...(packed ? { seqIdx: filled([batch, L], (i) => (i % L < 3 ? 0 : i % L < 5 ? 1 : 4)) } : {}),
  };
  return { family: 'ssd', inputs: limited ? { ...inputs, dtLimit: limitsInGaps(inputs, dtSoftplus) } : inputs, options: { dtSoftplus } };
}

describe('(a) dot-product test and (b) finite differences, every family and option', () => {
  const random = seeded('vjp forward checks');
  const [batch, dim, L] = [2, 3, 7];
  for (const exclusive of [false, true]) {
    for (const reverse of [false, true]) {
      it(`prefix-sum exclusive = ${exclusive}, reverse = ${reverse}`, () => {
        checkAgainstForward({ family: 'prefix-sum', inputs: { x: values(random, [batch, dim, L], -4, 4) }, options: { exclusive, reverse } }, random);
      });
    }
  }
  for (const reverse of [false, true]) {
    for (const withH0 of [false, true]) {
      it(`linear-recurrence reverse = ${reverse}, h0 ${withH0 ? 'given' : 'absent'}`, () => {
        const inputs = { a: values(random, [batch, dim, L], -1.25, 1.25), b: values(random, [batch, dim, L], -2, 2), ...(withH0 ? { h0: values(random, [batch, dim], -2, 2) } : {}) };
        checkAgainstForward({ family: 'linear-recurrence', inputs, options: { reverse } }, random);
      });
    }
  }
  for (const withD of [false, true]) {
    it(`lti-ssm, D ${withD ? 'given' : 'absent'}`, () => {
      const N = 3;
      const inputs = {
        Abar: values(random, [dim, N], -1, 1),
        Bbar: values(random, [dim, N], -2, 2),
        C: values(random, [dim, N], -2, 2),
        u: values(random, [batch, dim, L], -2, 2),
        ...(withD ? { D: values(random, [dim], -2, 2) } : {}),
      };
      checkAgainstForward({ family: 'lti-ssm', inputs, options: {} }, random);
    });
  }
  for (const deltaSoftplus of [false, true]) {
    for (const layouts of [[2, 2], [3, 4], [4, 3]] as const) {
      it(`selective-scan deltaSoftplus = ${deltaSoftplus}, B rank ${layouts[0]}, C rank ${layouts[1]}`, () => {
        checkAgainstForward(selectiveScanProblem(random, layouts, deltaSoftplus), random);
      });
    }
  }
  for (const deltaSoftplus of [false, true]) {
    it(`selective-scan deltaSoftplus = ${deltaSoftplus} with seqIdx resets, B rank 3, C rank 2 and rank 4, C rank 3`, () => {
      checkAgainstForward(selectiveScanProblem(random, [3, 2], deltaSoftplus, true), random);
      checkAgainstForward(selectiveScanProblem(random, [4, 3], deltaSoftplus, true), random);
    });
  }
  it('selective-scan with only the required inputs', () => {
    const { D: _d, z: _z, deltaBias: _b, h0: _h, ...bare } = selectiveScanProblem(random, [3, 3], true).inputs;
    checkAgainstForward({ family: 'selective-scan', inputs: bare, options: { deltaSoftplus: true } }, random);
  });
  for (const dtSoftplus of [false, true]) {
    it(`ssd dtSoftplus = ${dtSoftplus}, D per head and per channel`, () => {
      checkAgainstForward(ssdProblem(random, dtSoftplus), random);
      checkAgainstForward(ssdProblem(random, dtSoftplus, { perChannelD: true }), random);
    });
    it(`ssd dtSoftplus = ${dtSoftplus} with seqIdx resets and a dtLimit that clamps`, () => {
      checkAgainstForward(ssdProblem(random, dtSoftplus, { packed: true, limited: true }), random);
    });
  }
});

/** |x − y| ≤ 1e-13·scale elementwise. */
function expectClose(x: ArrayLike<number>, y: ArrayLike<number>, scale: ArrayLike<number>, what: string): void {
  expect(x.length, what).toBe(y.length);
  for (let i = 0; i < x.length; i++) expect(Math.abs(x[i] - y[i]), `${what} at ${i}: ${x[i]} vs ${y[i]}`).toBeLessThanOrEqual(1e-13 * scale[i] + 1e-300);
}

describe('(c) shared parameters are summed over what shares them', () => {
  const random = seeded('vjp shared sums');
  const [batch, dim, L, N] = [2, 4, 6, 3];

  it('selective-scan: a time-invariant B, C get the sum over batch and time of the per-(b, t) gradients; a (batch, N, L) B, C the sum over channels', () => {
    const base = selectiveScanProblem(random, [2, 3], true);
    const invB = base.inputs.B;
    const tvC = base.inputs.C;
    // The same values as grouped (batch, G = dim, N, L): every channel, batch and token its own entry.
    const groupedB = filled([batch, dim, N, L], (i) => invB.data[Math.floor(i / (N * L)) % dim * N + (Math.floor(i / L) % N)]);
    const groupedC = filled([batch, dim, N, L], (i) => tvC.data[(Math.floor(i / (dim * N * L)) * N + (Math.floor(i / L) % N)) * L + (i % L)]);
    const cot = randomCotangents(base, random);
    const shared = vjp(base, cot);
    const split = vjp({ ...base, inputs: { ...base.inputs, B: groupedB, C: groupedC } }, cot);
    const sum = (source: Float64Array, target: number, key: (i: number) => number): Float64Array => {
      const out = new Float64Array(target);
      source.forEach((x, i) => (out[key(i)] += x));
      return out;
    };
    const toInvariant = (i: number): number => (Math.floor(i / (N * L)) % dim) * N + (Math.floor(i / L) % N);
    const toTimeVarying = (i: number): number => (Math.floor(i / (dim * N * L)) * N + (Math.floor(i / L) % N)) * L + (i % L);
    const g = grads(split);
    const s = scales(split);
    expectClose(grads(shared).B!.data, sum(g.B!.data, dim * N, toInvariant), sum(s.B!.data, dim * N, toInvariant), 'dB (dim, N)');
    expectClose(grads(shared).C!.data, sum(g.C!.data, batch * N * L, toTimeVarying), sum(s.C!.data, batch * N * L, toTimeVarying), 'dC (batch, N, L)');
    // Everything else is the same problem: equal gradients.
    for (const name of ['u', 'delta', 'A', 'D', 'z', 'deltaBias', 'h0']) expectClose(grads(shared)[name]!.data, g[name]!.data, s[name]!.data, `d${name}`);
  });

  it('selective-scan: deltaBias gets the sum of delta\'s gradient over batch and time', () => {
    const problem = selectiveScanProblem(random, [4, 4], true);
    const r = vjp(problem, randomCotangents(problem, random));
    const delta = grads(r).delta!.data;
    const total = Float64Array.from({ length: dim }, (_, d) => {
      let s = 0;
      for (let b = 0; b < batch; b++) for (let t = 0; t < L; t++) s += delta[(b * dim + d) * L + t];
      return s;
    });
    expectClose(grads(r).deltaBias!.data, total, scales(r).deltaBias!.data, 'd deltaBias');
  });

  it('ssd: dtBias gets the sum of dt\'s gradient over batch and time', () => {
    const problem = ssdProblem(random, true, { packed: true, limited: true });
    const r = vjp(problem, randomCotangents(problem, random));
    const [nb, length, H] = problem.inputs.dt.shape;
    const dt = grads(r).dt!.data;
    const total = Float64Array.from({ length: H }, (_, h) => {
      let s = 0;
      for (let b = 0; b < nb; b++) for (let t = 0; t < length; t++) s += dt[(b * length + t) * H + h];
      return s;
    });
    expectClose(grads(r).dtBias!.data, total, scales(r).dtBias!.data, 'd dtBias');
  });
});

describe('(d) the initial state\'s gradient', () => {
  const random = seeded('vjp initial state');
  const [batch, dim, L, N] = [2, 3, 5, 2];

  for (const reverse of [false, true]) {
    it(`linear-recurrence reverse = ${reverse}: dh0 is db of an extra first token (in processing order) that brings h0 in`, () => {
      const a = values(random, [batch, dim, L], -1.25, 1.25);
      const b = values(random, [batch, dim, L], -2, 2);
      const h0 = values(random, [batch, dim], -2, 2);
      const hBar = values(random, [batch, dim, L], -2, 2);
      const lastBar = values(random, [batch, dim], -2, 2);
      // The extra token sits at t = 0 forward, at t = L reversed; its own output's cotangent is 0.
      const extended = (t: Tensor, extra: (row: number) => number): Tensor =>
        filled([batch, dim, L + 1], (i) => {
          const [row, s] = [Math.floor(i / (L + 1)), i % (L + 1)];
          const first = reverse ? s === L : s === 0;
          return first ? extra(row) : t.data[row * L + s - (reverse ? 0 : 1)];
        });
      const short = vjp({ family: 'linear-recurrence', inputs: { a, b, h0 }, options: { reverse } }, { h: hBar, lastState: lastBar });
      const long = vjp(
        { family: 'linear-recurrence', inputs: { a: extended(a, () => 0.5), b: extended(b, (row) => h0.data[row]) }, options: { reverse } },
        { h: extended(hBar, () => 0), lastState: lastBar },
      );
      const dh0 = Float64Array.from({ length: batch * dim }, (_, row) => grads(long).b!.data[row * (L + 1) + (reverse ? L : 0)]);
      expectClose(grads(short).h0!.data, dh0, scales(short).h0!.data, 'dh0');
      // dh0 carries the first decay: without a_first it would be the plain state cotangent λ.
      expect(grads(short).h0!.data.some((x, row) => Math.abs(x - grads(short).b!.data[row * L + (reverse ? L - 1 : 0)]) > 1e-3)).toBe(true);
    });
  }

  it('selective-scan: dh0 is dB of an extra first token (Δ = 1, u = 1, B = h0) that brings h0 in', () => {
    const base = selectiveScanProblem(random, [4, 4], false);
    const { deltaBias: _b, ...inputs } = base.inputs;
    // selectiveScanProblem's N is 3.
    const [nb, dm, length] = inputs.u.shape;
    const grouped = (t: Tensor, first: (b: number, d: number, n: number) => number): Tensor =>
      filled([nb, dm, 3, length + 1], (i) => {
        const [bd, n, s] = [Math.floor(i / (3 * (length + 1))), Math.floor(i / (length + 1)) % 3, i % (length + 1)];
        return s === 0 ? first(Math.floor(bd / dm), bd % dm, n) : t.data[(bd * 3 + n) * length + s - 1];
      });
    // B, C grouped with G = dim (rank 4, G = 2 in selectiveScanProblem: regroup per channel).
    const perChannel = (t: Tensor): Tensor => filled([nb, dm, 3, length], (i) => {
      const [b, d, rest] = [Math.floor(i / (dm * 3 * length)), Math.floor(i / (3 * length)) % dm, i % (3 * length)];
      return t.data[(b * 2 + Math.floor(d / (dm / 2))) * 3 * length + rest];
    });
    const B = perChannel(inputs.B);
    const C = perChannel(inputs.C);
    const h0 = inputs.h0 as Tensor;
    const seq = (t: Tensor, first: number): Tensor => filled([nb, dm, length + 1], (i) => (i % (length + 1) === 0 ? first : t.data[Math.floor(i / (length + 1)) * length + (i % (length + 1)) - 1]));
    const short: Problem<'selective-scan'> = { family: 'selective-scan', inputs: { ...inputs, B, C }, options: { deltaSoftplus: false } };
    const { h0: _h, ...rest } = short.inputs;
    const long: Problem<'selective-scan'> = {
      family: 'selective-scan',
      inputs: { ...rest, u: seq(inputs.u, 1), delta: seq(inputs.delta, 1), z: seq(inputs.z as Tensor, 1), B: grouped(B, (b, d, n) => h0.data[(b * dm + d) * 3 + n]), C: grouped(C, () => 1) },
      options: { deltaSoftplus: false },
    };
    const yBar = values(random, [nb, dm, length], -2, 2);
    const lastBar = values(random, [nb, dm, 3], -2, 2);
    const s = vjp(short, { y: yBar, lastState: lastBar });
    const l = vjp(long, { y: seq(yBar, 0), lastState: lastBar });
    const dh0 = Float64Array.from({ length: nb * dm * 3 }, (_, i) => grads(l).B!.data[i * (length + 1)]);
    expectClose(grads(s).h0!.data, dh0, scales(s).h0!.data, 'dh0');
  });

  it('L = 0: dh0 = dlastState and dinitialStates = dfinalStates; a reset cuts the initial state off from later cotangents', () => {
    const lr = vjp({ family: 'linear-recurrence', inputs: { a: filled([batch, dim, 0], () => 0), b: filled([batch, dim, 0], () => 0), h0: values(random, [batch, dim], -1, 1) }, options: { reverse: false } }, { h: filled([batch, dim, 0], () => 0), lastState: values(random, [batch, dim], -1, 1) });
    expect(grads(lr).h0!.data.length).toBe(batch * dim);
    const problem = ssdProblem(random, true, { packed: true });
    const cot = randomCotangents(problem, random);
    const [nb, length, H, P] = problem.inputs.x.shape;
    // seqIdx starts a new sequence at t = 3: what comes at or after it cannot reach initialStates.
    const later = { ...cot, y: filled([nb, length, H, P], (i) => (Math.floor(i / (H * P)) % length >= 3 ? 7 : cot.y.data[i])), finalStates: filled(cot.finalStates.shape, () => 5) };
    expect(grads(vjp(problem, later)).initialStates!.data).toEqual(grads(vjp(problem, cot)).initialStates!.data);
    const empty = { ...problem, inputs: { x: filled([nb, 0, H, P], () => 0), dt: filled([nb, 0, H], () => 0), A: problem.inputs.A, B: filled([nb, 0, 2, 3], () => 0), C: filled([nb, 0, 2, 3], () => 0), initialStates: problem.inputs.initialStates } } as Problem<'ssd'>;
    const finalBar = values(random, [nb, H, P, 3], -1, 1);
    const r = vjp(empty, { y: filled([nb, 0, H, P], () => 0), finalStates: finalBar });
    expect([...grads(r).initialStates!.data]).toEqual([...finalBar.data]);
    expect([...grads(r).A!.data]).toEqual([0, 0, 0, 0]);
  });

  for (const layouts of [[3, 4], [2, 3]] as const) {
    it(`selective-scan, B rank ${layouts[0]}, C rank ${layouts[1]}: a packed row's gradients and scales are each sequence's alone, h0's only the first's`, () => {
      const packed = selectiveScanProblem(random, layouts, true, true);
      const [nb, dm, length] = packed.inputs.u.shape;
      const cot = randomCotangents(packed, random);
      const whole = vjp(packed, cot);
      const inputs = packed.inputs as unknown as Record<string, Tensor>;
      // Time-last and batched: u, delta, z and a B or C of rank 3 or 4; shared by every sequence: the rest but h0.
      const perToken = (name: string): boolean => ['u', 'delta', 'z'].includes(name) || ((name === 'B' || name === 'C') && inputs[name].shape.length > 2);
      const expected = { gradients: {} as Record<string, Float64Array>, conditionScales: {} as Record<string, Float64Array>, depthScales: {} as Record<string, Float64Array> };
      for (const kind of Object.keys(expected) as (keyof typeof expected)[]) for (const name of Object.keys(whole.gradients)) expected[kind][name] = new Float64Array(inputs[name].data.length);
      let sequences = 0;
      for (let b = 0; b < nb; b++) {
        const ids = PACKED_IDS.slice(b * length, (b + 1) * length);
        const starts = ids.flatMap((id, t) => (t === 0 || id !== ids[t - 1] ? [t] : []));
        starts.forEach((s, k) => {
          const e = starts[k + 1] ?? length;
          const first = k === 0;
          const last = e === length;
          const alone: Record<string, Tensor> = {};
          for (const [name, t] of Object.entries(inputs)) {
            if (name === 'seqIdx' || (name === 'h0' && !first)) continue;
            alone[name] = name === 'h0' ? sliceAxis(t, 0, b, b + 1) : perToken(name) ? sliceAxis(sliceAxis(t, 0, b, b + 1), t.shape.length - 1, s, e) : t;
          }
          const own = vjp(
            { family: 'selective-scan', inputs: alone as unknown as SelectiveScanInputs, options: packed.options },
            { y: sliceAxis(sliceAxis(cot.y, 0, b, b + 1), 2, s, e), lastState: last ? sliceAxis(cot.lastState, 0, b, b + 1) : filled([1, dm, 3], () => 0) },
          ) as unknown as Record<keyof typeof expected, Record<string, { data: Float64Array }>>;
          for (const kind of Object.keys(expected) as (keyof typeof expected)[]) {
            for (const [name, { data }] of Object.entries(own[kind])) {
              const size = inputs[name].data.length;
              const inner = size / nb / length;
              data.forEach((x, j) => {
                const at = name === 'h0' ? (b * size) / nb + j : perToken(name) ? b * inner * length + Math.floor(j / (e - s)) * length + s + (j % (e - s)) : j;
                expected[kind][name][at] += x;
              });
            }
          }
          sequences++;
        });
      }
      expect(sequences).toBe(5);
      const mine = whole as unknown as Record<keyof typeof expected, Record<string, { data: Float64Array }>>;
      for (const name of Object.keys(whole.gradients)) {
        const scale = mine.conditionScales[name].data;
        expectClose(mine.gradients[name].data, expected.gradients[name], scale, `gradient of ${name}`);
        expectClose(mine.conditionScales[name].data, expected.conditionScales[name], scale, `condition scale of ${name}`);
        // Depth scales are difference quotients (reference/vjp/index.ts): 2^-33·G each, summed over at most 3 sequences.
        const depth = mine.depthScales[name].data;
        depth.forEach((w, i) => expect(Math.abs(w - expected.depthScales[name][i]), `depth scale of ${name} at ${i}`).toBeLessThanOrEqual(2 ** -30 * scale[i]));
      }
      // Not vacuous: without the resets, h0 would reach (and get a gradient from) every later token.
      const { seqIdx: _s, ...unpacked } = packed.inputs;
      const across = grads(vjp({ ...packed, inputs: unpacked }, cot)).h0!.data;
      expect(across.some((x, i) => Math.abs(x - grads(whole).h0!.data[i]) > 1e-3)).toBe(true);
    });
  }

  it('selective-scan: an exp(Δ·A) that overflows at a reset is not formed, in the gradients, scales and tangents', () => {
    // A > 0 with Δ = 1000 at the reset token (t = 3 of row 0) only: exp overflows there and nowhere else.
    const base = selectiveScanProblem(random, [3, 3], false, true);
    const A = filled(base.inputs.A.shape, () => 1);
    const delta = filled(base.inputs.delta.shape, (i) => (i % 6 === 3 && i < 24 ? 1000 : 0.0625));
    const problem: Problem<'selective-scan'> = { ...base, inputs: { ...base.inputs, A, delta } };
    const cot = randomCotangents(problem, random);
    const r = vjp(problem, cot);
    for (const kind of [r.gradients, r.conditionScales, r.depthScales] as Record<string, { data: Float64Array }>[]) {
      for (const [name, { data }] of Object.entries(kind)) expect(data.every(Number.isFinite), name).toBe(true);
    }
    const tangents = Object.fromEntries(Object.entries(differentiable(problem)).map(([n, t]) => [n, direction(random, t.shape)]));
    for (const [name, { data }] of Object.entries(jvp(problem, tangents))) expect(data.every(Number.isFinite), name).toBe(true);
  });
});

describe('(e) ssd = selective-scan through the reduction, summed over a head\'s channels', () => {
  /** The selective-scan problem an ssd problem (no dtLimit) is (spec/README.md "How the families reduce"); seqIdx (batch, L) carries over as it is. */
  function asSelectiveScan(inputs: SsdInputs): SelectiveScanInputs {
    const [nb, length, H, P] = inputs.x.shape;
    const [, , G, N] = inputs.B.shape;
    const dm = H * P;
    const timeLast = (t: Tensor, per: number): Tensor =>
      filled([nb, dm, length], (i) => {
        const [b, d, s] = [Math.floor(i / (dm * length)), Math.floor(i / length) % dm, i % length];
        return t.data[((b * length + s) * H + Math.floor(d / P)) * per + (per === 1 ? 0 : d % P)];
      });
    const grouped = (t: Tensor): Tensor =>
      filled([nb, G, N, length], (i) => {
        const [bg, n, s] = [Math.floor(i / (N * length)), Math.floor(i / length) % N, i % length];
        return t.data[((Math.floor(bg / G) * length + s) * G + (bg % G)) * N + n];
      });
    const perChannel = (t: Tensor): Tensor => filled([dm], (d) => t.data[t.shape.length === 2 ? d : Math.floor(d / P)]);
    return {
      u: timeLast(inputs.x, P),
      delta: timeLast(inputs.dt, 1),
      A: filled([dm, N], (i) => inputs.A.data[Math.floor(i / N / P)]),
      B: grouped(inputs.B),
      C: grouped(inputs.C),
      ...(inputs.D === undefined ? {} : { D: perChannel(inputs.D) }),
      ...(inputs.z === undefined ? {} : { z: timeLast(inputs.z, P) }),
      ...(inputs.dtBias === undefined ? {} : { deltaBias: perChannel(inputs.dtBias) }),
      ...(inputs.initialStates === undefined ? {} : { h0: tensor(inputs.initialStates.data, [nb, dm, N]) }),
      ...(inputs.seqIdx === undefined ? {} : { seqIdx: inputs.seqIdx }),
    };
  }

  for (const [dtSoftplus, perChannelD, packed] of [[true, false, false], [false, true, false], [true, true, true], [false, false, true]] as const) {
    it(`dtSoftplus = ${dtSoftplus}, D ${perChannelD ? '(H, P)' : '(H)'}${packed ? ', seqIdx resets' : ''}: every gradient and condition scale`, () => {
      const random = seeded(`vjp ssd reduction ${dtSoftplus}${packed ? ' packed' : ''}`);
      const problem = ssdProblem(random, dtSoftplus, { perChannelD, packed });
      const [nb, length, H, P] = problem.inputs.x.shape;
      const [, , G, N] = problem.inputs.B.shape;
      const dm = H * P;
      const cot = randomCotangents(problem, random);
      const ssd = vjp(problem, cot);
      const sel = vjp(
        { family: 'selective-scan', inputs: asSelectiveScan(problem.inputs), options: { deltaSoftplus: dtSoftplus } },
        { y: filled([nb, dm, length], (i) => cot.y.data[((Math.floor(i / (dm * length)) * length + (i % length)) * dm) + (Math.floor(i / length) % dm)]), lastState: tensor(cot.finalStates.data, [nb, dm, N]) },
      );
      for (const [mine, theirs, what] of [[grads(ssd), grads(sel), 'gradient'], [scales(ssd), scales(sel), 'condition scale']] as const) {
        /** Σ of the selective-scan tensor `name` into a tensor of `size` by `key`. */
        const gather = (name: string, size: number, key: (i: number) => number): Float64Array => {
          const out = new Float64Array(size);
          theirs[name]!.data.forEach((x, i) => (out[key(i)] += x));
          return out;
        };
        const bdt = (i: number) => [Math.floor(i / (dm * length)), Math.floor(i / length) % dm, i % length];
        const checks: [string, Float64Array][] = [
          ['x', gather('u', nb * length * dm, (i) => { const [b, d, t] = bdt(i); return (b * length + t) * dm + d; })],
          ['z', gather('z', nb * length * dm, (i) => { const [b, d, t] = bdt(i); return (b * length + t) * dm + d; })],
          ['dt', gather('delta', nb * length * H, (i) => { const [b, d, t] = bdt(i); return (b * length + t) * H + Math.floor(d / P); })],
          ['A', gather('A', H, (i) => Math.floor(i / N / P))],
          ['B', gather('B', nb * length * G * N, (i) => { const [bg, n, t] = [Math.floor(i / (N * length)), Math.floor(i / length) % N, i % length]; return ((Math.floor(bg / G) * length + t) * G + (bg % G)) * N + n; })],
          ['C', gather('C', nb * length * G * N, (i) => { const [bg, n, t] = [Math.floor(i / (N * length)), Math.floor(i / length) % N, i % length]; return ((Math.floor(bg / G) * length + t) * G + (bg % G)) * N + n; })],
          ['D', gather('D', perChannelD ? dm : H, (d) => (perChannelD ? d : Math.floor(d / P)))],
          ['dtBias', gather('deltaBias', H, (d) => Math.floor(d / P))],
          ['initialStates', gather('h0', nb * dm * N, (i) => i)],
        ];
        for (const [name, expected] of checks) expectClose(mine[name]!.data, expected, scales(ssd)[name]!.data.map((x) => 2 * x), `${what} of ${name}`);
      }
    });
  }
});

describe('one-sided derivatives (PyTorch conventions)', () => {
  it('softplus: σ(x) up to and at the threshold 20, 1 above it', () => {
    expect(softplusDerivative(20)).toBe(sigmoid(20));
    expect(softplusDerivative(20)).toBeLessThan(1);
    expect(softplusDerivative(Math.fround(20 + 2 ** -19))).toBe(1);
    expect(softplusDerivative(0)).toBe(0.5);
  });
  it('clamp: 1 on lo ≤ v ≤ hi, the bounds included (torch.clamp\'s backward), 0 outside', () => {
    expect([clampDerivative(1, 1, 2), clampDerivative(2, 1, 2), clampDerivative(1.5, 1, 2)]).toEqual([1, 1, 1]);
    expect([clampDerivative(0.999, 1, 2), clampDerivative(2.001, 1, 2)]).toEqual([0, 0]);
  });
  it('ssd: a Δ exactly at a dtLimit bound passes its gradient; one clamped beyond it gets none', () => {
    const random = seeded('vjp clamp bound');
    const problem = ssdProblem(random, false);
    const { dtBias: _b, ...inputs } = problem.inputs;
    // The smallest Δ as the lower bound: on the bound it passes (the same as no limit at all);
    // with the bound a float32 step above it, it is clamped and gets no gradient.
    const lowest = inputs.dt.data.indexOf(Math.min(...inputs.dt.data));
    const at = inputs.dt.data[lowest];
    const cot = randomCotangents(problem, random);
    const run = (lo: number) => grads(vjp({ ...problem, inputs: { ...inputs, dtLimit: tensor([lo, 1e6], [2]) } }, cot)).dt!.data;
    const open = grads(vjp({ ...problem, inputs }, cot)).dt!.data;
    const onBound = run(at);
    expect([...onBound]).toEqual([...open]);
    expect(onBound[lowest]).not.toBe(0);
    const above = Math.fround(at * (1 + 2 ** -22));
    expect(above).toBeGreaterThan(at);
    expect(run(above)[lowest]).toBe(0);
  });
});

describe('bad cotangents and tangents are rejected, naming the tensor', () => {
  const problem: Problem<'linear-recurrence'> = { family: 'linear-recurrence', inputs: { a: filled([1, 2, 3], () => 0.5), b: filled([1, 2, 3], () => 1) }, options: { reverse: false } };
  it('a missing, misshapen or non-finite cotangent, an unexpected or missing tangent', () => {
    expect(() => referenceVjp(problem, { h: filled([1, 2, 3], () => 1) } as never)).toThrow('linear-recurrence cotangents: lastState: expected a tensor of shape [1, 2], got undefined (missing)');
    expect(() => referenceVjp(problem, { h: filled([1, 6], () => 1), lastState: filled([1, 2], () => 1) })).toThrow('linear-recurrence cotangents: h.shape: expected [1, 2, 3], got [1, 6]');
    expect(() => referenceVjp(problem, { h: filled([1, 2, 3], () => Number.NaN), lastState: filled([1, 2], () => 1) })).toThrow('linear-recurrence cotangents: h: expected finite values, got NaN at flat index 0');
    expect(() => referenceJvp(problem, { a: filled([1, 2, 3], () => 1), b: filled([1, 2, 3], () => 1), h0: filled([1, 2], () => 1) })).toThrow('linear-recurrence tangents: h0: expected one of a, b, got an unexpected name');
    expect(() => referenceJvp(problem, { a: filled([1, 2, 3], () => 1) })).toThrow('linear-recurrence tangents: b: expected a tensor of shape [1, 2, 3], got undefined (missing)');
  });
});

describe('condition and depth scales of the gradient tolerance (spec/tolerance.md rule V)', () => {
  it('linear-recurrence L = 2 by hand: G = Σ|τ| and W_G = Σ (decays in τ)·|τ| for b̄0 and h̄0', () => {
    // h_0 = a0·h0 + b0, h_1 = a1·h_0 + b1; b̄0 = h̄_0 + a1·(h̄_1 + f̄), h̄0 = a0·b̄0.
    const [a0, a1, hb0, hb1, fb] = [-0.75, 0.5, 1.25, -2, 0.25];
    const r = vjp(
      { family: 'linear-recurrence', inputs: { a: tensor([a0, a1], [1, 1, 2]), b: tensor([1, -1], [1, 1, 2]), h0: tensor([0.5], [1, 1]) }, options: { reverse: false } },
      { h: tensor([hb0, hb1], [1, 1, 2]), lastState: tensor([fb], [1, 1]) },
    );
    const depth = r.depthScales as Record<string, { data: Float64Array }>;
    expect(scales(r).b!.data[0]).toBe(Math.abs(hb0) + Math.abs(a1) * (Math.abs(hb1) + Math.abs(fb)));
    expect(depth.b.data[0]).toBeCloseTo(Math.abs(a1) * (Math.abs(hb1) + Math.abs(fb)), 5);
    expect(depth.b.data[1]).toBe(0);
    expect(depth.h0.data[0]).toBeCloseTo(Math.abs(a0 * hb0) + 2 * Math.abs(a0 * a1) * (Math.abs(hb1) + Math.abs(fb)), 5);
  });

  it('the z scale is |ȳ|·S(y\'\')·σ·(1 + |z|·(1 − σ)), which bounds silu\' where it cancels', () => {
    // One token, one state, C = 1, no D: y'' = Δ·B·u, and at z = −1.25 silu' is small by cancellation.
    const z = -1.25;
    const s = 1 / (1 + Math.exp(-z));
    const r = vjp(
      {
        family: 'selective-scan',
        inputs: { u: tensor([1], [1, 1, 1]), delta: tensor([0.5], [1, 1, 1]), A: tensor([-1], [1, 1]), B: tensor([2], [1, 1]), C: tensor([1], [1, 1]), z: tensor([z], [1, 1, 1]) },
        options: { deltaSoftplus: false },
      },
      { y: tensor([3], [1, 1, 1]), lastState: tensor([0], [1, 1, 1]) },
    );
    expect(scales(r).z!.data[0]).toBeCloseTo(3 * 1 * s * (1 + 1.25 * (1 - s)), 12);
    expect(Math.abs(grads(r).z!.data[0])).toBeLessThan(scales(r).z!.data[0] / 4);
  });
});
