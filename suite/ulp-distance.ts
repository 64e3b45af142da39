/**
 * Distance in ULPs between two numbers, counted on the grid of a declared precision: how many of
 * its numbers lie between them (fractional between grid points). Dividing an error by the spacing
 * at the expected value instead gives counts like 5.7e+45 for a float32 element expected to be 0
 * (the subnormal spacing); counted on the grid, no distance exceeds the numbers the format holds.
 */
import { UNIT_ROUNDOFF, type Precision } from '../spec/precision.ts';
import { MAX_FINITE, MIN_NORMAL } from '../spec/precision.ts';

/** The ULP distance between two finite numbers in `precision` (0 for equal ones, ±0 included). */
export function ulpDistance(a: number, b: number, precision: Precision): number {
  if (a === b) return 0;
  const grid = gridOf(precision);
  const x = Math.min(Math.abs(a), grid.maxFinite);
  const y = Math.min(Math.abs(b), grid.maxFinite);
  // Opposite signs: the way from one to the other passes through zero.
  if (Math.sign(a) * Math.sign(b) < 0) return between(grid, 0, x) + between(grid, 0, y);
  return between(grid, Math.min(x, y), Math.max(x, y));
}

interface Grid {
  /** log2 of the smallest normal number. */
  readonly minExponent: number;
  /** Numbers per binade (and in the subnormal range): 2^(p − 1). */
  readonly perBinade: number;
  /** Spacing of the grid in the subnormal range and the first binade: 2^(minExponent − p + 1). */
  readonly smallestSpacing: number;
  readonly minNormal: number;
  readonly maxFinite: number;
}

function gridOf(precision: Precision): Grid {
  const u = UNIT_ROUNDOFF[precision];
  const minNormal = MIN_NORMAL[precision];
  return { minExponent: Math.round(Math.log2(minNormal)), perBinade: 1 / (2 * u), smallestSpacing: minNormal * 2 * u, minNormal, maxFinite: MAX_FINITE[precision] };
}

/** The segment of |x|: −1 for the subnormal range, k for the binade [2^(minExponent + k), 2^(minExponent + k + 1)). */
function segmentOf(grid: Grid, x: number): number {
  if (x < grid.minNormal) return -1;
  let k = Math.floor(Math.log2(x)) - grid.minExponent;
  // log2 may round across a power of two; settle k exactly.
  if (2 ** (grid.minExponent + k) > x) k--;
  else if (2 ** (grid.minExponent + k + 1) <= x) k++;
  return k;
}

function segmentStart(grid: Grid, k: number): number {
  return k < 0 ? 0 : 2 ** (grid.minExponent + k);
}

function spacing(grid: Grid, k: number): number {
  // The start of the binade times 2u, not smallestSpacing·2^k: 2^k alone overflows for float64.
  return k <= 0 ? grid.smallestSpacing : segmentStart(grid, k) / grid.perBinade;
}

/** Grid points between 0 ≤ lo ≤ hi, summed segment by segment so that short distances stay exact far from zero. */
function between(grid: Grid, lo: number, hi: number): number {
  const first = segmentOf(grid, lo);
  const last = segmentOf(grid, hi);
  if (first === last) return (hi - lo) / spacing(grid, first);
  return (
    (segmentStart(grid, first + 1) - lo) / spacing(grid, first) +
    (last - first - 1) * grid.perBinade +
    (hi - segmentStart(grid, last)) / spacing(grid, last)
  );
}
