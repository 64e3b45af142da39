/**
 * Double-double arithmetic: a number held as the unevaluated sum hi + lo of two float64 values
 * with |lo| ≤ ½·ulp(hi), about 106 significant bits. Built from error-free transformations
 * (Knuth's TwoSum, Dekker's FastTwoSum and TwoProd), which compute a rounded result together with
 * its exact rounding error. JavaScript has no fused multiply-add, so TwoProd splits its operands
 * (Dekker/Veltkamp) instead.
 *
 * Every operation updates a DoubleDouble in place: the reference's loops run tens of millions of
 * steps, and allocating a pair per step would dominate them. Values leave as float64 through
 * toNumber, rounded once.
 *
 * Error of the compound operations, with u = 2^-53 (derivations beside each function): each adds
 * at most ~3·u²·(sum of the magnitudes of its operands), i.e. it is accurate to ~2^-104 relative
 * to the condition scale of the computation, not to the (possibly cancelled) result.
 *
 * Range: a result beyond float64's range saturates to ±∞ (see `store`), and stays there even if
 * the exact value would later decay back into range. Below ~2^-969 TwoProd's error term itself
 * underflows, so products there carry an absolute error under ~2^-1020.
 *
 * Speed: a mulAdd costs several float64 steps; the measured ratios are in bench/runs.md
 * (rerun: npx tsx reference/benchmark-double-double.ts).
 */

/** A double-double number hi + lo, updated in place by the functions of this module. */
export class DoubleDouble {
  // `declare` emits no class field, so the constructor's write is the first: a field first defined
  // as undefined (what a plain `hi: number;` compiles to under ES2022 class-field semantics) loses
  // V8's unboxed-double representation, which halved the recurrence's speed.
  declare hi: number;
  declare lo: number;

  /** A double-double holding hi + lo; the pair must already be normalized (hi = fl(hi + lo)). */
  constructor(hi = 0, lo = 0) {
    this.hi = hi;
    this.lo = lo;
  }

  /** Sets the value to a float64 (exactly) or to an already normalized pair; returns this. */
  set(hi: number, lo = 0): this {
    this.hi = hi;
    this.lo = lo;
    return this;
  }
}

/** The float64 nearest to hi + lo: the one rounding of a double-double result. */
export function toNumber(x: DoubleDouble): number {
  // A normalized pair already has hi = fl(hi + lo); adding anyway keeps an un-normalized pair right.
  return x.hi + x.lo;
}

// ------------------------------------------------------------ error-free transformations
//
// The cores return the rounding error as a plain number (given the rounded result), so that V8
// inlines them into the compound operations below with no object traffic: written with
// out-parameters the recurrence ran at 18 M steps/s, written this way at 68 M steps/s.

/** The exact error of s = fl(a + b), for any a, b (Knuth's TwoSum: six flops, no branch). */
export function twoSumError(a: number, b: number, s: number): number {
  const bVirtual = s - a;
  const aVirtual = s - bVirtual;
  return a - aVirtual + (b - bVirtual);
}

/** 2^27 + 1: multiplying by it and subtracting back splits a 53-bit significand into 26 + 27 bits. */
const SPLITTER = 134217729;

/** The upper half (≤ 26 significant bits) of a float64, by Veltkamp splitting. */
function highHalf(a: number): number {
  const t = SPLITTER * a;
  const hi = t - (t - a);
  // For |a| > 2^996 the product t overflows and hi is NaN (∞ − ∞): split a scaled copy instead.
  return hi === hi ? hi : highHalfOfHuge(a);
}

/** highHalf for |a| > 2^996: scaling by a power of two is exact and keeps the product finite. */
function highHalfOfHuge(a: number): number {
  const scaled = a * 2 ** -28;
  const t = SPLITTER * scaled;
  return (t - (t - scaled)) * 2 ** 28;
}

/**
 * The exact error of p = fl(a·b) (Dekker's TwoProd), provided a·b neither overflows nor falls
 * below ~2^-969, where the error itself would underflow. The halves of a and b have ≤ 26
 * significant bits, so their pairwise products are exact and, summed from the largest down,
 * give a·b − p exactly.
 */
