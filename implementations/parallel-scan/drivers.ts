/**
 * The two ways a program is driven: whole sequences of a range of channels on one thread (any
 * algorithm), or one time slice of every channel, as one of several threads that hand the state
 * at their slice's end to the next thread through shared memory (the chunked scan across threads).
 */
import type { ScanAlgorithm } from './algorithms/algorithm.ts';
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
 * Scans every lane of groups [g0, g1) over the whole sequence, each lane's recurrence serially
 * from its initial state, two lanes' dependency chains interleaved in one loop: lanes n and n + 1
 * of a group, or with one lane per group, two groups when the program's groups keep no scratch. A
 * serial float32 recurrence is bound by the latency of its chain, so two chains at once run nearly
 * twice as fast, with no extra pass; each lane's result is the sequential loop's, bit for bit. The
 * channel-parallel share of the threaded implementation.
 */
export function runLanePairs(program: SequenceProgram, workspace: Workspace, g0: number, g1: number): void {
  const L = program.length;
  const op = program.operator;
  const A = workspace.array('pairs.A', 2 * L);
  const B = workspace.array('pairs.B', 2 * L);
  const secondA = A.subarray(L, 2 * L);
  const secondB = B.subarray(L, 2 * L);
  const lanes = program.lanes;
  /** Scans lane (ga, na) from A, B[0, L) and, when given, lane (gb, nb) from A, B[L, 2L). */
  const scan = (ga: number, na: number, gb: number, nb: number, paired: boolean): void => {
    const first = program.initialState(ga, na);
    program.load(ga, na, 0, L, A, B);
    const second = paired ? program.initialState(gb, nb) : 0;
    if (paired) program.load(gb, nb, 0, L, secondA, secondB);
    op.scanPair(A, B, 0, B, 0, L, first, paired ? L : 0, second);
    program.emit(ga, na, 0, L, B, first);
    program.setFinalState(ga, na, L === 0 ? first : B[L - 1]);
    if (!paired) return;
    program.emit(gb, nb, 0, L, secondB, second);
    program.setFinalState(gb, nb, L === 0 ? second : secondB[L - 1]);
  };
  if (lanes === 1 && program.independentGroups) {
    for (let g = g0; g < g1; g += 2) {
      const paired = g + 1 < g1;
      program.prepare(g, 0, L);
      if (paired) program.prepare(g + 1, 0, L);
      scan(g, 0, g + 1, 0, paired);
      program.finish(g, 0, L);
      if (paired) program.finish(g + 1, 0, L);
    }
    return;
  }
  for (let g = g0; g < g1; g++) {
    program.prepare(g, 0, L);
    for (let n = 0; n < lanes; n += 2) scan(g, n, g, n + 1, n + 1 < lanes);
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

/** The aggregates of a slice's two halves (a₀, b₀, a₁, b₁); one per thread, as this module is. */
const aggregates = new Float64Array(4);

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
 * Runs slice `slice` of `count` (positions [p0, p1)) for every lane of every group: a
 * reduce-then-scan across threads. Each slice is two halves. First the aggregates (the product of
 * the a's and the fold of the b's) of both halves are computed with their chains interleaved,
 * reading only; a slice that knows the state entering it (slice 0 from the initial state, a later
 * one once its predecessor published) applies them and publishes the state leaving it at once, so
 * the next slice waits only for the reduce phases before it. Then both halves are scanned from their
 * now known entering states, again two chains interleaved, writing the states once. The last slice
 * publishes nothing, so it reduces only its first half (as two quarters, chains interleaved).
 */
export function runTimeSlice(
  program: SequenceProgram,
  workspace: Workspace,
  sync: SliceSync,
  slice: number,
  count: number,
  p0: number,
  p1: number,
): void {
  const op = program.operator;
  const span = p1 - p0;
  const half = Math.ceil(span / 2);
  const rest = span - half;
  const last = slice === count - 1;
  const A = workspace.array('lane.A', span);
  const B = workspace.array('lane.B', span);
  const lanesInAll = program.groups * program.lanes;
  for (let g = 0; g < program.groups; g++) {
    program.prepare(g, p0, p1);
    for (let n = 0; n < program.lanes; n++) {
      const lane = g * program.lanes + n;
      // Read and write in place where the program allows it (saves two copies of the slice).
      const input = program.inputsInPlace?.(g, n, p0, p1);
      const output = input === undefined ? undefined : program.outputsInPlace?.(g, n, p0, p1);
      const [inA, inB, start] = input === undefined || output === undefined ? [A, B, 0] : [input.A, input.B, input.offset];
      if (inA === A) program.load(g, n, p0, p1, A, B);
      // The last slice needs only its first half's aggregate (the state entering its second half):
      // it reduces that half as two interleaved quarters, twice as fast as one chain, and so
      // is ready for its carry as early as the slices before it.
      const firstQuarter = last ? Math.ceil(half / 2) : half;
      op.reducePair(inA, inB, start, firstQuarter, start + firstQuarter, last ? half - firstQuarter : rest, aggregates);
      const before = slice === 0 ? program.initialState(g, n) : awaitCarry(sync, slice, lane, lanesInAll);
      const afterFirst = op.applyAggregate(aggregates[0], aggregates[1], before);
      const middle = last ? op.applyAggregate(aggregates[2], aggregates[3], afterFirst) : afterFirst;
      if (!last) {
        sync.carries[slice * lanesInAll + lane] = op.applyAggregate(aggregates[2], aggregates[3], afterFirst);
        Atomics.store(sync.progress, slice, lane + 1);
        Atomics.notify(sync.progress, slice);
      }
      const [out, at] = inA === A || output === undefined ? [B, 0] : [output.B, output.offset];
      op.scanPair(inA, inB, start, out, at, half, before, rest, middle);
      if (out === B) program.emit(g, n, p0, p1, B, before);
      if (last) program.setFinalState(g, n, span === 0 ? before : out[at + span - 1]);
    }
    program.finish(g, p0, p1);
  }
}
