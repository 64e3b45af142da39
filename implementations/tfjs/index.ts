/**
 * TensorFlow.js implementations: one per tfjs backend that can run here — cpu and wasm always,
 * webgpu (its setup reports it unavailable without an adapter), tensorflow when the optional
 * @tensorflow/tfjs-node is installed.
 */
import type { ScanImplementation } from '../../spec/implementation.ts';
import { cpuBackend } from './backends/cpu.ts';
import { loadTensorflowBackend } from './backends/tensorflow.ts';
import { wasmBackend } from './backends/wasm.ts';
import { webgpuBackend } from './backends/webgpu.ts';
import { createTfjsImplementation } from './implementation.ts';

const tensorflowBackend = await loadTensorflowBackend();

const implementations: ScanImplementation[] = [cpuBackend, wasmBackend, webgpuBackend, ...(tensorflowBackend ? [tensorflowBackend] : [])].map(
  createTfjsImplementation,
);

export default implementations;
