/**
 * The WGSL backward pass of selective-scan (implementations/webgpu/vjp-selective-scan.ts) against
 * the double-double referenceVjp under rule V, per gradient tensor: every optional input and B/C
 * layout, seqIdx resets, several row-scan tiles, L = 0, float16 storage; and two wrong backward
 * kernels (delta's gradient without the softplus derivative; A's gradient summed over the first
 * batch element only) failing the suite's `vjp` property and agreeing where their fault does not
 * show. Without an adapter the GPU tests skip with the reason, unless REQUIRE_WEBGPU=1, when the
 * availability test fails instead.
 */
import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { referenceVjp } from '../../../reference/vjp/index.ts';
import type { Problem } from '../../../spec/families.ts';
import type { GradientTensor } from '../../../spec/gradients.ts';
import { float16Bits, float16Value } from '../../../spec/float16.ts';
import { sampleProblem, type OptionalInputSwitches, type ProjectionKind } from '../../../spec/regimes.ts';
import { gradientBounds, gradientUsage } from '../../../suite/gradient-tolerance.ts';
import { declarationOf } from '../../../suite/lifecycle.ts';
import { cotangentsOf } from '../../../suite/vjp-check.ts';
import { selectiveScanAdjointShortfall } from '../../../implementations/webgpu/vjp-selective-scan.ts';
import { ROW_SCAN_TILE } from '../../../implementations/webgpu/wgsl-row-scan.ts';
import { createWebGpuImplementation, type WebGpuScanImplementation } from '../../../implementations/webgpu/webgpu-implementation.ts';
import { quickRun } from '../../suite/quick-run.ts';
import { setUpAll, skipNote, itIsAvailable } from './adapter.ts';

// The faults, each a one-line edit of the gradients module's WGSL.
const WITHOUT_SOFTPLUS_DERIVATIVE = ['deltaBar = stepBar * softplusDerivative(shifted);', 'deltaBar = stepBar;'] as const;
const A_OVER_FIRST_BATCH = ['if (o < aEnd) { return perStateTerms(0u, o / N, o % N); }', 'if (o < aEnd) { return Terms(o * params.length, params.length, params.length, 1u, 0u); }'] as const;

const f32 = createWebGpuImplementation({ storage: 'f32', name: 'webgpu-f32 (selective-scan vjp test)' });
const f16 = createWebGpuImplementation({ storage: 'f16', name: 'webgpu-f16 (selective-scan vjp test)' });
// Both faults in one implementation (one more compilation, not two); each shows on its own problems.
const wrong = createWebGpuImplementation({
  storage: 'f32',
  name: 'webgpu-f32 (wrong selective-scan vjp)',
  transformShader: (label, wgsl) =>
    label.startsWith('selective-scan gradients') ? wgsl.replace(WITHOUT_SOFTPLUS_DERIVATIVE[0], WITHOUT_SOFTPLUS_DERIVATIVE[1]).replace(A_OVER_FIRST_BATCH[0], A_OVER_FIRST_BATCH[1]) : wgsl,
});
const [f32Unavailable, f16Unavailable, wrongUnavailable] = await setUpAll(f32, f16, wrong);

interface Case {
  readonly batch: number;
  readonly length: number;
  readonly stateSize: number;
  readonly deltaSoftplus: boolean;
  readonly optional: OptionalInputSwitches;
  readonly B: ProjectionKind;
  readonly C: ProjectionKind;
}

function problemOf(c: Case): Problem<'selective-scan'> {
  return sampleProblem(
    {
      family: 'selective-scan',
      dims: { batch: c.batch, dim: 4, length: c.length, stateSize: c.stateSize, groups: 2 },
      options: { deltaSoftplus: c.deltaSoftplus },
      optionalInputs: c.optional,
      projections: { B: c.B, C: c.C },
      regime: 'generic',
    },
    seedrandom(JSON.stringify(c)),
  );
}

