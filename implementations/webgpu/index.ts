/**
 * WGSL compute kernels through WebGPU (Dawn for Node): webgpu-f32, and webgpu-f16 where the
 * adapter offers shader-f16. Both report ImplementationUnavailableError from setup when this
 * machine has no WebGPU adapter.
 */
import { createWebGpuImplementation } from './webgpu-implementation.ts';

export default [createWebGpuImplementation({ storage: 'f32' }), createWebGpuImplementation({ storage: 'f16' })];
