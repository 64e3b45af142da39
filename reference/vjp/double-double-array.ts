/**
 * Arrays of double-double numbers for the gradient reference: the stored forward states, the
 * per-token cotangents and the gradient accumulators, as two Float64Arrays (high and low parts) so
 * that a gradient of millions of elements is not millions of objects. Every update goes through a
 * scratch DoubleDouble and the operations of reference/double-double.ts; the one operation that
 * module lacks, the product of two double-doubles, is here.
 */
import { addProduct, DoubleDouble, twoProductError, twoSumError } from '../double-double.ts';

/** x ← y·z for double-doubles y, z (x may be y or z). Error ≤ ~4u²·|y·z|: y.lo·z.lo (≤ u²·|y·z|) is dropped. */
export function multiply(x: DoubleDouble, y: DoubleDouble, z: DoubleDouble): void {
  const p = y.hi * z.hi;
  const e = twoProductError(y.hi, z.hi, p) + (y.hi * z.lo + y.lo * z.hi);
  const s = p + e;
  // Beyond float64's range the error terms are NaN: saturate to the plain product, as double-double.ts stores do.
  if (s - s === 0) x.set(s, twoSumError(p, e, s));
  else x.set(p, 0);
}

/** A fixed-length array of double-double numbers, all 0 at first. */
export class DoubleDoubleArray {
  readonly hi: Float64Array;
  readonly lo: Float64Array;
  private readonly scratch = new DoubleDouble();

  /** An array of `length` zeros. */
  constructor(readonly length: number) {
    this.hi = new Float64Array(length);
    this.lo = new Float64Array(length);
  }

  /** Copies element i into out; returns out. */
  get(i: number, out: DoubleDouble): DoubleDouble {
    return out.set(this.hi[i], this.lo[i]);
  }

  /** Element i ← x. */
  put(i: number, x: DoubleDouble): void {
    this.hi[i] = x.hi;
    this.lo[i] = x.lo;
  }

  /** Element i ← element i + c·y (c float64, y double-double): one term of a gradient's sum. */
  addScaled(i: number, c: number, y: DoubleDouble): void {
    const acc = this.get(i, this.scratch);
    addProduct(acc, c, y);
    this.put(i, acc);
  }

  /** Every element rounded once to float64. */
  rounded(): Float64Array {
    const out = new Float64Array(this.length);
    for (let i = 0; i < this.length; i++) out[i] = this.hi[i] + this.lo[i];
    return out;
  }
}
