/**
 * Where fft-conv's time goes on one channel of the benchmark's lti-ssm shape (N 64, L 2^16), on
 * one thread: the power tables, the kernel, the kernel's transform, the input's convolution (its
 * transform, the complex product, the half-size inverse) and the skip term; against the sequential
 * float32 recurrence of the same channel; then the whole lti-ssm shape (batch 1, dim 64) with
 * fft-conv-f64 on one thread and on all of them. The numbers behind the FFT target's discussion
 * in implementations/fft-conv/README.md. Usage: npx tsx bench/fft-conv-cost.ts [N] [L]
 */
import { ChannelKernel } from '../implementations/fft-conv/channel-kernel.ts';
import { CausalConvolver } from '../implementations/fft-conv/convolution.ts';
import { createFftConv } from '../implementations/fft-conv/fft-conv.ts';
import { kernelFloat64 } from '../implementations/fft-conv/kernel.ts';
import { allocatePowerTables, fillPowerTables } from '../implementations/fft-conv/powers.ts';
import { availableParallelism } from 'node:os';
import sequential from '../implementations/sequential/index.ts';
import { medianMs } from './median-time.ts';
import type { Problem } from '../spec/families.ts';

const N = Number(process.argv[2] ?? 64);
const L = Number(process.argv[3] ?? 2 ** 16);
const REPEATS = 9;

let seed = 2024;
const next = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
const values = (count: number, scale = 1, offset = 0): Float32Array => Float32Array.from({ length: count }, () => offset + scale * next());
const Abar = values(N, 0.05, 0.949);
const Bbar = values(N);
const C = values(N);
const u = values(L);

const channel = new ChannelKernel(N, 'base');
channel.setLtiSsm(Abar, Bbar, C, 0, 'float64');
const tables = allocatePowerTables(N, L);
const kernel = new Float64Array(L);
const scratch = new Float64Array(N);
const conv = new Float64Array(L);
const convolver = new CausalConvolver(L, 'float64');
fillPowerTables(tables, channel.source, 0);
kernelFloat64(tables, channel.weights, L, scratch, kernel);

const rows: [string, number][] = [
  ['power tables (double-double, 2·N·√L steps)', await medianMs(() => fillPowerTables(tables, channel.source, 0), REPEATS)],
  [`kernel K_k = Σ_n w_n·Ā_n^k (N·L = ${N * L} multiply-adds)`, await medianMs(() => kernelFloat64(tables, channel.weights, L, scratch, kernel), REPEATS)],
  [`kernel spectrum (fft.js realTransform, M = ${convolver.transformLength})`, await medianMs(() => convolver.setKernel(kernel), REPEATS)],
  ['convolution (realTransform of u, product, half-size inverse)', await medianMs(() => convolver.convolve(u, 0, conv, 0), REPEATS)],
];
const fftTotal = rows.reduce((sum, [, ms]) => sum + ms, 0);

const seqF32 = sequential.find((i) => i.name === 'sequential-f32');
if (seqF32 === undefined) throw new Error('fft-conv-cost: sequential-f32 is not registered');
const problem: Problem<'lti-ssm'> = {
  family: 'lti-ssm',
  options: {},
  inputs: { Abar: { data: Abar, shape: [1, N] }, Bbar: { data: Bbar, shape: [1, N] }, C: { data: C, shape: [1, N] }, u: { data: u, shape: [1, 1, L] } },
};
const run = seqF32.families['lti-ssm']?.run;
if (run === undefined) throw new Error('fft-conv-cost: sequential-f32 has no lti-ssm');
const seqMs = await medianMs(() => run(problem), REPEATS);

console.log(`one lti-ssm channel, N ${N}, L ${L}, one thread (median of ${REPEATS} after a warm-up):`);
for (const [name, ms] of rows) console.log(`  ${ms.toFixed(2).padStart(8)} ms  ${name}`);
console.log(`  ${fftTotal.toFixed(2).padStart(8)} ms  fft-conv-f64 in all (the skip term adds < 0.1 ms)`);
console.log(`  ${seqMs.toFixed(2).padStart(8)} ms  sequential-f32, the same channel`);
console.log(`  ratio ${(seqMs / fftTotal).toFixed(2)}× on one thread; with the transforms alone, at most ${(seqMs / (rows[2][1] + rows[3][1])).toFixed(2)}×`);

// The whole benchmark shape, batch 1, dim 64: the channel-parallel split across threads.
const DIM = 64;
const whole: Problem<'lti-ssm'> = {
  family: 'lti-ssm',
  options: {},
  inputs: {
    Abar: { data: values(DIM * N, 0.05, 0.949), shape: [DIM, N] },
    Bbar: { data: values(DIM * N), shape: [DIM, N] },
    C: { data: values(DIM * N), shape: [DIM, N] },
    u: { data: values(DIM * L), shape: [1, DIM, L] },
  },
};
const threadCounts = [...new Set([1, availableParallelism()])];
const wholeMs: number[] = [];
for (const threads of threadCounts) {
  const implementation = createFftConv('float64', { threads });
  await implementation.setup?.();
  const runWhole = implementation.families['lti-ssm']?.run;
  if (runWhole === undefined) throw new Error('fft-conv-cost: fft-conv has no lti-ssm');
  wholeMs.push(await medianMs(() => runWhole(whole), 3));
  await implementation.dispose?.();
}
console.log(`lti-ssm (1, ${DIM}, N ${N}, L ${L}), fft-conv-f64, median of 3: ${threadCounts.map((t, i) => `${t} thread${t > 1 ? 's' : ''} ${wholeMs[i].toFixed(0)} ms`).join(', ')}${wholeMs.length > 1 ? ` (${(wholeMs[0] / wholeMs[1]).toFixed(2)}× from the threads)` : ''}`);