/** Per gradient tensor, the largest |got − reference| / (rule V bound) under the implementation's declaration. */
async function usageOf(implementation: WebGpuScanImplementation, problem: Problem<'selective-scan'>, seed = 7): Promise<Readonly<Record<string, number>>> {
  const family = implementation.families['selective-scan'];
  const vjp = family?.vjp;
  if (family === undefined || vjp === undefined) throw new Error(`${implementation.name} has no selective-scan vjp`);
  const cotangents = cotangentsOf(problem, seed);
  const got = await vjp.call(family, problem, cotangents);
  const expected = referenceVjp(problem, cotangents);
  expect(Object.keys(got).sort()).toEqual(Object.keys(expected.gradients).sort());
  for (const [name, tensor] of Object.entries(got)) expect(tensor?.shape, `${name} shape`).toEqual((problem.inputs as unknown as Record<string, { shape: readonly number[] }>)[name].shape);
  const bounds = gradientBounds(problem, expected.conditionScales, expected.depthScales, cotangents as unknown as Record<string, GradientTensor>, declarationOf(implementation, 'selective-scan'), expected.floorScales);
  const measured = gradientUsage(expected.gradients, got, bounds);
  expect(measured.judged, 'judged elements').toBeGreaterThan(0);
  return measured.usage;
}

const ALL: OptionalInputSwitches = { D: true, z: true, deltaBias: true, h0: true };
const CASES: readonly Case[] = [
  { batch: 2, length: 9, stateSize: 3, deltaSoftplus: true, optional: ALL, B: 'time-invariant', C: 'time-varying' },
  { batch: 2, length: 9, stateSize: 3, deltaSoftplus: false, optional: {}, B: 'time-varying', C: 'time-invariant' },
  { batch: 3, length: 7, stateSize: 2, deltaSoftplus: true, optional: { ...ALL, seqIdx: true }, B: 'grouped', C: 'grouped' },
  { batch: 1, length: 1, stateSize: 5, deltaSoftplus: true, optional: { z: true, h0: true }, B: 'grouped', C: 'time-invariant' },
  // Several tiles of the row scans: the forward states' and the adjoint's carries across workgroups.
  { batch: 1, length: ROW_SCAN_TILE + 37, stateSize: 2, deltaSoftplus: true, optional: { D: true, deltaBias: true, h0: true, seqIdx: true }, B: 'time-invariant', C: 'grouped' },
];

function label(c: Case): string {
  const options = Object.entries(c.optional).flatMap(([name, on]) => (on ? [name] : []));
  return `B=${c.batch} L=${c.length} N=${c.stateSize} B:${c.B} C:${c.C}${c.deltaSoftplus ? ' softplus' : ''}${options.length > 0 ? ` ${options.join(' ')}` : ''}`;
}

describe('webgpu selective-scan vjp', () => {
  itIsAvailable(f32Unavailable);

  it('declines a backward pass beyond the binding limit, naming the buffer', () => {
    const problem = problemOf({ batch: 1, length: 64, stateSize: 2, deltaSoftplus: false, optional: {}, B: 'time-varying', C: 'time-varying' });
    const cotangents = cotangentsOf(problem, 1);
    const runtime = { storage: 'f32' as const, engine: () => { throw new Error('not used'); }, limits: () => ({ maxStorageBufferBindingSize: 2048, maxComputeWorkgroupsPerDimension: 65_535 }) };
    // 4 channels · 2 states · 64 steps · 4 bytes per row buffer.
    expect(selectiveScanAdjointShortfall(runtime, problem, cotangents)).toMatch(/buffer decay needs 2048 bytes|buffer sequences \(u, cotangent y, z\) needs 3072 bytes/);
    expect(selectiveScanAdjointShortfall({ ...runtime, limits: () => ({ maxStorageBufferBindingSize: 1 << 20, maxComputeWorkgroupsPerDimension: 65_535 }) }, problem, cotangents)).toBeUndefined();
  });
});

describe.skipIf(f32Unavailable !== undefined)(`webgpu-f32 selective-scan vjp against referenceVjp${skipNote(f32Unavailable)}`, () => {
  for (const c of CASES) {
    it(label(c), async () => {
      const usage = await usageOf(f32, problemOf(c));
      for (const [name, u] of Object.entries(usage)) expect(u, name).toBeLessThanOrEqual(1);
    });
  }

  it('L = 0: zero gradients, h0 gets the last state cotangent', async () => {
    const problem = problemOf({ batch: 2, length: 0, stateSize: 3, deltaSoftplus: true, optional: ALL, B: 'time-invariant', C: 'time-varying' });
    const family = f32.families['selective-scan'];
    const cotangents = cotangentsOf(problem, 3);
    const got = await family?.vjp?.(problem, cotangents);
    if (got === undefined) throw new Error('webgpu-f32 has no selective-scan vjp');
    expect(Array.from(got.h0?.data ?? [])).toEqual(Array.from(cotangents.lastState.data, Math.fround));
    expect(Array.from(got.A?.data ?? [1]).every((v) => v === 0)).toBe(true);
    expect(got.u?.data.length).toBe(0);
  });
});

