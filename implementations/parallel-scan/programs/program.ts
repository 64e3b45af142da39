/**
 * A family seen as what the scan algorithms need: `groups` independent channels (batch·dim), each
 * with `lanes` scalar recurrences (N states, or 1) over `length` positions in processing order
 * (reversed for reverse scans). A program loads (a, b) of one lane for a range of positions,
 * receives back the scanned states, and turns them into outputs. Ranges let the same program run
 * a whole sequence on one thread or one time slice per worker.
 */
import type { ScanArray } from '../arithmetic.ts';
import type { AssociativeOperator } from '../operators.ts';

/** One family's adapter between its tensors and the generic scan. */
export interface SequenceProgram {
  readonly groups: number;
  readonly lanes: number;
  readonly length: number;
  readonly operator: AssociativeOperator;
  /** True when prepare and finish keep no per-group scratch, so two groups may be in flight at once. */
  readonly independentGroups: boolean;
  /** Per-group work shared by its lanes over positions [p0, p1) (selective-scan's Δ'). */
  prepare(g: number, p0: number, p1: number): void;
  /** The state lane n of group g starts from. */
  initialState(g: number, n: number): number;
  /** Writes the elements of positions [p0, p1) into A[0…), B[0…). */
  load(g: number, n: number, p0: number, p1: number, A: ScanArray, B: ScanArray): void;
  /** Consumes the states after positions [p0, p1) (B[0…)); `before` is the state entering p0. */
  emit(g: number, n: number, p0: number, p1: number, B: ScanArray, before: number): void;
  /** Completes the outputs of group g over [p0, p1) once every lane was emitted. */
  finish(g: number, p0: number, p1: number): void;
  /** Records the state of lane n after the last position. */
  setFinalState(g: number, n: number, state: number): void;
  /**
   * Where lane n of group g has its (a, b) of positions [p0, p1) in processing order, readable in
   * place (A, B from `offset`; the float32 inputs serve a float64 kernel too, widening being
   * exact); undefined when they must be loaded. Time slices then skip the copy.
   */
  inputsInPlace?(g: number, n: number, p0: number, p1: number): InPlace | undefined;
  /** Where the states of positions [p0, p1) are the outputs themselves (from `offset` of B); undefined otherwise. */
  outputsInPlace?(g: number, n: number, p0: number, p1: number): InPlace | undefined;
}

/** Arrays a program lends for reading or writing in place, from `offset`. */
export interface InPlace {
  readonly A: ScanArray;
  readonly B: ScanArray;
  readonly offset: number;
}

/** Time index of processing position p. */
export function timeIndex(p: number, length: number, reverse: boolean): number {
  return reverse ? length - 1 - p : p;
}
