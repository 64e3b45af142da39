/**
 * Associative operators over scan elements stored as two parallel arrays (A, B), element i being
 * (A[i], B[i]). The linear-recurrence combine is the composition of affine maps h ↦ a·h + b:
 *   (a₁, b₁) ∘ (a₂, b₂) = (a₁·a₂, a₂·b₁ + b₂),   left operand earlier in time (not commutative).
 * Prefix sums use addition on B alone. A "state" is what a prefix does to the initial state: once
 * the initial state is folded into the first element, B of every inclusive prefix is the state.
 * The loops themselves live in kernels.ts (compiled per precision).
 */
import type { Arithmetic, ScanArray } from './arithmetic.ts';

/** An associative operator with the serial primitives the scan algorithms are built from. */
export interface AssociativeOperator {
  /** out[o] = left[l] ∘ right[r], the left operand earlier in time; out may alias an operand. */
  combine(
    outA: ScanArray, outB: ScanArray, o: number,
    leftA: ScanArray, leftB: ScanArray, l: number,
    rightA: ScanArray, rightB: ScanArray, r: number,
  ): void;
  /** Sets element i to the identity, (1, 0) or 0. */
  setIdentity(A: ScanArray, B: ScanArray, i: number): void;
  /** The state after element i acts on `state` (one recurrence step: a·state + b, or state + b). */
  advance(A: ScanArray, B: ScanArray, i: number, state: number): number;
  /** Inclusive serial scan of [start, end) in place, the running element kept in registers. */
  foldRange(A: ScanArray, B: ScanArray, start: number, end: number): void;
  /**
   * For every chunk k ≥ first of `size` in [0, length): replaces B[i] by the state element i (an
   * inclusive prefix of its chunk) leaves from the state entering the chunk, carries[k].
   */
  applyCarries(A: ScanArray, B: ScanArray, length: number, size: number, carries: Float64Array, first: number): void;
  /** foldRange on each chunk of `size` in [start, end), several chunks' chains interleaved. */
  foldChunks(A: ScanArray, B: ScanArray, start: number, end: number, size: number): void;
}

/** The linear-recurrence combine in the given arithmetic. */
export function affineOperator(arithmetic: Arithmetic): AssociativeOperator {
  return arithmetic.kernels.affine;
}

/** Addition (prefix sums) in the given arithmetic; the A arrays are never read or written. */
export function additiveOperator(arithmetic: Arithmetic): AssociativeOperator {
  return arithmetic.kernels.additive;
}
