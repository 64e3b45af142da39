/** The contract every scan algorithm of this folder meets. */
import type { ScanArray } from '../arithmetic.ts';
import type { AssociativeOperator } from '../operators.ts';

/** An in-place inclusive scan algorithm over one sequence held in (A, B). */
export interface ScanAlgorithm {
  readonly name: 'hillis-steele' | 'blelloch' | 'chunked';
  /** Length the A and B buffers must have to scan a sequence of `length` (Blelloch pads). */
  bufferLength(length: number): number;
  /**
   * Replaces elements [0, length) of (A, B) by their inclusive prefixes under `op`. The caller has
   * folded the initial state into element 0, so afterwards B[i] is the state after step i.
   */
  scan(op: AssociativeOperator, A: ScanArray, B: ScanArray, length: number): void;
}
