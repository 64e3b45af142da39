/**
 * Whole sequences of a range of channels on one thread: with any algorithm, or serially two lanes
 * at a time (the channel-parallel share of the threaded implementation). The time-parallel share
 * is in time-slices.ts.
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
 * of a group, or with one lane per group, two groups when the program's groups keep no scratch
 * (read and written in place when the program allows it). A serial float32 recurrence is bound by
 * the latency of its chain, so two chains at once run nearly twice as fast, with no extra pass;
 * each lane's result is the sequential loop's, bit for bit. The channel-parallel share of the
 * threaded implementation.
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
      if (!scanRowsInPlace(program, g, paired)) scan(g, 0, g + 1, 0, paired);
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
 * Scans groups g and (when paired) g + 1 of a one-lane program where its inputs and outputs lie
 * in place, as consecutive rows of the same arrays: no load, no emit. False (nothing done) when
 * they do not.
 */
function scanRowsInPlace(program: SequenceProgram, g: number, paired: boolean): boolean {
  const L = program.length;
  const input = program.inputsInPlace?.(g, 0, 0, L);
  const output = input === undefined ? undefined : program.outputsInPlace?.(g, 0, 0, L);
  if (input === undefined || output === undefined) return false;
  if (paired) {
    const nextInput = program.inputsInPlace?.(g + 1, 0, 0, L);
    const nextOutput = program.outputsInPlace?.(g + 1, 0, 0, L);
    const consecutive =
      nextInput?.A === input.A && nextInput.B === input.B && nextInput.offset === input.offset + L &&
      nextOutput?.B === output.B && nextOutput.offset === output.offset + L;
    if (!consecutive) return false;
  }
  const first = program.initialState(g, 0);
  const second = paired ? program.initialState(g + 1, 0) : 0;
  program.operator.scanPair(input.A, input.B, input.offset, output.B, output.offset, L, first, paired ? L : 0, second);
  const out = output.B;
  program.setFinalState(g, 0, L === 0 ? first : out[output.offset + L - 1]);
  if (paired) program.setFinalState(g + 1, 0, L === 0 ? second : out[output.offset + 2 * L - 1]);
  return true;
}
