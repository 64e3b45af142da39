/** tfjs's plain-JavaScript backend. */
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { ImplementationUnavailableError } from '../../../spec/implementation.ts';
import type { FftProblemSize, TfjsBackend } from '../backend.ts';

/**
 * Most transformed points (rows × transform size) the cpu backend convolves by FFT. Its FFT is a
 * radix-2 recursion that builds tfjs tensors at every level. Measured on the shared 2-core machine
 * (npx tsx bench/tfjs-fft-cost.ts cpu): 2 × 2048 points 0.33 s, 8 × 512 0.18 s,
 * 16 × 512 0.39 s, 8 × 2048 0.64 s, 16 × 1024 0.87 s, 16 × 2048 3.0 s; 4096 points stay under ~0.5 s under load.
 */
export const CPU_FFT_POINT_BUDGET = 4096;

/** The cpu backend, always available. */
export const cpuBackend: TfjsBackend = {
  backendName: 'cpu',
  description: 'TensorFlow.js ops on the cpu backend (JavaScript): log-step scans, tf.cumsum, tf.spectral FFT convolution',
  ltiSsm: {
    kind: 'fft',
    summary: `FFT convolution, (batch·dim + dim) × transform size ≤ ${CPU_FFT_POINT_BUDGET} points`,
    decline({ rows, transformSize }: FftProblemSize) {
      const points = rows * transformSize;
      if (points <= CPU_FFT_POINT_BUDGET) return undefined;
      return `tfjs's cpu FFT is slow (a radix-2 recursion over tfjs tensors, ~0.3 s per 4096 points): ${rows} rows × ${transformSize}-point transforms = ${points} points > ${CPU_FFT_POINT_BUDGET} (~0.5 s)`;
    },
  },
  async setup() {
    if (tf.findBackendFactory('cpu') === null) {
      throw new ImplementationUnavailableError("tfjs: the 'cpu' backend is not registered although @tensorflow/tfjs-backend-cpu was imported");
    }
  },
  async dispose() {},
  environment() {
    return { backendVersion: version_cpu };
  },
};
