/**
 * mamba3-siso's gradient reference (reference/vjp/mamba3-siso.ts, spec/gradients.md): the
 * dot-product identity ⟨ȳ, J·v⟩ = ⟨Jᵀ·ȳ, v⟩ between its JVP and VJP, and central finite
 * differences of the forward reference (reference/mamba3-siso.ts) against the JVP, input by input
 * (the final angle state's difference taken on the circle, mod 2π), with and without the optional
 * inputs and states, L = 0 included.
 */
import { describe, expect, it } from 'vitest';
import { reference } from '../../reference/index.ts';
import { DIFFERENTIABLE_INPUTS, referenceJvp, referenceVjp } from '../../reference/vjp/index.ts';
import type { Problem } from '../../spec/families.ts';
import { dimensionsOf, outputShapes } from '../../spec/shapes.ts';
import { tensor, type Tensor } from '../../spec/tensor.ts';
import { filled, seeded, type Random } from './random-inputs.ts';

const STEP = 2 ** -16;
const dyadic = (random: Random, lo: number, hi: number): number => Math.round((lo + (hi - lo) * random()) * 256) / 256;
const values = (random: Random, shape: readonly number[], lo: number, hi: number): Tensor => filled(shape, () => dyadic(random, lo, hi));
const direction = (random: Random, shape: readonly number[]): Tensor => filled(shape, () => Math.floor(random() * 7) - 3);

/** A small mamba3-siso problem (batch 2, H = 4 heads in G = 2 blocks, P = 2, N = 4, A = 2 angles); `all` adds D, Z and the four states. */
function problem(random: Random, L: number, all: boolean): Problem<'mamba3-siso'> {
  const [batch, H, G, P, N, A] = [2, 4, 2, 2, 4, 2];
  const inputs = {
    Q: values(random, [batch, L, G, N], -1, 1),
    K: values(random, [batch, L, G, N], -1, 1),
    V: values(random, [batch, L, H, P], -2, 2),
    ADT: values(random, [batch, H, L], -1, 0),
    DT: values(random, [batch, H, L], 0.25, 1),
    Trap: values(random, [batch, H, L], -2, 2),
    QBias: values(random, [H, N], -0.5, 0.5),
    KBias: values(random, [H, N], -0.5, 0.5),
    Angles: values(random, [batch, L, H, A], -2, 2),
    ...(all
      ? {
          D: values(random, [H], -1, 1),
          Z: values(random, [batch, L, H, P], -2, 2),
          angleState: values(random, [batch, H, A], 0, 6),
          ssmState: values(random, [batch, H, P, N], -1, 1),
          kState: values(random, [batch, H, N], -1, 1),
          vState: values(random, [batch, H, P], -1, 1),
        }
      : {}),
  };
  return { family: 'mamba3-siso', inputs, options: {} };
}

/** Σ x·y and Σ |x·y|. */
function dot(x: ArrayLike<number>, y: ArrayLike<number>): [number, number] {
  let [s, a] = [0, 0];
  for (let i = 0; i < x.length; i++) [s, a] = [s + x[i] * y[i], a + Math.abs(x[i] * y[i])];
  return [s, a];
}

/** The problem with `name` moved by s·v, exact in float32 (asserted). */
function moved(p: Problem<'mamba3-siso'>, name: string, v: Tensor, s: number): Problem<'mamba3-siso'> {
  const base = (p.inputs as unknown as Record<string, Tensor>)[name];
  const data = Float32Array.from(base.data, (x, i) => x + s * v.data[i]);
  data.forEach((x, i) => expect(x, `${name}[${i}] ± step exact`).toBe(base.data[i] + s * v.data[i]));
  return { ...p, inputs: { ...p.inputs, [name]: tensor(data, base.shape) } };
}

/** The difference of two outputs' elements, on the circle for the angle state. */
const difference = (output: string, a: number, b: number): number => {
  const d = a - b;
  return output === 'finalAngleState' ? d - 2 * Math.PI * Math.round(d / (2 * Math.PI)) : d;
};

