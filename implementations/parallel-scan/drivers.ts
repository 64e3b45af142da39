/**
 * The two ways a program is driven: whole sequences of a range of channels on one thread (any
 * algorithm), or one time slice of every channel, as one of several threads that hand the state
 * at their slice's end to the next thread through shared memory (the chunked scan across threads).
 */
import type { ScanAlgorithm } from './algorithms/algorithm.ts';
import type { ChunkedScan } from './algorithms/chunked.ts';
import type { SequenceProgram } from './programs/program.ts';
import type { Workspace } from './workspace.ts';

/** Scans every lane of groups [g0, g1) over the whole sequence with `algorithm`. */
export function runGroups(program: SequenceProgram, algorithm: ScanAlgorithm, workspace: Workspace, g0: number, g1: number): void {
  const L = program.length;
  const op = program.operator;
  const A = workspace.array('lane.A', algorithm.bufferLength(L));
  const B = workspace.array('lane.B', algorithm.bufferLength(L));
  for (let g = g0; g < g1; g++) {
    program.prepare(g, 0, L);
    for (let n = 0; n < program.lanes; n++) {
      const initial = program.initialState(g, n);
      if (L === 0) {
        program.setFinalState(g, n, initial);
        continue;
      }
      program.load(g, n, 0, L, A, B);
      B[0] = op.advance(A, B, 0, initial);
      algorithm.scan(op, A, B, L);
      program.emit(g, n, 0, L, B, initial);
      program.setFinalState(g, n, B[L - 1]);
    }
    program.finish(g, 0, L);
  }
}

/**
 * Shared memory of a time-parallel run: `progress[k]` counts the lanes whose end state slice k has
 * published in `carries[k·lanes + j]`; `progress[count]` ≠ 0 aborts the run (a thread failed).
 */
export interface SliceSync {
  readonly progress: Int32Array;
  readonly carries: Float64Array;
}

/** Allocates the shared memory of a time-parallel run over `count` slices and `lanes` lanes in all. */
export function createSliceSync(count: number, lanes: number): SliceSync {
  return {
    progress: new Int32Array(new SharedArrayBuffer(4 * (count + 1))),
    carries: new Float64Array(new SharedArrayBuffer(8 * Math.max(1, count * lanes))),
  };
}

/** Marks a time-parallel run failed and wakes every waiting thread. */
export function abortSlices(sync: SliceSync): void {
  const abortIndex = sync.progress.length - 1;
  Atomics.store(sync.progress, abortIndex, 1);
  for (let k = 0; k <= abortIndex; k++) Atomics.notify(sync.progress, k);
}

/** How long a slice waits for its predecessor before checking for an abort again (ms). */
const WAIT_SLICE_MS = 200;

function awaitCarry(sync: SliceSync, slice: number, lane: number, lanesInAll: number): number {
  const { progress, carries } = sync;
  const abortIndex = progress.length - 1;
  const previous = slice - 1;
  for (;;) {
    const published = Atomics.load(progress, previous);
    if (published > lane) break;
    if (Atomics.load(progress, abortIndex) !== 0) throw new Error(`time slice ${slice}: aborted, another thread failed`);
    Atomics.wait(progress, previous, published, WAIT_SLICE_MS);
  }
  return carries[previous * lanesInAll + lane];
}

/**
 * Runs slice `slice` of `count` (positions [p0, p1)) for every lane of every group as the chunked
 * scan does, with the carry chain crossing threads. A slice is two chunks, scanned with their
 * chains interleaved: slice 0 folds the initial state into its first chunk, whose states are then
 * final, so it publishes the state leaving it after one carry step and fixes up only its second
 * chunk; a later slice scans both chunks from their own starts, waits for the state entering it,
 * publishes the state leaving it at once (so the next thread can go on), then fixes up both.
 */
export function runTimeSlice(
  program: SequenceProgram,
  algorithm: ChunkedScan,
  workspace: Workspace,
  sync: SliceSync,
  slice: number,
  count: number,
  p0: number,
  p1: number,
): void {
  const op = program.operator;
  const span = p1 - p0;
  // Half the slice, rounded up: two chains to interleave, the most V8's float32 code gains from.
  const size = Math.max(1, Math.ceil(span / 2));
  const A = workspace.array('lane.A', span);
  const B = workspace.array('lane.B', span);
  const lanesInAll = program.groups * program.lanes;
  for (let g = 0; g < program.groups; g++) {
    program.prepare(g, p0, p1);
    for (let n = 0; n < program.lanes; n++) {
      const lane = g * program.lanes + n;
      program.load(g, n, p0, p1, A, B);
      let before: number;
      let after: number;
      let first: number;
      if (slice === 0) {
        before = program.initialState(g, n);
        first = 1;
        after = before;
        if (span > 0) {
          B[0] = op.advance(A, B, 0, before);
          algorithm.scanChunks(op, A, B, span, size);
          after = algorithm.propagate(op, A, B, span, B[Math.min(size, span) - 1], first, size);
        }
      } else {
        algorithm.scanChunks(op, A, B, span, size);
        before = awaitCarry(sync, slice, lane, lanesInAll);
        first = 0;
        after = algorithm.propagate(op, A, B, span, before, first, size);
      }
      sync.carries[slice * lanesInAll + lane] = after;
      Atomics.store(sync.progress, slice, lane + 1);
      Atomics.notify(sync.progress, slice);
      algorithm.fixUp(op, A, B, span, first, size);
      program.emit(g, n, p0, p1, B, before);
      if (slice === count - 1) program.setFinalState(g, n, after);
    }
    program.finish(g, p0, p1);
  }
}
