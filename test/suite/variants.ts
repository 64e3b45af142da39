/**
 * Test-only kernels for the sound-and-sharp evidence: a Kahan-compensated float32 recurrence (a
 * correct kernel in yet another evaluation order) and deliberately wrong kernels, each with one
 * classic bug: off by one step, initial state ignored, last chunk's carry dropped, circular
 * instead of causal convolution.
 */
import FFT from 'fft.js';
import type { LinearRecurrenceOutputs, LtiSsmOutputs, PrefixSumOutputs, Problem, SelectiveScanOutputs } from '../../spec/families.ts';
import type { ScanImplementation } from '../../spec/implementation.ts';
import type { Tensor } from '../../spec/tensor.ts';
import { createSequential } from '../../implementations/sequential/sequential.ts';

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

// ------------------------------------------------------------------ blind spots of generated inputs
// Kernels whose bug only shows on inputs the fixtures had and generated cases used to miss
// (test/suite/blind-spots.test.ts). Each is a factory: with `buggy` false it is the same kernel
// without its bug, which must pass, so a failure is the bug's and not the harness's.

const sequentialF32 = createSequential('float32');
const sequentialSelectiveScan = sequentialF32.families['selective-scan']!;

/**
 * selective-scan through the float32 sequential kernel, with grouped B/C expanded to one group per
 * channel: channel d reads group d % G when buggy (a head→group mapping that interleaves), ⌊d/(dim/G)⌋
 * otherwise (mamba_ssm's contiguous groups). The two agree exactly when G = 1 or dim/G = 1.
 */
export function groupMapping(buggy: boolean): ScanImplementation {
  const perChannel = (t: Tensor, dim: number): Tensor => {
    if (t.shape.length !== 4) return t;
    const [batch, G, N, L] = t.shape;
    const block = N * L;
    const data = new Float32Array(batch * dim * block);
    for (let b = 0; b < batch; b++) {
      for (let d = 0; d < dim; d++) {
        const g = buggy ? d % G : Math.floor(d / (dim / G));
        data.set(t.data.subarray((b * G + g) * block, (b * G + g + 1) * block), (b * dim + d) * block);
      }
    }
    return { data, shape: [batch, dim, N, L] };
  };
  return {
    name: buggy ? 'test/wrong-group-modulo' : 'test/group-contiguous',
    precision: 'float32',
    families: {
      'selective-scan': {
        run: async (problem): Promise<SelectiveScanOutputs> => {
          const dim = problem.inputs.u.shape[1];
          const inputs = { ...problem.inputs, B: perChannel(problem.inputs.B, dim), C: perChannel(problem.inputs.C, dim) };
          return sequentialSelectiveScan.run({ ...problem, inputs });
        },
      },
    },
  };
}

/**
 * selective-scan through the float32 sequential kernel, with Δ' = softplus(delta + deltaBias)
 * computed beforehand in float32 as log1p(exp(x)): for every x when buggy (no threshold, so exp
 * overflows to Inf past x ≈ 88.72), only for x ≤ 20 otherwise (PyTorch's threshold, as the spec).
 */
export function softplusThreshold(buggy: boolean): ScanImplementation {
  return {
    name: buggy ? 'test/wrong-softplus-no-threshold' : 'test/softplus-threshold',
    precision: 'float32',
    families: {
      'selective-scan': {
        run: async (problem): Promise<SelectiveScanOutputs> => {
          const { delta, deltaBias, ...rest } = problem.inputs;
          if (!problem.options.deltaSoftplus) return sequentialSelectiveScan.run(problem);
          const [, dim, L] = delta.shape;
          const discretized = Float32Array.from(delta.data, (v, i) => {
            const x = f(v + (deltaBias?.data[Math.floor(i / L) % dim] ?? 0));
            return !buggy && x > 20 ? x : f(Math.log1p(f(Math.exp(x))));
          });
          return sequentialSelectiveScan.run({ ...problem, inputs: { ...rest, delta: { data: discretized, shape: delta.shape } }, options: { deltaSoftplus: false } });
        },
      },
    },
  };
}

/**
 * A chunked float32 scan over processing order in chunks of `chunk`: each chunk scans from zero
 * (local), then adds the carry times the chunk's running product of a. The first chunk's carry is
 * h0 and the second's the first's end (right); when buggy, the carry into chunk k ≥ 2 is chunk
 * k − 1's local result without its own carry, so an error shows from the third chunk on.
 */
function chunkedScan(a: (i: number) => number, b: (i: number) => number, start: number, L: number, chunk: number, buggy: boolean, out: (i: number, h: number) => void): number {
  let carry = f(start);
  let last = carry;
  for (let first = 0; first < L; first += chunk) {
    const end = Math.min(L, first + chunk);
    let product = 1;
    let local = 0;
    for (let i = first; i < end; i++) {
      product = f(product * a(i));
      local = f(f(a(i) * local) + b(i));
      last = f(f(product * carry) + local);
      out(i, last);
    }
    carry = buggy && first > 0 ? local : last;
  }
  return last;
}

/** prefix-sum and linear-recurrence by chunkedScan with chunks of `chunk`; see chunkedScan for the bug. */
export function chunkedCarry(chunk: number, buggy: boolean): ScanImplementation {
  return {
    name: `test/${buggy ? 'wrong-carry-not-accumulated' : 'chunked-carry'}-${chunk}`,
    precision: 'float32',
    families: {
      'prefix-sum': {
        run: async (problem): Promise<PrefixSumOutputs> => {
          const { x } = problem.inputs;
          const [batch, dim, L] = x.shape;
          const { reverse, exclusive } = problem.options;
          const y = new Float32Array(batch * dim * L);
          for (let row = 0; row < batch * dim; row++) {
            const at = (i: number) => row * L + timeIndex(reverse, L, i);
            // Exclusive: the inclusive sum of the earlier elements, one step later in processing order.
            chunkedScan(() => 1, (i) => x.data[at(i)], 0, L, chunk, buggy, (i, h) => {
              if (!exclusive) y[at(i)] = h;
              else if (i + 1 < L) y[at(i + 1)] = h;
            });
          }
          return { y: { data: y, shape: [batch, dim, L] } };
        },
      },
      'linear-recurrence': {
        run: async (problem) =>
          linearRecurrenceRows(problem, (a, b, start, out, row, L) => {
            const at = (i: number) => row * L + timeIndex(problem.options.reverse, L, i);
            return chunkedScan((i) => a[at(i)], (i) => b[at(i)], start, L, chunk, buggy, (i, h) => {
              out[at(i)] = h;
            });
          }),
      },
    },
  };
}

