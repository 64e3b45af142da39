/**
 * The WGSL mamba3-siso of implementations/webgpu against the double-double reference, judged by the
 * suite's own comparison (rule R, the angle by circular distance): lengths around the kernel's
 * 32-step chunks, state sizes past its 32-invocation workgroup (several passes), A < N/2 and
 * A = N/2, G = 1 < H and G = H, every optional input on and off, L = 0, P = 0, the step, float16
 * storage. Without an adapter the tests skip with the reason, unless REQUIRE_WEBGPU=1, when the
 * availability test fails instead.
 */
import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import type { Mamba3SisoInputs, Problem } from '../../../spec/families.ts';
import type { Tensor } from '../../../spec/tensor.ts';
import { compareWithReference } from '../../../suite/compare.ts';
import { declarationOf } from '../../../suite/lifecycle.ts';
import { expectedOf } from '../../../suite/pipeline.ts';
import { createWebGpuImplementation, type WebGpuScanImplementation } from '../../../implementations/webgpu/webgpu-implementation.ts';
import { setUpAll, skipNote, itIsAvailable } from './adapter.ts';
import type { Mamba3SisoSizes } from '../../../spec/families/mamba3-siso/dimensions.ts';

const f32 = createWebGpuImplementation({ storage: 'f32', name: 'webgpu-f32 (mamba3-siso test)' });
const f16 = createWebGpuImplementation({ storage: 'f16', name: 'webgpu-f16 (mamba3-siso test)' });
const [f32Unavailable, f16Unavailable] = await setUpAll(f32, f16);

interface Case extends Mamba3SisoSizes {
  /** Every optional input (D, Z and the four states) present, or none. */
  readonly optional: boolean;
}

/** A problem drawn as the family's generic regime draws it (O(1) values, ADT = −c·DT). */
function problemOf(c: Case): Problem<'mamba3-siso'> {
  const uniform = seedrandom(JSON.stringify(c));
  const between = (lo: number, hi: number) => lo + (hi - lo) * uniform();
  const draw = (shape: number[], value: () => number): Tensor => ({ data: Float32Array.from({ length: shape.reduce((p, s) => p * s, 1) }, value), shape });
  const unit = () => between(-1, 1);
  const { batch, length: L, heads: H, headdim: P, groups: G, stateSize: N, angles: A } = c;
  const DT = draw([batch, H, L], () => between(0.01, 0.5));
  const inputs: Mamba3SisoInputs = {
    Q: draw([batch, L, G, N], unit),
    K: draw([batch, L, G, N], unit),
    V: draw([batch, L, H, P], unit),
    ADT: { data: DT.data.map((dt) => -between(1, 16) * dt), shape: DT.shape },
    DT,
    Trap: draw([batch, H, L], () => between(-3, 3)),
    QBias: draw([H, N], unit),
    KBias: draw([H, N], unit),
    Angles: draw([batch, L, H, A], () => between(-3, 3)),
    ...(c.optional
      ? {
          D: draw([H], unit),
          Z: draw([batch, L, H, P], () => between(-2, 2)),
          angleState: draw([batch, H, A], () => between(-1, 7.5)),
          ssmState: draw([batch, H, P, N], unit),
          kState: draw([batch, H, N], unit),
          vState: draw([batch, H, P], unit),
        }
      : {}),
  };
  return { family: 'mamba3-siso', inputs, options: {} };
}

/** The suite's verdict on a run of `implementation` (rule R against the reference). */
async function judged(implementation: WebGpuScanImplementation, problem: Problem<'mamba3-siso'>) {
  const family = implementation.families['mamba3-siso']!;
  expect(family.decline!(problem)).toBeUndefined();
  const { y, finalAngleState, finalSsmState, finalKState, finalVState } = await family.run(problem);
  return compareWithReference(problem, { y, finalAngleState, finalSsmState, finalKState, finalVState }, expectedOf(problem), declarationOf(implementation, 'mamba3-siso'));
}

