/** The WGSL implementations (implementations/webgpu/wgsl-implementation.ts) on Dawn for Node. */
import { DAWN } from './dawn.ts';
import { createWgslImplementation, type WebGpuImplementationOptions, type WebGpuScanImplementation } from './wgsl-implementation.ts';

export { type CompiledKernel, type WebGpuImplementationOptions, type WebGpuScanImplementation } from './wgsl-implementation.ts';

/** Builds the WebGPU implementation for one storage type, on Dawn. */
export function createWebGpuImplementation(options: WebGpuImplementationOptions): WebGpuScanImplementation {
  return createWgslImplementation({ ...options, gpu: DAWN });
}
