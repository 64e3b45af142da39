/** Reusable scratch: typed arrays that grow on demand and are kept between runs (no per-run churn). */
import type { Arithmetic, ScanArray } from './arithmetic.ts';

/** Named scratch arrays of one precision, grown geometrically and reused. */
export class Workspace {
  private readonly arrays = new Map<string, ScanArray>();

  constructor(readonly arithmetic: Arithmetic) {}

  /** A scratch array called `name` of at least `length` elements (contents unspecified). */
  array(name: string, length: number): ScanArray {
    const existing = this.arrays.get(name);
    if (existing !== undefined && existing.length >= length) return existing;
    const grown = this.arithmetic.allocate(Math.max(length, 2 * (existing?.length ?? 0), 16));
    this.arrays.set(name, grown);
    return grown;
  }

  /** Drops every array (after a large run, so its memory can be reclaimed). */
  clear(): void {
    this.arrays.clear();
  }
}
