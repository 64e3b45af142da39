/**
 * The time-parallel chunked scan: one time slice of every channel per thread, each thread handing
 * the state at its slice's end to the next through shared memory (a reduce-then-scan).
 *
 * A worker's inputs reach shared memory after its task was posted: the calling thread copies them
 * in rounds, each round a block from the start of both halves of every worker's slice, and
 * publishes how many rounds are in. A worker whose program reads in place reduces round by round as
 * the rounds arrive, so the copy overlaps its work instead of delaying its start.
 */
import type { AssociativeOperator } from './operators.ts';
import type { SequenceProgram } from './programs/program.ts';
import type { ScanArray } from './scan-array.ts';
import type { Workspace } from './workspace.ts';

/**
 * Shared memory of a time-parallel run: `progress[k]` counts the lanes whose end state slice k has
 * published in `carries[k·lanes + j]`; `progress[count]` ≠ 0 aborts the run (a thread failed);
 * `progress[count + 1]` counts the input rounds copied so far.
 */
export interface SliceSync {
  readonly progress: Int32Array;
  readonly carries: Float64Array;
}

/** Input rounds of a run: enough that a worker starts early, few enough that each copy is long. */
export const INPUT_ROUNDS = 16;

/** Allocates the shared memory of a time-parallel run over `count` slices and `lanes` lanes in all. */
export function createSliceSync(count: number, lanes: number): SliceSync {
  return {
    progress: new Int32Array(new SharedArrayBuffer(4 * (count + 2))),
    carries: new Float64Array(new SharedArrayBuffer(8 * Math.max(1, count * lanes))),
  };
}

const abortIndexOf = (sync: SliceSync): number => sync.progress.length - 2;
const roundsIndexOf = (sync: SliceSync): number => sync.progress.length - 1;

/** Marks a time-parallel run failed and wakes every waiting thread. */
export function abortSlices(sync: SliceSync): void {
  Atomics.store(sync.progress, abortIndexOf(sync), 1);
  for (let k = 0; k < sync.progress.length; k++) Atomics.notify(sync.progress, k);
}

/** Publishes that input rounds [0, rounds) are in shared memory. */
export function publishInputRounds(sync: SliceSync, rounds: number): void {
  Atomics.store(sync.progress, roundsIndexOf(sync), rounds);
  Atomics.notify(sync.progress, roundsIndexOf(sync));
}

/**
 * The positions of input round `round` of the slice [p0, p1): a block from the start of each half,
 * as [first-half range, second-half range] (either may be empty). The copy and the worker's reduce
 * both cut rounds here, so that they agree.
 */
export function inputRound(p0: number, p1: number, round: number): readonly [readonly [number, number], readonly [number, number]] {
  const half = Math.ceil((p1 - p0) / 2);
  const block = Math.ceil(half / INPUT_ROUNDS);
  const clip = (start: number, end: number, offset: number): readonly [number, number] => {
    const from = Math.min(end, start + offset);
    return [from, Math.min(end, from + block)];
  };
  return [clip(p0, p0 + half, round * block), clip(p0 + half, p1, round * block)];
}

/** The aggregates of a slice's two halves (a₀, b₀, a₁, b₁); one per thread, as this module is. */
const aggregates = new Float64Array(4);
/** The aggregates of one input round's two blocks. */
const roundAggregates = new Float64Array(4);

/** How long a slice waits for its predecessor or its inputs before checking for an abort again (ms). */
const WAIT_SLICE_MS = 200;

/** Waits until progress[index] > `count`; throws if the run was aborted meanwhile. */
function awaitProgress(sync: SliceSync, index: number, count: number, slice: number): void {
  const { progress } = sync;
  for (;;) {
    const published = Atomics.load(progress, index);
    if (published > count) return;
    if (Atomics.load(progress, abortIndexOf(sync)) !== 0) throw new Error(`time slice ${slice}: aborted, another thread failed`);
    Atomics.wait(progress, index, published, WAIT_SLICE_MS);
  }
}

