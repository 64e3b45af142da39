/**
 * Measures what the lti-ssm FFT convolution costs on tfjs backends, the numbers behind
 * CPU_FFT_POINT_BUDGET (tfjs's webgpu FFT, a direct DFT, is measured too), with its normwise error for good measure.
 * Usage: npx tsx bench/tfjs-fft-cost.ts [cpu|webgpu ...]
 */
import { reference } from '../reference/index.ts';
import type { Problem } from '../spec/families.ts';
import type { ScanImplementation } from '../spec/implementation.ts';
import implementations from '../implementations/tfjs/index.ts';
import { fftLengthFor } from '../implementations/tfjs/lti-ssm.ts';

const SIZES: readonly { readonly channels: number; readonly length: number }[] = [
  { channels: 1, length: 1024 },
  { channels: 4, length: 256 },
  { channels: 4, length: 1024 },
  { channels: 8, length: 256 },
  { channels: 8, length: 512 },
  { channels: 8, length: 1024 },
];

/** A deterministic lti-ssm problem with batch 1, `channels` channels, N = 4. */
function problemOf(channels: number, length: number): Problem<'lti-ssm'> {
  let seed = 12345;
  const next = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  const values = (count: number, scale = 1, offset = 0) => Float32Array.from({ length: count }, () => offset + scale * next());
  const N = 4;
  return {
    family: 'lti-ssm',
    inputs: {
      Abar: { data: values(channels * N, 0.045, 0.95), shape: [channels, N] },
      Bbar: { data: values(channels * N), shape: [channels, N] },
      C: { data: values(channels * N), shape: [channels, N] },
      u: { data: values(channels * length), shape: [1, channels, length] },
    },
    options: {},
  };
}

/** Max over elements of |error| / (u·‖K‖₁·‖u‖₂) per channel, the normwise scale of the suite's tolerance. */
function normwiseError(problem: Problem<'lti-ssm'>, y: Float32Array | Float64Array): number {
  const expected = reference(problem).outputs.y.data;
  const [, channels, length] = problem.inputs.u.shape;
  const N = problem.inputs.Abar.shape[1];
  let worst = 0;
  for (let d = 0; d < channels; d++) {
    let kernelNorm = 0;
    for (let n = 0; n < N; n++) {
      const a = Math.abs(problem.inputs.Abar.data[d * N + n]);
      kernelNorm += (Math.abs(problem.inputs.C.data[d * N + n] * problem.inputs.Bbar.data[d * N + n]) * (1 - a ** length)) / (1 - a);
    }
    let inputNorm = 0;
    for (let t = 0; t < length; t++) inputNorm += problem.inputs.u.data[d * length + t] ** 2;
    const scale = 2 ** -24 * kernelNorm * Math.sqrt(inputNorm);
    for (let t = 0; t < length; t++) worst = Math.max(worst, Math.abs(y[d * length + t] - expected[d * length + t]) / scale);
  }
  return worst;
}

async function measure(implementation: ScanImplementation): Promise<void> {
  const family = implementation.families['lti-ssm'];
  if (family === undefined) return;
  await implementation.setup?.();
  try {
    for (const { channels, length } of SIZES) {
      const problem = problemOf(channels, length);
      await family.run(problem); // warm-up: shader compilation, kernel caches
      const started = performance.now();
      const { y } = await family.run(problem);
      const seconds = (performance.now() - started) / 1000;
      const rows = 2 * channels;
      const size = fftLengthFor(length);
      console.log(
        `${implementation.name}  rows ${rows}  transform ${size}  points ${rows * size}  terms ${rows * size ** 2}  ` +
          `${seconds.toFixed(3)} s  normwise error ${normwiseError(problem, y.data).toFixed(2)} u·‖K‖₁·‖u‖₂` +
          `${family.decline?.(problem) === undefined ? '' : '  (declined by the suite)'}`,
      );
    }
  } finally {
    await implementation.dispose?.();
  }
}

const wanted = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['cpu', 'webgpu'];
for (const implementation of implementations.filter((i) => wanted.some((w) => i.name === `tfjs-${w}`))) {
  await measure(implementation);
}
