/** What a family's kernels need from the implementation that owns them: the engine, once set up. */
import type { CapacityLimits } from './capacity.ts';
import type { KernelEngine } from './kernel-engine.ts';
import type { StorageType } from './storage-type.ts';

/** Access to an implementation's kernel engine and limits; engine() throws before setup. */
export interface KernelRuntime {
  readonly storage: StorageType;
  /** The engine created in setup. */
  engine(): KernelEngine;
  /** The device's limits after setup, WebGPU's defaults before. */
  limits(): CapacityLimits;
}
