/**
 * Why a problem does not fit a device or a storage type: buffers beyond the binding limit,
 * workgroup grids beyond the dispatch limits, float16 inputs that would round to Inf. The
 * families' decline() returns these reasons; runs never start on a problem that does not fit.
 */
import { FLOAT16_OVERFLOW_THRESHOLD } from '../../spec/float16.ts';
import type { StorageType } from './storage-type.ts';

/** The limits a problem is checked against (a device's, or WebGPU's defaults before setup). */
export interface CapacityLimits {
  readonly maxStorageBufferBindingSize: number;
  readonly maxComputeWorkgroupsPerDimension: number;
}

/** WebGPU's guaranteed defaults, used when no device is set up yet. */
export const DEFAULT_CAPACITY_LIMITS: CapacityLimits = {
  maxStorageBufferBindingSize: 134_217_728,
  maxComputeWorkgroupsPerDimension: 65_535,
};

/** A buffer a run binds, with its size in bytes. */
export interface BufferNeed {
  readonly name: string;
  readonly bytes: number;
}

/** A reason when any buffer or workgroup grid exceeds the limits; undefined when all fit. */
export function capacityShortfall(limits: CapacityLimits, buffers: readonly BufferNeed[], workgroupGrids: readonly number[]): string | undefined {
  for (const { name, bytes } of buffers) {
    if (bytes > limits.maxStorageBufferBindingSize) {
      return `buffer ${name} needs ${bytes} bytes, beyond the device's maxStorageBufferBindingSize of ${limits.maxStorageBufferBindingSize}`;
    }
  }
  const maxWorkgroups = limits.maxComputeWorkgroupsPerDimension ** 2;
  for (const count of workgroupGrids) {
    if (count > maxWorkgroups) {
      return `${count} workgroups exceed maxComputeWorkgroupsPerDimension² = ${maxWorkgroups}`;
    }
  }
  return undefined;
}

/**
 * For float16 storage: a reason when an input holds a finite value that rounds to ±Inf in
 * float16 (|x| ≥ 65520), which would make the kernel's answer meaningless; undefined otherwise.
 */
export function float16RangeShortfall(storage: StorageType, inputs: Readonly<Record<string, Float32Array | undefined>>): string | undefined {
  if (storage !== 'f16') return undefined;
  for (const [name, values] of Object.entries(inputs)) {
    if (values === undefined) continue;
    let largest = 0;
    for (let i = 0; i < values.length; i++) largest = Math.max(largest, Math.abs(values[i]));
    if (largest >= FLOAT16_OVERFLOW_THRESHOLD) {
      return `input ${name} holds |value| = ${largest}, which rounds to Inf in float16 storage (largest finite float16 is 65504)`;
    }
  }
  return undefined;
}
