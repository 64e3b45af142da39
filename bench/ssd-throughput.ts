/**
 * Throughput of the ssd implementations in TypeScript (sequential, chunked at each chunk size) on
 * the Mamba-2-130m-like shape of issue 16: batch 1, L 2048, H 24, P 64, N 128, G 1, with dtBias,
 * softplus, D (H) and the gate z, as the model calls mamba_chunk_scan_combined. One state-step is
 * one (b, t, h, p, n) update, so a run is batch·L·H·P·N state-steps.
 *
 *   npx tsx bench/ssd-throughput.ts [--repeats 3] [--length 2048] [--only name-substring]
 *
 * Not a test (speed is never asserted). Each case: one warm-up run, then `repeats` timed runs; the
 * medians of wall time and of this process's CPU time (user + system) are printed. On a machine
 * shared with other work the CPU time is the steadier figure: wall time counts the time the
 * process waited for a core.
 */
import { parseArgs } from 'node:util';
import type { Problem } from '../spec/families.ts';
import type { ScanImplementation } from '../spec/implementation.ts';
import { tensor, type Tensor } from '../spec/tensor.ts';
import sequential from '../implementations/sequential/index.ts';
import chunked from '../implementations/ssd-chunked/index.ts';

const { values } = parseArgs({
  options: { repeats: { type: 'string', default: '3' }, length: { type: 'string', default: '2048' }, only: { type: 'string', default: '' } },
});
const repeats = Number(values.repeats);
const L = Number(values.length);
if (!Number.isInteger(repeats) || repeats < 1) throw new RangeError(`--repeats: expected a positive integer, got '${values.repeats}'`);
if (!Number.isInteger(L) || L < 1) throw new RangeError(`--length: expected a positive integer, got '${values.length}'`);

const [batch, H, P, N, G] = [1, 24, 64, 128, 1];
let seed = 12345;
/** Uniform in [lo, hi) from a fixed LCG, so every run times the same inputs. */
const draw = (lo: number, hi: number) => (): number => {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return lo + ((seed >>> 8) / 2 ** 24) * (hi - lo);
};
const fill = (shape: number[], next: () => number): Tensor => tensor(new Float32Array(shape.reduce((p, s) => p * s, 1)).map(next), shape);
const problem: Problem<'ssd'> = {
  family: 'ssd',
  inputs: {
    x: fill([batch, L, H, P], draw(-1, 1)),
    dt: fill([batch, L, H], draw(-4, -1)),
    A: fill([H], draw(-8, -1)),
    B: fill([batch, L, G, N], draw(-1, 1)),
    C: fill([batch, L, G, N], draw(-1, 1)),
    D: fill([H], draw(-1, 1)),
    z: fill([batch, L, H, P], draw(-2, 2)),
    dtBias: fill([H], draw(-0.5, 0.5)),
  },
  options: { dtSoftplus: true },
};
const stateSteps = batch * L * H * P * N;

const cases: { label: string; implementation: ScanImplementation; chunkSize?: number }[] = [
  ...sequential.map((implementation) => ({ label: implementation.name, implementation })),
  ...chunked.flatMap((implementation) =>
    (implementation.families.ssd?.chunkSizes ?? []).map((chunkSize) => ({ label: `${implementation.name} Q=${chunkSize}`, implementation, chunkSize })),
  ),
].filter(({ label }) => label.includes(values.only));

/** Median wall and CPU milliseconds of `repeats` calls after one untimed call. */
async function timings(work: () => Promise<unknown>): Promise<{ wallMs: number; cpuMs: number }> {
  await work();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    await work();
    const used = process.cpuUsage(cpuStart);
    wall.push(performance.now() - start);
    cpu.push((used.user + used.system) / 1000);
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1];
  return { wallMs: median(wall), cpuMs: median(cpu) };
}

const perSecond = (ms: number) => `${((stateSteps / ms) * 1e3 / 1e6).toFixed(0).padStart(5)} M/s`;
console.log(`ssd, batch ${batch}, L ${L}, H ${H}, P ${P}, N ${N}, G ${G}, dtBias + softplus + D + z: ${(stateSteps / 1e6).toFixed(0)} M state-steps a run`);
console.log(`median of ${repeats} runs after 1 warm-up; state-steps per second by wall time and by CPU time`);
console.log(`  ${'implementation'.padEnd(26)} ${'wall'.padStart(7)} ${'per wall s'.padStart(10)} ${'cpu'.padStart(7)} ${'per cpu s'.padStart(10)}`);
for (const { label, implementation, chunkSize } of cases) {
  const run = implementation.families.ssd!.run;
  const { wallMs, cpuMs } = await timings(() => run(problem, chunkSize === undefined ? undefined : { chunkSize }));
  const seconds = (ms: number) => `${(ms / 1000).toFixed(2).padStart(6)}s`;
  console.log(`  ${label.padEnd(26)} ${seconds(wallMs)} ${perSecond(wallMs).padStart(10)} ${seconds(cpuMs)} ${perSecond(cpuMs).padStart(10)}`);
}
