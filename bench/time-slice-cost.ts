/**
 * What a time-parallel float32 linear recurrence (the chunked-threads target shape, batch 1, dim 1,
 * L 2^20) costs per phase on this machine, one thread at a time; the critical path those costs
 * give the two-thread split (implementations/parallel-scan/time-slices.ts); and the real run of
 * chunked-threads-f32 beside sequential-f32: the numbers behind the discussion of the 1.6× target
 * in the READMEs. Also what a fresh SharedArrayBuffer costs against a reused one.
 * Usage: npx tsx bench/time-slice-cost.ts [L]
 */
import { FLOAT32 } from '../implementations/parallel-scan/arithmetic.ts';
import { threadedImplementation } from '../implementations/parallel-scan/threads/threaded.ts';
import sequential from '../implementations/sequential/index.ts';
import type { Problem } from '../spec/families.ts';
import { medianMs as median } from './median-time.ts';

const L = Number(process.argv[2] ?? 2 ** 20);
const REPEATS = 31;
/** Warm-up calls before timing: V8 reaches its fastest code for the sequential loop only after some calls (the first line printed shows how many). */
const WARMUPS = 40;

/** Median milliseconds of REPEATS calls of `work`, after WARMUPS calls. */
const medianMs = (work: () => unknown): Promise<number> => median(work, REPEATS, WARMUPS);

let seed = 7;
const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const a = Float32Array.from({ length: L }, () => 0.9 + 0.1 * next());
const b = Float32Array.from({ length: L }, () => next() - 0.5);
const half = L / 2;
const quarter = L / 4;
const A = a.slice(half);
const B = b.slice(half);
const aggregates = new Float64Array(4);
const op = FLOAT32.kernels.affine;
const sharedA = new Float32Array(new SharedArrayBuffer(4 * half));
const sharedB = new Float32Array(new SharedArrayBuffer(4 * half));

const seqF32 = sequential.find((i) => i.name === 'sequential-f32')?.families['linear-recurrence']?.run;
if (seqF32 === undefined) throw new Error('time-slice-cost: sequential-f32 has no linear-recurrence');
const problem: Problem<'linear-recurrence'> = {
  family: 'linear-recurrence',
  options: { reverse: false },
  inputs: { a: { data: a, shape: [1, 1, L] }, b: { data: b, shape: [1, 1, L] } },
};

// V8's tiers, call by call: the median of calls 1–10, 11–20 and 21–40 of a fresh loop.
const warmupCurve: number[] = [];
for (let call = 0; call < 40; call++) {
  const start = performance.now();
  await seqF32(problem);
  warmupCurve.push(performance.now() - start);
}
const medianOf = (times: number[]): number => [...times].sort((x, y) => x - y)[times.length >> 1];
const curve = [warmupCurve.slice(0, 10), warmupCurve.slice(10, 20), warmupCurve.slice(20)].map(medianOf);

const sequentialMs = await medianMs(() => seqF32(problem));
const threaded = threadedImplementation(FLOAT32, { threads: 2 });
await threaded.setup?.();
const threadedRun = threaded.families['linear-recurrence']?.run;
if (threadedRun === undefined) throw new Error('time-slice-cost: chunked-threads-f32 has no linear-recurrence');
const threadedMs = await medianMs(() => threadedRun(problem));
await threaded.dispose?.();

const copyInMs = await medianMs(() => {
  sharedA.set(a.subarray(half));
  sharedB.set(b.subarray(half));
});
const reduceMs = await medianMs(() => op.reducePair(A, B, 0, quarter, quarter, quarter, aggregates));
const scanMs = await medianMs(() => op.scanPair(A, B, 0, B, 0, quarter, 0.5, quarter, 0.25));
// The calling thread scans into the run's fresh output array, and copies the worker's half into it.
const scanFreshMs = await medianMs(() => op.scanPair(A, B, 0, new Float32Array(half), 0, quarter, 0.5, quarter, 0.25));
const copyBackMs = await medianMs(() => new Float32Array(half).set(sharedB));
const freshSharedMs = await medianMs(() => new Float32Array(new SharedArrayBuffer(4 * half)).fill(1));
const freshPlainMs = await medianMs(() => new Float32Array(half).fill(1));
const reusedSharedMs = await medianMs(() => sharedA.fill(1));


// Two equal slices. The worker (first slice) reduces both halves of its slice while the calling
// thread copies its inputs and reduces the first half of its own (last) slice; once the worker
// publishes, the calling thread scans its slice into fresh pages, then copies the worker's half
// of the output into fresh pages. Messages, waits and the output's allocation come on top.
const criticalPath = Math.max(reduceMs, copyInMs + reduceMs / 2) + scanFreshMs + copyBackMs;

const row = (ms: number, what: string): string => `  ${ms.toFixed(2).padStart(7)} ms  ${what}`;
console.log(`float32 linear recurrence, L = ${L}, medians of ${REPEATS} runs after ${WARMUPS} warm-up calls:`);
console.log(`  sequential-f32's first calls (V8's tiers): medians ${curve.map((ms) => ms.toFixed(2)).join(', ')} ms for calls 1–10, 11–20, 21–40`);
console.log(row(sequentialMs, 'sequential-f32, the whole sequence (one dependency chain)'));
console.log(row(copyInMs, 'copying half of a and b (what the worker reads) into reused shared memory'));
console.log(row(reduceMs, 'reduce of a half: the aggregates of its two quarters, two chains interleaved'));
console.log(row(scanMs, 'scan of a half from known states, two chains interleaved, into reused memory'));
console.log(row(scanFreshMs, 'the same scan into a fresh output array'));
console.log(row(copyBackMs, "copying a half of the output into a fresh array (the worker's share)"));
console.log(row(criticalPath, 'critical path of the two-thread split: max(reduce, copy + reduce / 2) + fresh scan + copy back'));
console.log(`  best case on two threads (no messages or waits): ${(sequentialMs / criticalPath).toFixed(2)}× sequential-f32`);
console.log(row(threadedMs, `chunked-threads-f32, the real run: ${(sequentialMs / threadedMs).toFixed(2)}× sequential-f32`));
console.log(`filling ${(2 * L) / 1024 / 1024} MiB: fresh SharedArrayBuffer ${freshSharedMs.toFixed(2)} ms, fresh ArrayBuffer ${freshPlainMs.toFixed(2)} ms, reused SharedArrayBuffer ${reusedSharedMs.toFixed(2)} ms`);
