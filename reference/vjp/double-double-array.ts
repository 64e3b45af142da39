/**
 * Arrays of double-double numbers for the gradient reference: the stored forward states, the
 * per-token cotangents and the gradient accumulators, as two Float64Arrays (high and low parts) so
 * that a gradient of millions of elements is not millions of objects. Updates go through a scratch
 * DoubleDouble and the operations of reference/double-double.ts, except the hottest, addScaled,
 * which repeats addProduct's steps on the arrays; the one operation that module lacks, the product
 * of two double-doubles, is here.
 */
import { DoubleDouble, twoProductError, twoSumError } from '../double-double.ts';

/** x ← y·z for double-doubles y, z (x may be y or z). Error ≤ ~4u²·|y·z|: y.lo·z.lo (≤ u²·|y·z|) is dropped. */
export function multiply(x: DoubleDouble, y: DoubleDouble, z: DoubleDouble): void {
  const p = y.hi * z.hi;
  const e = twoProductError(y.hi, z.hi, p) + (y.hi * z.lo + y.lo * z.hi);
  const s = p + e;
  // Beyond float64's range the error terms are NaN: saturate to the plain product, as double-double.ts stores do.
  if (s - s === 0) x.set(s, twoSumError(p, e, s));
  else x.set(p, 0);
}

/** out[i] ← y[j]·z[k] for elements of double-double arrays: multiply, step for step, without a scratch pair. */
export function multiplyElements(out: DoubleDoubleArray, i: number, y: DoubleDoubleArray, j: number, z: DoubleDoubleArray, k: number): void {
  const yHi = y.hi[j];
  const zHi = z.hi[k];
  const p = yHi * zHi;
  const e = twoProductError(yHi, zHi, p) + (yHi * z.lo[k] + y.lo[j] * zHi);
  const s = p + e;
  if (s - s === 0) {
    out.hi[i] = s;
    out.lo[i] = twoSumError(p, e, s);
  } else {
    out.hi[i] = p;
    out.lo[i] = 0;
  }
}

/** A fixed-length array of double-double numbers, all 0 at first. */
export class DoubleDoubleArray {
  readonly hi: Float64Array;
  readonly lo: Float64Array;

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
    this.addScaledParts(i, c, y.hi, y.lo);
  }

  /** Element i ← element i + c·(element k of y): addScaled straight from another array. */
  addScaledFrom(i: number, c: number, y: DoubleDoubleArray, k: number): void {
    this.addScaledParts(i, c, y.hi[k], y.lo[k]);
  }

  /**
   * Element i ← element i + c·(yHi + yLo): addProduct of double-double.ts, step for step, on the
   * arrays' elements. Written out rather than through a scratch DoubleDouble because the gradient
   * loops call it millions of times and V8 inlines this (and keeps its doubles unboxed) where it
   * did not inline get, addProduct and put.
   */
  private addScaledParts(i: number, c: number, yHi: number, yLo: number): void {
    const xHi = this.hi[i];
    const p = c * yHi;
    const pLo = twoProductError(c, yHi, p) + c * yLo;
    const s = xHi + p;
    const lo = twoSumError(xHi, p, s) + (this.lo[i] + pLo);
    // store() of double-double.ts: normalized by TwoSum, saturating to the float64 sum beyond the range.
    const hi = s + lo;
    if (hi - hi === 0) {
      this.lo[i] = twoSumError(s, lo, hi);
      this.hi[i] = hi;
    } else {
      this.hi[i] = s;
      this.lo[i] = 0;
    }
  }

  /** Every element rounded once to float64. */
  rounded(): Float64Array {
    const out = new Float64Array(this.length);
    for (let i = 0; i < this.length; i++) out[i] = this.hi[i] + this.lo[i];
    return out;
  }
}

/**
 * The terms of one accumulator in a channel's chain rule: term k adds scale[k]·src[k] to element
 * index[k] (none where the index is negative). Run as one tight loop per accumulator (addTo), in
 * the order the family's formulas list the terms of each element: a loop this small is compiled
 * with addScaled inlined and its doubles unboxed, where one loop updating every accumulator was not.
 */
export class ScaledTerms {
  readonly index: Int32Array;
  readonly scale: Float64Array;

  /** Room for `length` terms. */
  constructor(readonly length: number) {
    this.index = new Int32Array(length);
    this.scale = new Float64Array(length);
  }

  /** acc[index[k]] ← acc[index[k]] + scale[k]·src[k] for k = 0 … length − 1, in that order. */
  addTo(acc: DoubleDoubleArray, src: DoubleDoubleArray): void {
    const { index, scale, length } = this;
    for (let k = 0; k < length; k++) {
      const i = index[k];
      if (i >= 0) acc.addScaledFrom(i, scale[k], src, k);
    }
  }
}
