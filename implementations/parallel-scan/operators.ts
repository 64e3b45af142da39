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
  /** The state after an aggregate (a, b) acts on `state`: a·state + b, or state + b. */
  applyAggregate(a: number, b: number, state: number): number;
  /** Inclusive serial scan of [start, end) in place, the running element kept in registers. */
  foldRange(A: ScanArray, B: ScanArray, start: number, end: number): void;
  /**
   * For every chunk k ≥ first of `size` in [0, length): replaces B[i] by the state element i (an
   * inclusive prefix of its chunk) leaves from the state entering the chunk, carries[k].
   */
  applyCarries(A: ScanArray, B: ScanArray, length: number, size: number, carries: Float64Array, first: number): void;
  /** foldRange on each chunk of `size` in [start, end), several chunks' chains interleaved. */
  foldChunks(A: ScanArray, B: ScanArray, start: number, end: number, size: number): void;
  /**
   * The aggregates of [s0, s0 + n0) and [s1, s1 + n1) (n1 ≤ n0), their chains interleaved, without
   * writing: out = [a of the first, b of the first, a of the second, b of the second] (a = 1 for addition).
   */
  reducePair(A: ScanArray, B: ScanArray, s0: number, n0: number, s1: number, n1: number, out: Float64Array): void;
  /**
   * Scans elements [s, s + n0) from state c0 and [s + n0, s + n0 + n1) from state c1 (n1 ≤ n0),
   * their chains interleaved, writing the state after each element to out from index o (out may
   * be B itself, with o = s).
   */
  scanPair(A: ScanArray, B: ScanArray, s: number, out: ScanArray, o: number, n0: number, c0: number, n1: number, c1: number): void;
}

/** The linear-recurrence combine in the given arithmetic. */
export function affineOperator(arithmetic: Arithmetic): AssociativeOperator {
  return arithmetic.kernels.affine;
}

/** Addition (prefix sums) in the given arithmetic; the A arrays are never read or written. */
export function additiveOperator(arithmetic: Arithmetic): AssociativeOperator {
  return arithmetic.kernels.additive;
}
