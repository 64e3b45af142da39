/**
 * Hillis–Steele (1986) log-step scan: in step d = 1, 2, 4, …, every element i ≥ d becomes
 * x[i−d] ∘ x[i]. O(L log L) work, log₂L steps; the parallel step is emulated in place by visiting
 * i from the top down, so x[i−d] still holds the previous step's value when it is read.
 */
import type { ScanAlgorithm } from './algorithm.ts';

/** The Hillis–Steele algorithm. */
export const hillisSteele: ScanAlgorithm = {
  name: 'hillis-steele',
  bufferLength: (length) => length,
  scan(op, A, B, length) {
    for (let d = 1; d < length; d *= 2) {
      for (let i = length - 1; i >= d; i--) op.combine(A, B, i, A, B, i - d, A, B, i);
    }
  },
};
