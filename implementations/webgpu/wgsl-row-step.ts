/**
 * WGSL for the one-token step of the scalar-state families: one invocation per (batch, dim)
 * channel computes state' = state + x (prefix-sum) or state' = a·state + b (linear-recurrence)
 * and writes it as both y and the new state.
 */
import { storagePrelude, type StorageType } from './storage-type.ts';
import type { RowScanFamily } from './wgsl-row-scan.ts';

/** Invocations per workgroup of the step kernel. */
export const ROW_STEP_WORKGROUP = 64;

/** Uniform layout (u32 each): channels, infinityBits, two unused words. */
export const ROW_STEP_PARAM_WORDS = 4;

/** A storage binding of a row-step module. */
export type RowStepBinding = 'x' | 'a' | 'b' | 'state' | 'y' | 'stateOut';

/** Binding slots of a row-step module, in order; slot 0 is the uniform params. */
export function rowStepBindings(family: RowScanFamily): readonly RowStepBinding[] {
  return family === 'prefix-sum' ? ['x', 'state', 'y', 'stateOut'] : ['a', 'b', 'state', 'y', 'stateOut'];
}

/** Bindings the step kernel writes. */
export const ROW_STEP_WRITTEN: ReadonlySet<RowStepBinding> = new Set(['y', 'stateOut']);

/** The WGSL module of the scalar step for one family and storage type (entry point `stepRows`). */
export function rowStepShader(family: RowScanFamily, storage: StorageType): string {
  const inputs =
    family === 'prefix-sum'
      ? `@group(0) @binding(1) var<storage, read> x: array<Stored>;
@group(0) @binding(2) var<storage, read> state: array<Stored>;
@group(0) @binding(3) var<storage, read_write> y: array<Stored>;
@group(0) @binding(4) var<storage, read_write> stateOut: array<Stored>;`
      : `@group(0) @binding(1) var<storage, read> a: array<Stored>;
@group(0) @binding(2) var<storage, read> b: array<Stored>;
@group(0) @binding(3) var<storage, read> state: array<Stored>;
@group(0) @binding(4) var<storage, read_write> y: array<Stored>;
@group(0) @binding(5) var<storage, read_write> stateOut: array<Stored>;`;
  const update = family === 'prefix-sum' ? 'f32(state[i]) + f32(x[i])' : 'f32(a[i]) * f32(state[i]) + f32(b[i])';
  return /* wgsl */ `${storagePrelude(storage)}
struct Params { channels: u32, infinityBits: u32, unused0: u32, unused1: u32 }
@group(0) @binding(0) var<uniform> params: Params;
${inputs}

@compute @workgroup_size(${ROW_STEP_WORKGROUP})
fn stepRows(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) count: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let i = (wg.x + wg.y * count.x) * ${ROW_STEP_WORKGROUP}u + lid;
  if (i >= params.channels) { return; }
  let next = toStorage(${update}, params.infinityBits);
  y[i] = next;
  stateOut[i] = next;
}
`;
}