export function twoProductError(a: number, b: number, p: number): number {
  const aHi = highHalf(a);
  const aLo = a - aHi;
  const bHi = highHalf(b);
  const bLo = b - bHi;
  return aHi * bHi - p + aHi * bLo + aLo * bHi + aLo * bLo;
}

/** TwoSum: out ← (s, e) with s = fl(a + b) and s + e = a + b exactly; returns out. */
export function twoSum(a: number, b: number, out: DoubleDouble): DoubleDouble {
  const s = a + b;
  return out.set(s, twoSumError(a, b, s));
}

/**
 * FastTwoSum (Dekker): out ← (s, e) with s + e = a + b exactly, PROVIDED the exponent of a is at
 * least that of b (e.g. |a| ≥ |b|); three flops, and a wrong e without warning otherwise.
 */
export function fastTwoSum(a: number, b: number, out: DoubleDouble): DoubleDouble {
  const s = a + b;
  return out.set(s, b - (s - a));
}

/** TwoProd: out ← (p, e) with p = fl(a·b) and p + e = a·b exactly (range as twoProductError); returns out. */
export function twoProd(a: number, b: number, out: DoubleDouble): DoubleDouble {
  const p = a * b;
  return out.set(p, twoProductError(a, b, p));
}

// ------------------------------------------------------------ double-double operations

/**
 * Stores the pair (s, lo) into x, normalized by TwoSum (not FastTwoSum: when the operands cancel,
 * s can be smaller than lo). When the result leaves float64's range the error terms are ∞ − ∞ =
 * NaN; then x takes the plain float64 result `rounded` (±∞, the output policy's answer beyond the
 * range) with lo = 0, so an overflow saturates instead of turning into NaN.
 */
function store(x: DoubleDouble, s: number, lo: number, rounded: number): void {
  const hi = s + lo;
  if (hi - hi === 0) {
    x.lo = twoSumError(s, lo, hi);
    x.hi = hi;
  } else {
    x.hi = rounded;
    x.lo = 0;
  }
}

/**
 * x ← a·x + b, the step of every recurrence of the reference (a, b float64).
 * Error ≤ ~3u²·(|a·x| + |b|): the products and sums of the error-free transformations are exact;
 * what rounds is a·x.lo (≤ u·|a·x.lo| ≤ u²|a·x|), the sum of the low parts and the final
 * normalization, each O(u²) of the operand magnitudes.
 */
export function mulAdd(x: DoubleDouble, a: number, b: number): void {
  const h = x.hi;
  const p = a * h;
  const pLo = twoProductError(a, h, p) + a * x.lo;
  const s = p + b;
  store(x, s, twoSumError(p, b, s) + pLo, p + b);
}

/** x ← a·x (a float64). Error ≤ ~2u²·|a·x|. */
export function mulNumber(x: DoubleDouble, a: number): void {
  const h = x.hi;
  const p = a * h;
  store(x, p, twoProductError(a, h, p) + a * x.lo, p);
}

/** x ← x + b (b float64). Error ≤ ~2u²·(|x| + |b|). */
export function addNumber(x: DoubleDouble, b: number): void {
  const s = x.hi + b;
  store(x, s, twoSumError(x.hi, b, s) + x.lo, s);
}

/** x ← x + y. Error ≤ ~3u²·(|x| + |y|) (the "sloppy" sum: accurate relative to |x| + |y|, not |x + y|). */
export function add(x: DoubleDouble, y: DoubleDouble): void {
  const s = x.hi + y.hi;
  store(x, s, twoSumError(x.hi, y.hi, s) + (x.lo + y.lo), s);
}

/** x ← x + c·y (c float64): one term of a contraction Σ_n C_n·h_n. Error ≤ ~4u²·(|x| + |c·y|). */
export function addProduct(x: DoubleDouble, c: number, y: DoubleDouble): void {
  const p = c * y.hi;
  const pLo = twoProductError(c, y.hi, p) + c * y.lo;
  const s = x.hi + p;
  store(x, s, twoSumError(x.hi, p, s) + (x.lo + pLo), s);
}