const CASES: readonly Case[] = [
  { batch: 2, length: 33, heads: 4, headdim: 3, groups: 1, stateSize: 6, angles: 2, optional: true },
  { batch: 1, length: 257, heads: 3, headdim: 2, groups: 3, stateSize: 4, angles: 2, optional: false },
  { batch: 1, length: 64, heads: 2, headdim: 2, groups: 2, stateSize: 70, angles: 35, optional: true },
  { batch: 2, length: 31, heads: 4, headdim: 1, groups: 2, stateSize: 66, angles: 5, optional: false },
  { batch: 1, length: 1, heads: 2, headdim: 4, groups: 1, stateSize: 2, angles: 1, optional: true },
  { batch: 2, length: 0, heads: 2, headdim: 2, groups: 1, stateSize: 4, angles: 1, optional: true },
];

describe.skipIf(f32Unavailable !== undefined)(`webgpu mamba3-siso${skipNote(f32Unavailable)}`, () => {
  it.each(CASES)('meets the tolerance: %j', async (c) => {
    const before = f32.gpuStats().dispatches;
    const comparison = await judged(f32, problemOf(c));
    expect(comparison.elements).toBeGreaterThan(0);
    expect(comparison.nanElements).toBe(0);
    expect(comparison.violations, JSON.stringify(comparison.worst)).toBe(0);
    if (c.batch * c.heads > 0) expect(f32.gpuStats().dispatches).toBeGreaterThan(before);
  });

  it('with P = 0 still carries the angle and key states, equal to the run with P = 1', async () => {
    const shape: Case = { batch: 2, length: 40, heads: 2, headdim: 1, groups: 1, stateSize: 4, angles: 2, optional: false };
    const withValues = problemOf(shape);
    const { V, ...rest } = withValues.inputs;
    const empty: Problem<'mamba3-siso'> = { ...withValues, inputs: { ...rest, V: { data: new Float32Array(0), shape: [2, 40, 2, 0] } } };
    const family = f32.families['mamba3-siso']!;
    const full = await family.run(withValues);
    const none = await family.run(empty);
    expect(none.y.data.length).toBe(0);
    expect(Array.from(none.finalAngleState.data)).toEqual(Array.from(full.finalAngleState.data));
    expect(Array.from(none.finalKState.data)).toEqual(Array.from(full.finalKState.data));
    expect(full.finalAngleState.data.some((v) => v !== 0)).toBe(true);
  });

  it('steps one token as the reference runs it', async () => {
    const problem = problemOf({ batch: 2, length: 1, heads: 4, headdim: 3, groups: 2, stateSize: 8, angles: 3, optional: true });
    const { Q, K, V, Z, ADT, DT, Trap, Angles, angleState, ssmState, kState, vState, ...perHead } = problem.inputs;
    const drop = (t: Tensor, axis: number): Tensor => ({ data: t.data, shape: t.shape.filter((_, i) => i !== axis) });
    const step = await f32.families['mamba3-siso']!.step!(
      {
        ...perHead,
        Q: drop(Q, 1),
        K: drop(K, 1),
        V: drop(V, 1),
        Z: drop(Z!, 1),
        ADT: drop(ADT, 2),
        DT: drop(DT, 2),
        Trap: drop(Trap, 2),
        Angles: drop(Angles, 1),
        angleState: angleState!,
        ssmState: ssmState!,
        kState: kState!,
        vState: vState!,
      },
      {},
    );
    expect(step.y.shape).toEqual([2, 4, 3]);
    // The step's outputs are the run's of one token under the step names.
    const asRun = { y: step.y, finalAngleState: step.angleState, finalSsmState: step.ssmState, finalKState: step.kState, finalVState: step.vState };
    const comparison = compareWithReference(problem, asRun, expectedOf(problem), declarationOf(f32, 'mamba3-siso'));
    expect(comparison.violations, JSON.stringify(comparison.worst)).toBe(0);
  });
});

describe.skipIf(f16Unavailable !== undefined)(`webgpu-f16 mamba3-siso${skipNote(f16Unavailable)}`, () => {
  it('meets the float16 tolerance with every optional input, angles stored as float16', async () => {
    const comparison = await judged(f16, problemOf({ batch: 2, length: 100, heads: 4, headdim: 2, groups: 2, stateSize: 6, angles: 3, optional: true }));
    expect(comparison.elements).toBeGreaterThan(0);
    expect(comparison.violations, JSON.stringify(comparison.worst)).toBe(0);
  });
});

describe('WebGPU adapter for mamba3-siso', () => {
  itIsAvailable(f32Unavailable);
});
