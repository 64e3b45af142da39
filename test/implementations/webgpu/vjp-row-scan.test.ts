/**
 * The WGSL backward passes of the row scans against the double-double referenceVjp. prefix-sum
 * (the same scan run the other way): every exclusive/reverse option on one tile and several.
 * linear-recurrence (implementations/webgpu/vjp-linear-recurrence.ts): both directions, with and without h0, one tile and several (the
 * adjoint's carries across workgroups), L = 1 and L = 0, float16 storage; a kernel whose ā forgets
 * h0 fails; the backward's capacity check declines. Without an adapter the GPU tests skip with the
 * reason, unless REQUIRE_WEBGPU=1, when the availability test fails instead.
 */
import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { referenceVjp } from '../../../reference/vjp/index.ts';
import type { Problem } from '../../../spec/families.ts';
import type { OutputTensor } from '../../../spec/tensor.ts';
import type { Cotangents, GradientsOf } from '../../../spec/gradients.ts';
import { float16Bits, float16Value } from '../../../spec/float16.ts';
import { UNIT_ROUNDOFF, type Precision } from '../../../spec/precision.ts';
import { ROW_SCAN_TILE } from '../../../implementations/webgpu/wgsl-row-scan.ts';
import { adjointShortfall } from '../../../implementations/webgpu/vjp-linear-recurrence.ts';
import { createWebGpuImplementation, type WebGpuScanImplementation } from '../../../implementations/webgpu/webgpu-implementation.ts';
import { setUpAll, skipNote, itIsAvailable } from './adapter.ts';

const f32 = createWebGpuImplementation({ storage: 'f32', name: 'webgpu-f32 (vjp test)' });
const f16 = createWebGpuImplementation({ storage: 'f16', name: 'webgpu-f16 (vjp test)' });
// ā_t = λ_t·h_{t−1} with h_{−1} = h0: this kernel uses 0 instead, wrong exactly when h0 ≠ 0.
const forgetsH0 = createWebGpuImplementation({
  storage: 'f32',
  name: 'webgpu-f32 (vjp test, ā ignores h0)',
  transformShader: (label, wgsl) => (label.startsWith('linear-recurrence adjoint') ? wgsl.replace('return f32(h0[row]);', 'return 0.0;') : wgsl),
});
const [f32Unavailable, f16Unavailable, wrongUnavailable] = await setUpAll(f32, f16, forgetsH0);

type Vjp = (problem: Problem<'linear-recurrence'>, cotangents: Cotangents<'linear-recurrence'>) => Promise<GradientsOf<'linear-recurrence'>>;

/** The implementation's linear-recurrence vjp; throws when it has none. */
function vjpOf(implementation: WebGpuScanImplementation): Vjp {
  const family = implementation.families['linear-recurrence'];
  const vjp = family?.vjp;
  if (family === undefined || vjp === undefined) throw new Error(`${implementation.name} has no linear-recurrence vjp`);
  return (problem, cotangents) => vjp.call(family, problem, cotangents);
}

interface Case {
  readonly batch: number;
  readonly dim: number;
  readonly length: number;
  readonly reverse: boolean;
  readonly h0: boolean;
}

/** Decays of either sign in (0.5, 1) in magnitude, so long rows neither vanish nor blow up; inputs and cotangents in (−1, 1). */
function caseOf(c: Case, seed: string): { problem: Problem<'linear-recurrence'>; cotangents: Cotangents<'linear-recurrence'> } {
  const random = seedrandom(seed);
  const uniform = (n: number): Float32Array => Float32Array.from({ length: n }, () => 2 * random() - 1);
  const n = c.batch * c.dim * c.length;
  const a = Float32Array.from({ length: n }, () => (random() < 0.5 ? -1 : 1) * (0.5 + 0.5 * random()));
  const sequence = [c.batch, c.dim, c.length];
  const state = [c.batch, c.dim];
  const problem: Problem<'linear-recurrence'> = {
    family: 'linear-recurrence',
    inputs: { a: { data: a, shape: sequence }, b: { data: uniform(n), shape: sequence }, ...(c.h0 ? { h0: { data: uniform(c.batch * c.dim), shape: state } } : {}) },
    options: { reverse: c.reverse },
  };
  return { problem, cotangents: { h: { data: uniform(n), shape: sequence }, lastState: { data: uniform(c.batch * c.dim), shape: state } } };
}