function awaitCarry(sync: SliceSync, slice: number, lane: number, lanesInAll: number): number {
  awaitProgress(sync, slice - 1, lane, slice);
  return sync.carries[(slice - 1) * lanesInAll + lane];
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
 *
 * `staged`: the inputs arrive in rounds (see the module comment); false when they are all there.
 */
export function runTimeSlice(
  program: SequenceProgram,
  workspace: Workspace,
  sync: SliceSync,
  slice: number,
  count: number,
  p0: number,
  p1: number,
  staged: boolean,
): void {
  const op = program.operator;
  const span = p1 - p0;
  const half = Math.ceil(span / 2);
  const rest = span - half;
  const last = slice === count - 1;
  const A = workspace.array('lane.A', span);
  const B = workspace.array('lane.B', span);
  const lanesInAll = program.groups * program.lanes;
  // Only a program that reads its inputs in place can start on the first rounds; any other loads
  // (and may prepare from) the whole slice, so it waits for all of them.
  const inPlace = (g: number, n: number) => {
    const input = program.inputsInPlace?.(g, n, p0, p1);
    const output = input === undefined ? undefined : program.outputsInPlace?.(g, n, p0, p1);
    return input === undefined || output === undefined ? undefined : { input, output };
  };
  const roundByRound = staged && !last && inPlace(0, 0) !== undefined;
  if (staged && !roundByRound) awaitProgress(sync, roundsIndexOf(sync), INPUT_ROUNDS - 1, slice);

  for (let g = 0; g < program.groups; g++) {
    program.prepare(g, p0, p1);
    for (let n = 0; n < program.lanes; n++) {
      const lane = g * program.lanes + n;
      // Read and write in place where the program allows it (saves two copies of the slice).
      const place = inPlace(g, n);
      const [inA, inB, start] = place === undefined ? [A, B, 0] : [place.input.A, place.input.B, place.input.offset];
      if (place === undefined) program.load(g, n, p0, p1, A, B);
      if (roundByRound) {
        reduceByRounds(program, sync, slice, p0, p1, inA, inB, start - p0);
      } else {
        // The last slice needs only its first half's aggregate (the state entering its second half):
        // it reduces that half as two interleaved quarters, twice as fast as one chain, and so
        // is ready for its carry as early as the slices before it.
        const firstQuarter = last ? Math.ceil(half / 2) : half;
        op.reducePair(inA, inB, start, firstQuarter, start + firstQuarter, last ? half - firstQuarter : rest, aggregates);
      }
      const before = slice === 0 ? program.initialState(g, n) : awaitCarry(sync, slice, lane, lanesInAll);
      const afterFirst = op.applyAggregate(aggregates[0], aggregates[1], before);
      const middle = last ? op.applyAggregate(aggregates[2], aggregates[3], afterFirst) : afterFirst;
      if (!last) {
        sync.carries[slice * lanesInAll + lane] = op.applyAggregate(aggregates[2], aggregates[3], afterFirst);
        Atomics.store(sync.progress, slice, lane + 1);
        Atomics.notify(sync.progress, slice);
      }
      const [out, at] = place === undefined ? [B, 0] : [place.output.B, place.output.offset];
      op.scanPair(inA, inB, start, out, at, half, before, rest, middle);
      if (out === B) program.emit(g, n, p0, p1, B, before);
      if (last) program.setFinalState(g, n, span === 0 ? before : out[at + span - 1]);
    }
    program.finish(g, p0, p1);
  }
}

/**
 * The aggregates of both halves of slice [p0, p1) into `aggregates`, reduced one input round at a
 * time as the rounds arrive (position p is at index p + shift of A, B), composed in order.
 */
function reduceByRounds(
  program: SequenceProgram,
  sync: SliceSync,
  slice: number,
  p0: number,
  p1: number,
  A: ScanArray,
  B: ScanArray,
  shift: number,
): void {
  const op = program.operator;
  aggregates[0] = aggregates[2] = 1;
  aggregates[1] = aggregates[3] = 0;
  for (let round = 0; round < INPUT_ROUNDS; round++) {
    awaitProgress(sync, roundsIndexOf(sync), round, slice);
    const [[f0, f1], [s0, s1]] = inputRound(p0, p1, round);
    if (f1 === f0) break;
    op.reducePair(A, B, f0 + shift, f1 - f0, s0 + shift, s1 - s0, roundAggregates);
    compose(op, 0);
    compose(op, 2);
  }
  awaitProgress(sync, roundsIndexOf(sync), INPUT_ROUNDS - 1, slice);
}

/** aggregates[k, k+1] ← (a, b) followed by roundAggregates[k, k+1] = (a', b'), i.e. (a'·a, a'·b + b'). */
function compose(op: AssociativeOperator, k: number): void {
  aggregates[k + 1] = op.applyAggregate(roundAggregates[k], roundAggregates[k + 1], aggregates[k + 1]);
  aggregates[k] = op.applyAggregate(roundAggregates[k], 0, aggregates[k]);
}