describe.skipIf(f16Unavailable !== undefined)(`webgpu-f16 selective-scan vjp (float16 storage)${skipNote(f16Unavailable)}`, () => {
  it('matches referenceVjp of the float16-rounded problem within float16 bounds', async () => {
    // The kernel sees float16 inputs and cotangents, so the reference is taken of those.
    const problem = problemOf({ batch: 2, length: 40, stateSize: 3, deltaSoftplus: true, optional: { ...ALL, seqIdx: true }, B: 'grouped', C: 'time-invariant' });
    const half = (data: Float32Array): Float32Array => Float32Array.from(data, (v) => float16Value(float16Bits(v)));
    const inputs = Object.fromEntries(Object.entries(problem.inputs).map(([name, t]) => [name, t === undefined || name === 'seqIdx' ? t : { ...t, data: half(t.data) }]));
    const rounded = { ...problem, inputs } as Problem<'selective-scan'>;
    const usage = await usageOf(f16, rounded);
    for (const [name, u] of Object.entries(usage)) expect(u, name).toBeLessThanOrEqual(1);
  });
});

describe.skipIf(f16Unavailable !== undefined)(`webgpu-f16 selective-scan vjp declines what float16 cannot hold${skipNote(f16Unavailable)}`, () => {
  it('declines a problem whose drive Δ·B·u passes 65504, naming the intermediate', async () => {
    const problem = problemOf({ batch: 1, length: 3, stateSize: 1, deltaSoftplus: false, optional: {}, B: 'time-invariant', C: 'time-invariant' });
    // Δ·B·u = 2·200·200 = 80000 at every step: each input fits float16, their product does not.
    const inputs = { ...problem.inputs, delta: { ...problem.inputs.delta, data: problem.inputs.delta.data.map(() => 2) }, B: { ...problem.inputs.B, data: problem.inputs.B.data.map(() => 200) }, u: { ...problem.inputs.u, data: problem.inputs.u.data.map(() => 200) } };
    const family = f16.families['selective-scan'];
    await expect(family?.vjp?.({ ...problem, inputs }, cotangentsOf(problem, 1))).rejects.toThrow(/intermediate drive is Infinity at element 0 in float16 storage/);
  });
});

describe.skipIf(wrongUnavailable !== undefined)(`wrong WGSL backward kernels${skipNote(wrongUnavailable)}`, () => {
  it('the faults were injected', () => {
    const gradients = wrong.kernels().find((k) => k.label.startsWith('selective-scan gradients'));
    expect(gradients?.wgsl).toContain(WITHOUT_SOFTPLUS_DERIVATIVE[1]);
    expect(gradients?.wgsl).toContain(A_OVER_FIRST_BATCH[1]);
  });

  it('delta without the softplus derivative: delta and deltaBias wrong with deltaSoftplus, right without', async () => {
    const base = { batch: 1, length: 6, stateSize: 2, optional: { deltaBias: true }, B: 'time-varying', C: 'time-varying' } as const;
    const withSoftplus = await usageOf(wrong, problemOf({ ...base, deltaSoftplus: true }));
    expect(withSoftplus.delta).toBeGreaterThan(1);
    expect(withSoftplus.deltaBias).toBeGreaterThan(1);
    expect(withSoftplus.A).toBeLessThanOrEqual(1);
    const without = await usageOf(wrong, problemOf({ ...base, deltaSoftplus: false }));
    for (const [name, u] of Object.entries(without)) expect(u, name).toBeLessThanOrEqual(1);
  });

  it('A summed over the first batch element only: A wrong with batch 2, right with batch 1', async () => {
    const base = { length: 6, stateSize: 2, deltaSoftplus: false, optional: {}, B: 'time-varying', C: 'time-varying' } as const;
    const twoBatches = await usageOf(wrong, problemOf({ ...base, batch: 2 }));
    expect(twoBatches.A).toBeGreaterThan(1);
    expect(twoBatches.delta).toBeLessThanOrEqual(1);
    const oneBatch = await usageOf(wrong, problemOf({ ...base, batch: 1 }));
    for (const [name, u] of Object.entries(oneBatch)) expect(u, name).toBeLessThanOrEqual(1);
  });

  it("fails the suite's vjp property", async () => {
    const [cell] = await quickRun(wrong, 'selective-scan', ['vjp'], { runs: 4, maxLength: 64 });
    expect(cell.outcome).toBe('fail');
    expect(cell.counterexample?.request.dims.length).toBeLessThanOrEqual(64);
  });
});
