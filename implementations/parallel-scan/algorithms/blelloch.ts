/**
 * Blelloch (1990) work-efficient scan: an up-sweep builds subtree aggregates in place, the root is
 * set to the identity, and a down-sweep hands every left child its parent's prefix and every right
 * child parent ∘ left-sibling, giving the exclusive scan in 2(n−1) combines. Any length L is
 * handled by padding with identities up to n = 2^⌈log₂(L+1)⌉ > L: the exclusive prefix at i+1 is
 * then the inclusive prefix at i, for every i < L, so one shift turns the result inclusive.
 */
import type { ScanAlgorithm } from './algorithm.ts';

/** The padded tree size for a sequence of `length`: the least power of two above it. */
export function blellochTreeSize(length: number): number {
  let n = 1;
  while (n <= length) n *= 2;
  return n;
}

/** The Blelloch algorithm. */
export const blelloch: ScanAlgorithm = {
  name: 'blelloch',
  bufferLength: blellochTreeSize,
  scan(op, A, B, length) {
    if (length === 0) return;
    const n = blellochTreeSize(length);
    for (let i = length; i < n; i++) op.setIdentity(A, B, i);
    // Up-sweep: node i (the right end of a block of 2d) aggregates its two halves, left first.
    for (let d = 1; d < n; d *= 2) {
      for (let i = 2 * d - 1; i < n; i += 2 * d) op.combine(A, B, i, A, B, i - d, A, B, i);
    }
    op.setIdentity(A, B, n - 1);
    // Down-sweep: node i holds its block's prefix; the left child (i−d) receives it and the right
    // child (i) receives prefix ∘ left-aggregate, evaluated as combine(slot i−d, slot i) after a swap.
    for (let d = n / 2; d >= 1; d /= 2) {
      for (let i = 2 * d - 1; i < n; i += 2 * d) {
        const leftA = A[i - d];
        const leftB = B[i - d];
        A[i - d] = A[i];
        B[i - d] = B[i];
        A[i] = leftA;
        B[i] = leftB;
        op.combine(A, B, i, A, B, i - d, A, B, i);
      }
    }
    // Exclusive prefix at i+1 = inclusive prefix at i (n > length guarantees slot `length` exists).
    for (let i = 0; i < length; i++) {
      A[i] = A[i + 1];
      B[i] = B[i + 1];
    }
  },
};