function check(p: Problem<'mamba3-siso'>, random: Random): void {
  const present = DIFFERENTIABLE_INPUTS['mamba3-siso'].flatMap((n) => ((p.inputs as unknown as Record<string, Tensor | undefined>)[n] === undefined ? [] : [n]));
  const shapes = outputShapes('mamba3-siso', dimensionsOf(p)) as Record<string, readonly number[]>;
  const cot = Object.fromEntries(Object.entries(shapes).map(([n, s]) => [n, values(random, s, -2, 2)]));
  const tan = Object.fromEntries(present.map((n) => [n, direction(random, (p.inputs as unknown as Record<string, Tensor>)[n].shape)]));
  const back = referenceVjp(p, cot as never);
  expect(Object.keys(back.gradients).sort()).toEqual([...present].sort());
  const forward = referenceJvp(p, tan as never) as Record<string, { data: Float64Array }>;
  let [lhs, lhsAbs, rhs, rhsAbs] = [0, 0, 0, 0];
  for (const [n, c] of Object.entries(cot)) {
    const [s, a] = dot(c.data, forward[n].data);
    [lhs, lhsAbs] = [lhs + s, lhsAbs + a];
  }
  const L = dimensionsOf(p).length;
  for (const [n, v] of Object.entries(tan)) {
    const g = (back.gradients as Record<string, { data: Float64Array }>)[n].data;
    const [s, a] = dot(g, v.data);
    [rhs, rhsAbs] = [rhs + s, rhsAbs + a];
    const scale = (back.conditionScales as Record<string, { data: Float64Array }>)[n].data;
    const depth = (back.depthScales as Record<string, { data: Float64Array }>)[n].data;
    g.forEach((x, i) => expect(Math.abs(x), `${n}[${i}] within its condition scale`).toBeLessThanOrEqual(scale[i] * (1 + 1e-15)));
    depth.forEach((w, i) => expect(w >= 0 && w <= L * scale[i] * (1 + 2 ** -10), `${n}[${i}] depth ${w}`).toBe(true));
  }
  if (L > 0) expect(lhsAbs).toBeGreaterThan(0);
  expect(Math.abs(lhs - rhs)).toBeLessThanOrEqual(1e-12 * Math.max(lhsAbs, rhsAbs));

  const base = reference(p).outputs as Record<string, { data: Float64Array }>;
  for (const [name, v] of Object.entries(tan)) {
    const only = referenceJvp(p, Object.fromEntries(Object.entries(tan).map(([n, t]) => [n, n === name ? t : filled(t.shape, () => 0)])) as never) as Record<string, { data: Float64Array }>;
    const plus = reference(moved(p, name, v, STEP)).outputs as Record<string, { data: Float64Array }>;
    const minus = reference(moved(p, name, v, -STEP)).outputs as Record<string, { data: Float64Array }>;
    for (const output of Object.keys(only)) {
      const exact = only[output].data;
      const largest = Math.max(0, ...exact.map(Math.abs));
      const size = Math.max(0, ...base[output].data.map(Math.abs));
      exact.forEach((e, i) => {
        const fd = difference(output, plus[output].data[i], minus[output].data[i]) / (2 * STEP);
        expect(Math.abs(fd - e), `d${output}/d${name} at ${i}: fd ${fd}, jvp ${e}`).toBeLessThanOrEqual(1e-6 * largest + 1e-10 * size);
      });
    }
  }
}

describe('mamba3-siso gradient reference: dot-product identity and finite differences', () => {
  const random = seeded('vjp mamba3-siso');
  for (const L of [0, 1, 5]) {
    for (const all of [false, true]) {
      it(`L = ${L}, ${all ? 'D, Z and the four states given' : 'required inputs only'}`, () => check(problem(random, L, all), random));
    }
  }
  it('the angle state passes its cotangent unchanged through the mod 2π (identity almost everywhere)', () => {
    const p = problem(random, 3, true);
    const shapes = outputShapes('mamba3-siso', dimensionsOf(p)) as Record<string, readonly number[]>;
    const cot = Object.fromEntries(Object.entries(shapes).map(([n, s]) => [n, filled(s, () => (n === 'finalAngleState' ? 1 : 0))]));
    const g = referenceVjp(p, cot as never).gradients as Record<string, { data: Float64Array }>;
    expect(Array.from(g.angleState.data)).toEqual(Array.from(g.angleState.data, () => 1));
  });
});
