/** tfjs's WebAssembly backend, loaded offline from the .wasm files shipped in its npm package. */
import { getThreadsCount, setWasmPaths, version_wasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ImplementationUnavailableError } from '../../../spec/implementation.ts';
import type { TfjsBackend } from '../backend.ts';

/** The folder holding tfjs-backend-wasm*.wasm, with a trailing separator as setWasmPaths' prefix form expects. */
function wasmFolder(): string {
  const packageJson = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json');
  return path.join(path.dirname(packageJson), 'dist') + path.sep;
}

// At import, before anything can initialise the backend:
// a plain file path, which the loader reads with fs in Node.
setWasmPaths(wasmFolder());

/** The wasm backend (SIMD, one thread in Node); it has no FFT kernels, so lti-ssm runs as a scan. */
export const wasmBackend: TfjsBackend = {
  backendName: 'wasm',
  description: 'TensorFlow.js ops on the wasm backend (WebAssembly SIMD): log-step scans, tf.cumsum; lti-ssm as a log-step scan',
  ltiSsm: {
    kind: 'scan',
    why: `tfjs-backend-wasm registers no FFT, IFFT or Complex kernel (tf.spectral.rfft throws "Kernel 'Complex' not registered for backend 'wasm'"), so lti-ssm runs as the recurrence by log-step scan`,
  },
  vjpUnsupported: {
    families: ['selective-scan', 'ssd'],
    // Measured: npx tsx scripts/cli.ts check --only tfjs-wasm --property vjp (grouped B/C, ssd's heads sharing groups).
    why: "tfjs-backend-wasm registers no UnsortedSegmentSum kernel, which tfjs's gradient of tf.gather (the grouped B/C spread to channels or heads) needs",
  },
  async setup() {
    if (tf.findBackendFactory('wasm') === null) {
      throw new ImplementationUnavailableError("tfjs: the 'wasm' backend is not registered although @tensorflow/tfjs-backend-wasm was imported");
    }
  },
  async dispose() {},
  environment() {
    const facts: Record<string, string> = { backendVersion: version_wasm, wasmFolder: wasmFolder() };
    if (tf.findBackend('wasm') !== null) facts.threads = String(getThreadsCount());
    // Async flags: readable synchronously only once the backend has evaluated them.
    for (const flag of ['WASM_HAS_SIMD_SUPPORT', 'WASM_HAS_MULTITHREAD_SUPPORT']) {
      const evaluated = tf.env().getFlags();
      if (flag in evaluated) facts[flag] = String(evaluated[flag]);
    }
    return facts;
  },
};
