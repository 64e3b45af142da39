/**
 * Test-only kernels for the sound-and-sharp evidence: a Kahan-compensated float32 recurrence (a
 * correct kernel in yet another evaluation order) and deliberately wrong kernels, each with one
 * classic bug: off by one step, initial state ignored, last chunk's carry dropped, circular
 * instead of causal convolution.
 */
import FFT from 'fft.js';
import type { LinearRecurrenceOutputs, LtiSsmOutputs, Problem } from '../../spec/families.ts';
import type { ScanImplementation } from '../../spec/implementation.ts';

const f = Math.fround;

/** Runs a per-channel float32 recurrence kernel over (batch, dim) rows of a linear-recurrence problem. */
function linearRecurrenceRows(
  problem: Problem<'linear-recurrence'>,
  kernel: (a: Float32Array, b: Float32Array, start: number, h: Float32Array, row: number, L: number) => number,
): LinearRecurrenceOutputs {
  const [batch, dim, L] = problem.inputs.a.shape;
  const h = new Float32Array(batch * dim * L);
  const last = new Float32Array(batch * dim);
  for (let row = 0; row < batch * dim; row++) {
    const start = problem.inputs.h0?.data[row] ?? 0;
    last[row] = kernel(problem.inputs.a.data, problem.inputs.b.data, start, h, row, L);
  }
  return { h: { data: h, shape: [batch, dim, L] }, lastState: { data: last, shape: [batch, dim] } };
}

/** Reverse problems are run by index mapping: position i of processing order is t = L−1−i. */
function timeIndex(reverse: boolean, L: number, i: number): number {
  return reverse ? L - 1 - i : i;
}

/** A correct float32 kernel that carries the rounding error of every step in a compensation term. */
export const kahanF32: ScanImplementation = {
  name: 'test/kahan-f32',
  precision: 'float32',
  description: 'compensated float32 recurrence (exact product and sum errors carried forward)',
  families: {
    'linear-recurrence': {
      run: async (problem) =>
        linearRecurrenceRows(problem, (a, b, start, out, row, L) => {
          // h ≈ hi + lo, both float32; each step's product and sum errors (exact in float64) go into lo.
          let hi = f(start);
          let lo = 0;
          for (let i = 0; i < L; i++) {
            const t = row * L + timeIndex(problem.options.reverse, L, i);
            const product = f(a[t] * hi);
            const productError = f(a[t] * hi - product);
            const sum = f(product + b[t]);
            const sumError = f(product + b[t] - sum);
            const correction = f(f(productError + sumError) + f(a[t] * lo));
            const next = f(sum + correction);
            lo = f(sum - next + correction);
            hi = next;
            out[t] = hi;
          }
          return hi;
        }),
    },
  },
};

/** Wrong: h_t uses b_{t−1} (the off-by-one of a shifted input). */
export const offByOne: ScanImplementation = {
  name: 'test/wrong-off-by-one',
  precision: 'float32',
  families: {
    'linear-recurrence': {
      run: async (problem) =>
        linearRecurrenceRows(problem, (a, b, start, out, row, L) => {
          let h = f(start);
          for (let i = 0; i < L; i++) {
            const t = row * L + timeIndex(problem.options.reverse, L, i);
            const previous = i === 0 ? 0 : b[row * L + timeIndex(problem.options.reverse, L, i - 1)];
            h = f(f(a[t] * h) + previous);
            out[t] = h;
          }
          return h;
        }),
    },
  },
};

/** Wrong: the initial state h0 is ignored. */
export const ignoresInitialState: ScanImplementation = {
  name: 'test/wrong-ignores-h0',
  precision: 'float32',
  families: {
    'linear-recurrence': {
      run: async (problem) =>
        linearRecurrenceRows(problem, (a, b, _start, out, row, L) => {
          let h = 0;
          for (let i = 0; i < L; i++) {
            const t = row * L + timeIndex(problem.options.reverse, L, i);
            h = f(f(a[t] * h) + b[t]);
            out[t] = h;
          }
          return h;
        }),
    },
  },
};

