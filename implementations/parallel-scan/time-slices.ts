/**
 * The time-parallel chunked scan: one time slice of every channel per thread, each thread handing
 * the state at its slice's end to the next through shared memory (a reduce-then-scan).
 *
 * A worker's inputs reach shared memory after its task was posted: the calling thread copies them
 * in rounds, each round a block from the start of both halves of every worker's slice, and
 * publishes how many rounds are in. A worker whose program reads in place reduces round by round as
 * the rounds arrive, so the copy overlaps its work instead of delaying its start.
 *
 * A slice's work is one generator that yields each wait it cannot skip: a worker drives it blocking
 * (Atomics.wait), the calling thread awaiting (Atomics.waitAsync), so that the calling thread's
 * event loop, where the pool reports a worker's death, keeps turning while it waits.
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

/** How long a slice waits for its predecessor or its inputs before checking for an abort again (ms). */
const WAIT_SLICE_MS = 200;

/** What a slice waits for: progress[index] > count. */
interface ProgressWait {
  readonly index: number;
  readonly count: number;
}

/** A slice's work, yielding every wait it cannot skip; a driver does the waiting. */
type SliceSteps = Generator<ProgressWait, void, undefined>;

/** Returns once progress[index] > `count`, yielding while it is not; throws if the run was aborted. */
function* untilProgress(sync: SliceSync, index: number, count: number, slice: number): SliceSteps {
  for (;;) {
    if (Atomics.load(sync.progress, index) > count) return;
    if (Atomics.load(sync.progress, abortIndexOf(sync)) !== 0) throw new Error(`time slice ${slice}: aborted, another thread failed`);
    yield { index, count };
  }
}

/** The state entering `slice` for `lane`, once its predecessor published it. */
function* carryInto(sync: SliceSync, slice: number, lane: number, lanesInAll: number): Generator<ProgressWait, number, undefined> {
  yield* untilProgress(sync, slice - 1, lane, slice);
  return sync.carries[(slice - 1) * lanesInAll + lane];
}

/** Runs `steps` blocking the thread at each wait (Atomics.wait): a worker's driver. */
function driveBlocking(sync: SliceSync, steps: SliceSteps): void {
  for (let next = steps.next(); !next.done; next = steps.next()) {
    const { index, count } = next.value;
    const published = Atomics.load(sync.progress, index);
    if (published <= count) Atomics.wait(sync.progress, index, published, WAIT_SLICE_MS);
  }
}

/**
 * Runs `steps` awaiting each wait (Atomics.waitAsync): the calling thread's driver, which keeps its
 * event loop turning while it waits, so that a worker's death (reported there by the pool) can
 * abort the run instead of leaving the calling thread blocked.
 */
async function driveAsync(sync: SliceSync, steps: SliceSteps): Promise<void> {
  for (let next = steps.next(); !next.done; next = steps.next()) {
    const { index, count } = next.value;
    const published = Atomics.load(sync.progress, index);
    if (published > count) continue;
    const wait = Atomics.waitAsync(sync.progress, index, published, WAIT_SLICE_MS);
    if (wait.async) await wait.value;
  }
}

/**
 * Runs slice `slice` of `count` (positions [p0, p1) of `share`) for every lane of every group: a
 * reduce-then-scan across threads. Each slice is two halves. First the aggregates (the product of
 * the a's and the fold of the b's) of both halves are computed with their chains interleaved,
 * reading only; a slice that knows the state entering it (slice 0 from the initial state, a later
 * one once its predecessor published) applies them and publishes the state leaving it at once, so
 * the next slice waits only for the reduce phases before it. Then both halves are scanned from their
 * now known entering states, again two chains interleaved, writing the states once. The last slice
 * publishes nothing, so it reduces only its first half (as two quarters, chains interleaved).
 * Blocks the thread while it waits (a worker).
 */
export function runTimeSlice(share: SliceShare): void {
  driveBlocking(share.sync, timeSliceSteps(share));
}

/** runTimeSlice for the calling thread: the same work, its waits awaited instead of blocking. */
export function runTimeSliceAsync(share: SliceShare): Promise<void> {
  return driveAsync(share.sync, timeSliceSteps(share));
}

