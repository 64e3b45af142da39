/**
 * Dawn's WebGPU for Node (npm package webgpu) as a GpuSource. Dawn crashes the process at random
 * when its GPU object is garbage-collected while a device is in use, so the object stays
 * referenced from a module-level holder for the life of the process.
 */
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ImplementationUnavailableError } from '../../spec/implementation.ts';
import { errorMessage } from '../../spec/errors.ts';
import type { GpuSource } from './device.ts';

// Module-level on purpose (see header).
let dawnGpu: GPU | undefined;

/** The exact text reports and the README give when no adapter exists. */
export const NO_ADAPTER_REASON =
  'no WebGPU adapter: Dawn (npm package webgpu) found no Vulkan, Metal or D3D12 device; install a GPU driver, or Mesa lavapipe >= 24 (software Vulkan, e.g. Debian bookworm-backports mesa-vulkan-drivers)';

/**
 * The process's one Dawn GPU object (what a browser calls navigator.gpu), created on first use and
 * kept reachable for the life of the process; for code that must install navigator.gpu itself.
 */
export async function dawnInstance(): Promise<GPU> {
  if (dawnGpu !== undefined) return dawnGpu;
  // Dawn's Vulkan loader wants a writable runtime directory; containers often have none.
  if (process.env.XDG_RUNTIME_DIR === undefined || process.env.XDG_RUNTIME_DIR === '') {
    const directory = path.join(os.tmpdir(), `xdg-${process.getuid?.() ?? 'user'}`);
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    process.env.XDG_RUNTIME_DIR = directory;
  }
  try {
    // Imported here, not at the top: a platform without Dawn's native binary must still load the registry.
    const { create, globals } = await import('webgpu');
    // GPUBufferUsage, GPUMapMode, GPUShaderStage… are globals in a browser; Dawn ships them separately.
    Object.assign(globalThis, globals);
    dawnGpu = create([]);
  } catch (error) {
    throw new ImplementationUnavailableError(`${NO_ADAPTER_REASON} (Dawn failed to start: ${errorMessage(error)})`);
  }
  return dawnGpu;
}

/** Dawn for Node as the source of WebGPU devices. */
export const DAWN: GpuSource = {
  gpu: dawnInstance,
  api: 'WebGPU (Dawn for Node, npm package webgpu)',
  // WGSL lets an implementation flush subnormals to zero, and Dawn's backends do in places: on
  // lavapipe, exp(-92.4) in f32 is 0, not 7.5e-41 (the deep sweep's seed 17, selective-scan vjp).
  subnormals: 'flush',
  noAdapterReason: NO_ADAPTER_REASON,
};
