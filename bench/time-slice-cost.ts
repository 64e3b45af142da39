/**
 * What a time-parallel float32 linear recurrence (the chunked-threads target shape, batch 1, dim 1,
 * L 2^20) costs per phase on this machine, one thread at a time, and the speed-up over the
 * sequential loop that those costs allow on two threads: the numbers behind the discussion of the
 * 1.6× target in the README. Also what a fresh SharedArrayBuffer costs against a reused one.
 * Usage: npx tsx bench/time-slice-cost.ts [L]
 */
import { FLOAT32 } from '../implementations/parallel-scan/arithmetic.ts';
import sequential from '../implementations/sequential/index.ts';
import type { Problem } from '../spec/families.ts';
import { medianMs as median } from './median-time.ts';

/** Median milliseconds of REPEATS calls of `work`, after three warm-up calls. */
const medianMs = (work: () => unknown): Promise<number> => median(work, REPEATS, 3);

const L = Number(process.argv[2] ?? 2 ** 20);
const REPEATS = 31;

let seed = 7;
const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const a = Float32Array.from({ length: L }, () => 0.9 + 0.1 * next());
const b = Float32Array.from({ length: L }, () => next() - 0.5);
const half = L / 2;
const quarter = L / 4;
const A = new Float32Array(half);
const B = new Float32Array(half);
const aggregates = new Float64Array(4);
const op = FLOAT32.kernels.affine;
const reusedShared = new Float32Array(new SharedArrayBuffer(4 * half));

const seqF32 = sequential.find((i) => i.name === 'sequential-f32')?.families['linear-recurrence']?.run;
if (seqF32 === undefined) throw new Error('time-slice-cost: sequential-f32 has no linear-recurrence');
const problem: Problem<'linear-recurrence'> = {
  family: 'linear-recurrence',
  options: { reverse: false },
  inputs: { a: { data: a, shape: [1, 1, L] }, b: { data: b, shape: [1, 1, L] } },
};

const sequentialMs = await medianMs(() => seqF32(problem));
const copyMs = await medianMs(() => {
  A.set(a.subarray(half));
  B.set(b.subarray(half));
});
const reduceMs = await medianMs(() => op.reducePair(A, B, 0, quarter, quarter, quarter, aggregates));
const scanMs = await medianMs(() => op.scanPair(A, B, 0, B, 0, quarter, 0.5, quarter, 0.25));
const freshSharedMs = await medianMs(() => new Float32Array(new SharedArrayBuffer(4 * half)).fill(1));
const freshPlainMs = await medianMs(() => new Float32Array(half).fill(1));
const reusedSharedMs = await medianMs(() => reusedShared.fill(1));

// Two equal slices: the calling thread copies the worker's half (a and b) into shared memory,
// then reduces and scans its own half; the worker reduces its first quarter, waits for the state
// the calling thread publishes after its reduce, then scans its half.
const callingThread = copyMs + reduceMs + scanMs;
const worker = Math.max(copyMs + reduceMs / 2, copyMs + reduceMs) + scanMs;
const bound = sequentialMs / Math.max(callingThread, worker);

console.log(`float32 linear recurrence, L = ${L}, medians of ${REPEATS} runs:`);
console.log(`  ${sequentialMs.toFixed(2).padStart(7)} ms  sequential-f32, the whole sequence (one dependency chain)`);
console.log(`  ${copyMs.toFixed(2).padStart(7)} ms  copying half of a and b (what a worker reads) into other memory`);
console.log(`  ${reduceMs.toFixed(2).padStart(7)} ms  reduce of a half: the aggregates of its two quarters, two chains interleaved`);
console.log(`  ${scanMs.toFixed(2).padStart(7)} ms  scan of a half from known states, two chains interleaved`);
console.log(`  best case on two threads, with no messages, waits or output copies: ${bound.toFixed(2)}× sequential-f32`);
console.log(`filling ${(2 * L) / 1024 / 1024} MiB: fresh SharedArrayBuffer ${freshSharedMs.toFixed(2)} ms, fresh ArrayBuffer ${freshPlainMs.toFixed(2)} ms, reused SharedArrayBuffer ${reusedSharedMs.toFixed(2)} ms`);