/** One thread's share of a time-parallel run: slice `slice` of `count`, positions [p0, p1). */
export interface SliceShare {
  readonly program: SequenceProgram;
  readonly workspace: Workspace;
  readonly sync: SliceSync;
  readonly slice: number;
  readonly count: number;
  readonly p0: number;
  readonly p1: number;
  /** The inputs arrive in rounds (see the module comment); false when they are all there. */
  readonly staged: boolean;
}

function* timeSliceSteps({ program, workspace, sync, slice, count, p0, p1, staged }: SliceShare): SliceSteps {
  const op = program.operator;
  const span = p1 - p0;
  const half = Math.ceil(span / 2);
  const rest = span - half;
  const last = slice === count - 1;
  const A = workspace.array('lane.A', span);
  const B = workspace.array('lane.B', span);
  const lanesInAll = program.groups * program.lanes;
  // The aggregates of the two halves (a₀, b₀, a₁, b₁), this run's own: the calling thread's slice
  // is suspended at its waits, and another implementation's slice may run on the thread meanwhile.
  const aggregates = new Float64Array(4);
  const roundAggregates = new Float64Array(4);
  // Only a program that reads its inputs in place can start on the first rounds; any other loads
  // (and may prepare from) the whole slice, so it waits for all of them.
  const inPlace = (g: number, n: number) => {
    const input = program.inputsInPlace?.(g, n, p0, p1);
    const output = input === undefined ? undefined : program.outputsInPlace?.(g, n, p0, p1);
    return input === undefined || output === undefined ? undefined : { input, output };
  };
  const roundByRound = staged && !last && inPlace(0, 0) !== undefined;
  if (staged && !roundByRound) yield* untilProgress(sync, roundsIndexOf(sync), INPUT_ROUNDS - 1, slice);

  for (let g = 0; g < program.groups; g++) {
    program.prepare(g, p0, p1);
    for (let n = 0; n < program.lanes; n++) {
      const lane = g * program.lanes + n;
      // Read and write in place where the program allows it (saves two copies of the slice).
      const place = inPlace(g, n);
      const [inA, inB, start] = place === undefined ? [A, B, 0] : [place.input.A, place.input.B, place.input.offset];
      if (place === undefined) program.load(g, n, p0, p1, A, B);
      if (roundByRound) {
        yield* reduceByRounds(program, sync, slice, p0, p1, inA, inB, start - p0, aggregates, roundAggregates);
      } else {
        // The last slice needs only its first half's aggregate (the state entering its second half):
        // it reduces that half as two interleaved quarters, twice as fast as one chain, and so
        // is ready for its carry as early as the slices before it.
        const firstQuarter = last ? Math.ceil(half / 2) : half;
        op.reducePair(inA, inB, start, firstQuarter, start + firstQuarter, last ? half - firstQuarter : rest, aggregates);
      }
      const before = slice === 0 ? program.initialState(g, n) : yield* carryInto(sync, slice, lane, lanesInAll);
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
 * time (into `round`) as the rounds arrive (position p is at index p + shift of A, B), composed in order.
 */
function* reduceByRounds(
  program: SequenceProgram,
  sync: SliceSync,
  slice: number,
  p0: number,
  p1: number,
  A: ScanArray,
  B: ScanArray,
  shift: number,
  aggregates: Float64Array,
  round: Float64Array,
): SliceSteps {
  const op = program.operator;
  aggregates.set(IDENTITY_PAIR);
  for (let r = 0; r < INPUT_ROUNDS; r++) {
    yield* untilProgress(sync, roundsIndexOf(sync), r, slice);
    const [[f0, f1], [s0, s1]] = inputRound(p0, p1, r);
    if (f1 === f0) break;
    op.reducePair(A, B, f0 + shift, f1 - f0, s0 + shift, s1 - s0, round);
    compose(op, aggregates, round, 0);
    compose(op, aggregates, round, 2);
  }
  yield* untilProgress(sync, roundsIndexOf(sync), INPUT_ROUNDS - 1, slice);
}

/** Two identity aggregates (1, 0). */
const IDENTITY_PAIR = [1, 0, 1, 0];

/** into[k, k+1] ← (a, b) followed by next[k, k+1] = (a′, b′), i.e. (a′·a, a′·b + b′). */
function compose(op: AssociativeOperator, into: Float64Array, next: Float64Array, k: number): void {
  into[k + 1] = op.applyAggregate(next[k], next[k + 1], into[k + 1]);
  into[k] = op.applyAggregate(next[k], 0, into[k]);
}