/** Wrong: a chunked scan (chunks of 4) whose last chunk never receives the carry of the ones before. */
export const dropsLastCarry: ScanImplementation = {
  name: 'test/wrong-drops-last-carry',
  precision: 'float32',
  families: {
    'linear-recurrence': {
      run: async (problem) =>
        linearRecurrenceRows(problem, (a, b, start, out, row, L) => {
          const chunk = 4;
          const lastChunkStart = L === 0 ? 0 : Math.floor((L - 1) / chunk) * chunk;
          let h = f(start);
          for (let i = 0; i < L; i++) {
            const t = row * L + timeIndex(problem.options.reverse, L, i);
            if (i === lastChunkStart && i > 0) h = 0; // the bug: the carry into the last chunk is lost
            h = f(f(a[t] * h) + b[t]);
            out[t] = h;
          }
          return h;
        }),
    },
  },
};

/** Wrong: lti-ssm by FFT without zero padding, so the convolution wraps around (circular). */
export const circularConvolution: ScanImplementation = {
  name: 'test/wrong-circular-convolution',
  precision: 'float32',
  families: {
    'lti-ssm': {
      errorModel: 'normwise',
      run: async (problem: Problem<'lti-ssm'>): Promise<LtiSsmOutputs> => {
        const { Abar, Bbar, C, D, u } = problem.inputs;
        const [batch, dim, L] = u.shape;
        const N = Abar.shape[1];
        const y = new Float32Array(batch * dim * L);
        if (L === 0) return { y: { data: y, shape: [batch, dim, L] } };
        const size = Math.max(2, 2 ** Math.ceil(Math.log2(L))); // the bug: L, not 2L
        const fft = new FFT(size);
        const kernel = new Float64Array(size);
        const signal = new Float64Array(size);
        const kernelSpectrum = fft.createComplexArray() as number[];
        const signalSpectrum = fft.createComplexArray() as number[];
        const product = fft.createComplexArray() as number[];
        const result = fft.createComplexArray() as number[];
        for (let d = 0; d < dim; d++) {
          kernel.fill(0);
          for (let n = 0; n < N; n++) {
            let power = 1;
            for (let k = 0; k < L; k++) {
              kernel[k] += C.data[d * N + n] * power * Bbar.data[d * N + n];
              power *= Abar.data[d * N + n];
            }
          }
          fft.realTransform(kernelSpectrum, Array.from(kernel));
          fft.completeSpectrum(kernelSpectrum);
          for (let b = 0; b < batch; b++) {
            const row = (b * dim + d) * L;
            signal.fill(0);
            for (let t = 0; t < L; t++) signal[t] = u.data[row + t];
            fft.realTransform(signalSpectrum, Array.from(signal));
            fft.completeSpectrum(signalSpectrum);
            for (let k = 0; k < size; k++) {
              const [ar, ai, br, bi] = [kernelSpectrum[2 * k], kernelSpectrum[2 * k + 1], signalSpectrum[2 * k], signalSpectrum[2 * k + 1]];
              product[2 * k] = ar * br - ai * bi;
              product[2 * k + 1] = ar * bi + ai * br;
            }
            fft.inverseTransform(result, product);
            for (let t = 0; t < L; t++) y[row + t] = f(result[2 * t] + (D?.data[d] ?? 0) * u.data[row + t]);
          }
        }
        return { y: { data: y, shape: [batch, dim, L] } };
      },
    },
  },
};

/** Every deliberately wrong kernel with the family its bug shows in. */
export const WRONG_VARIANTS = [
  { implementation: offByOne, family: 'linear-recurrence' },
  { implementation: ignoresInitialState, family: 'linear-recurrence' },
  { implementation: dropsLastCarry, family: 'linear-recurrence' },
  { implementation: circularConvolution, family: 'lti-ssm' },
] as const;
