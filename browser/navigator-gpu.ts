/** The browser's navigator.gpu as a GpuSource for the WGSL implementations. */
import { ImplementationUnavailableError } from '../spec/implementation.ts';
import type { GpuSource } from '../implementations/webgpu/device.ts';

/** The browser's own WebGPU. */
export const NAVIGATOR_GPU: GpuSource = {
  api: `WebGPU (browser navigator.gpu, ${typeof navigator === 'undefined' ? 'no navigator' : navigator.userAgent})`,
  // WGSL lets an implementation flush subnormals to zero, and browsers' GPUs do (SwiftShader, many
  // drivers); a browser's adapter is not known when the implementation is declared.
  subnormals: 'flush',
  noAdapterReason: 'no WebGPU adapter: navigator.gpu.requestAdapter() returned null (in Chromium, start it with --enable-unsafe-webgpu where WebGPU is not enabled by default)',
  async gpu(): Promise<GPU> {
    if (typeof navigator === 'undefined' || navigator.gpu === undefined) {
      throw new ImplementationUnavailableError('no WebGPU: navigator.gpu is absent (a browser offers it only in a secure context, such as http://127.0.0.1, and Chromium on Linux only with --enable-unsafe-webgpu)');
    }
    return navigator.gpu;
  },
};