type Named<T> = Readonly<Record<string, T | undefined>>;

/**
 * Largest |got − ref| / (4u·(2W + 32G) + 2^-140) over every gradient of `inputs` (name → shape);
 * +Infinity for a missing or non-finite one. Shapes and the set of gradients are asserted.
 */
function worstRatio(
  inputs: Readonly<Record<string, readonly number[]>>,
  expected: { gradients: Named<{ data: Float64Array }>; conditionScales: Named<{ data: Float64Array }>; depthScales: Named<{ data: Float64Array }> },
  got: Named<OutputTensor>,
  precision: Precision,
): number {
  const names = Object.keys(inputs);
  expect(Object.keys(got).sort()).toEqual([...names].sort());
  let worst = 0;
  for (const name of names) {
    const value = got[name]?.data;
    const exact = expected.gradients[name]?.data;
    const scale = expected.conditionScales[name]?.data;
    const depth = expected.depthScales[name]?.data;
    if (value === undefined || exact === undefined || scale === undefined || depth === undefined) return Number.POSITIVE_INFINITY;
    expect(got[name]?.shape, `${name} shape`).toEqual(inputs[name]);
    expect(value.length, `${name} length`).toBe(exact.length);
    for (let i = 0; i < value.length; i++) {
      const ratio = Math.abs(value[i] - exact[i]) / (4 * UNIT_ROUNDOFF[precision] * (2 * depth[i] + 32 * scale[i]) + 2 ** -140);
      if (!Number.isFinite(ratio)) return Number.POSITIVE_INFINITY;
      worst = Math.max(worst, ratio);
    }
  }
  return worst;
}

/** worstRatio of a linear-recurrence vjp against referenceVjp. */
function recurrenceRatio(problem: Problem<'linear-recurrence'>, cotangents: Cotangents<'linear-recurrence'>, got: GradientsOf<'linear-recurrence'>, precision: Precision): number {
  const { a, b, h0 } = problem.inputs;
  const shapes = { a: a.shape, b: b.shape, ...(h0 === undefined ? {} : { h0: h0.shape }) };
  return worstRatio(shapes, referenceVjp(problem, cotangents), got, precision);
}

const CASES: readonly Case[] = [
  { batch: 2, dim: 3, length: 5, reverse: false, h0: false },
  { batch: 2, dim: 3, length: 5, reverse: true, h0: true },
  { batch: 1, dim: 2, length: 1, reverse: false, h0: true },
  { batch: 1, dim: 2, length: 2 * ROW_SCAN_TILE + 37, reverse: false, h0: true },
  { batch: 1, dim: 2, length: 2 * ROW_SCAN_TILE + 37, reverse: true, h0: false },
  { batch: 1, dim: 1, length: ROW_SCAN_TILE, reverse: true, h0: true },
];

describe('webgpu linear-recurrence vjp', () => {
  itIsAvailable(f32Unavailable);

  it('declines a backward pass beyond the binding limit, naming the buffer', () => {
    const { problem, cotangents } = caseOf({ batch: 1, dim: 4, length: 64, reverse: false, h0: false }, 'decline');
    const runtime = { storage: 'f32' as const, engine: () => { throw new Error('not used'); }, limits: () => ({ maxStorageBufferBindingSize: 512, maxComputeWorkgroupsPerDimension: 65_535 }) };
    expect(adjointShortfall(runtime, problem, cotangents)).toMatch(/buffer a needs 1024 bytes, beyond the device's maxStorageBufferBindingSize of 512/);
    expect(adjointShortfall({ ...runtime, limits: () => ({ maxStorageBufferBindingSize: 1024, maxComputeWorkgroupsPerDimension: 65_535 }) }, problem, cotangents)).toBeUndefined();
  });
});

describe.skipIf(f32Unavailable !== undefined)(`webgpu-f32 linear-recurrence vjp against referenceVjp${skipNote(f32Unavailable)}`, () => {
  for (const c of CASES) {
    it(`B=${c.batch} D=${c.dim} L=${c.length}${c.reverse ? ' reverse' : ''}${c.h0 ? ' with h0' : ''}`, async () => {
      const { problem, cotangents } = caseOf(c, JSON.stringify(c));
      const got = await vjpOf(f32)(problem, cotangents);
      expect(recurrenceRatio(problem, cotangents, got, 'float32')).toBeLessThanOrEqual(1);
    });
  }

  it('L = 0: no gradient of a or b, h0 gets the last state cotangent', async () => {
    const { problem, cotangents } = caseOf({ batch: 2, dim: 2, length: 0, reverse: false, h0: true }, 'empty');
    const got = await vjpOf(f32)(problem, cotangents);
    expect(got.a?.data.length).toBe(0);
    expect(got.b?.data.length).toBe(0);
    expect(Array.from(got.h0?.data ?? [])).toEqual(Array.from(cotangents.lastState.data));
  });
});

describe.skipIf(f16Unavailable !== undefined)(`webgpu-f16 linear-recurrence vjp (float16 storage)${skipNote(f16Unavailable)}`, () => {
  it('matches referenceVjp of the float16-rounded problem within float16 bounds', async () => {
    // The kernel sees float16 inputs and cotangents, so the reference is taken of those.
    const { problem, cotangents } = caseOf({ batch: 2, dim: 2, length: 300, reverse: true, h0: true }, 'f16');
    const half = (t: { readonly data: Float32Array | Float64Array; readonly shape: readonly number[] }): { data: Float32Array; shape: readonly number[] } => ({
      data: Float32Array.from(t.data, (v) => float16Value(float16Bits(v))),
      shape: t.shape,
    });
    const h0 = problem.inputs.h0;
    const rounded: Problem<'linear-recurrence'> = { ...problem, inputs: { a: half(problem.inputs.a), b: half(problem.inputs.b), ...(h0 ? { h0: half(h0) } : {}) } };
    const roundedCotangents = { h: half(cotangents.h), lastState: half(cotangents.lastState) };
    const got = await vjpOf(f16)(rounded, roundedCotangents);
    expect(recurrenceRatio(rounded, roundedCotangents, got, 'float16')).toBeLessThanOrEqual(1);
  });
});

describe.skipIf(wrongUnavailable !== undefined)(`a backward kernel whose ā ignores h0${skipNote(wrongUnavailable)}`, () => {
  it('is rejected with h0 and agrees without it', async () => {
    const adjoint = forgetsH0.kernels().find((k) => k.label.startsWith('linear-recurrence adjoint'));
    expect(adjoint?.wgsl, 'the fault was injected').not.toContain('return f32(h0[row]);');
    const withH0 = caseOf({ batch: 2, dim: 3, length: 5, reverse: false, h0: true }, 'wrong');
    const wrong = await vjpOf(forgetsH0)(withH0.problem, withH0.cotangents);
    expect(recurrenceRatio(withH0.problem, withH0.cotangents, wrong, 'float32')).toBeGreaterThan(1);
    const withoutH0 = caseOf({ batch: 2, dim: 3, length: 5, reverse: true, h0: false }, 'wrong');
    const fine = await vjpOf(forgetsH0)(withoutH0.problem, withoutH0.cotangents);
    expect(recurrenceRatio(withoutH0.problem, withoutH0.cotangents, fine, 'float32')).toBeLessThanOrEqual(1);
  });
});

describe.skipIf(f32Unavailable !== undefined)(`webgpu-f32 prefix-sum vjp against referenceVjp${skipNote(f32Unavailable)}`, () => {
  for (const length of [5, 2 * ROW_SCAN_TILE + 37]) {
    for (const exclusive of [false, true]) {
      for (const reverse of [false, true]) {
        it(`L=${length}${exclusive ? ' exclusive' : ''}${reverse ? ' reverse' : ''}`, async () => {
          const random = seedrandom(`prefix-sum ${length} ${exclusive} ${reverse}`);
          const shape = [1, 2, length];
          const uniform = (): Float32Array => Float32Array.from({ length: 2 * length }, () => 2 * random() - 1);
          const problem: Problem<'prefix-sum'> = { family: 'prefix-sum', inputs: { x: { data: uniform(), shape } }, options: { exclusive, reverse } };
          const cotangents: Cotangents<'prefix-sum'> = { y: { data: uniform(), shape } };
          const family = f32.families['prefix-sum'];
          const vjp = family?.vjp;
          if (family === undefined || vjp === undefined) throw new Error('webgpu-f32 has no prefix-sum vjp');
          const got = await vjp.call(family, problem, cotangents);
          expect(worstRatio({ x: shape }, referenceVjp(problem, cotangents), got, 'float32')).toBeLessThanOrEqual(1);
        });
      }
    }
  }
});
