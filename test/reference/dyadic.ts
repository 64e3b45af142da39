/**
 * Exact rational arithmetic on dyadic numbers num·2^exp (BigInt numerator): every float64 is one,
 * and sums and products of dyadics stay dyadic, so the recurrences of the suite can be evaluated
 * exactly, independently of the reference's double-double code.
 */

/** The exact value num·2^exp. */
export interface Dyadic {
  readonly num: bigint;
  readonly exp: number;
}

export const ZERO: Dyadic = { num: 0n, exp: 0 };

const view = new DataView(new ArrayBuffer(8));

/** The exact value of a finite float64. */
export function fromNumber(x: number): Dyadic {
  if (!Number.isFinite(x)) throw new RangeError(`fromNumber: ${x} is not finite`);
  if (x === 0) return ZERO;
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  let num = biased === 0 ? fraction : fraction | (1n << 52n);
  let exp = biased === 0 ? -1074 : biased - 1075;
  while ((num & 1n) === 0n) {
    num >>= 1n;
    exp += 1;
  }
  return { num: x < 0 ? -num : num, exp };
}

/** a + b, exactly. */
export function add(a: Dyadic, b: Dyadic): Dyadic {
  if (a.num === 0n) return b;
  if (b.num === 0n) return a;
  const exp = Math.min(a.exp, b.exp);
  return { num: (a.num << BigInt(a.exp - exp)) + (b.num << BigInt(b.exp - exp)), exp };
}

/** a·b, exactly. */
export function mul(a: Dyadic, b: Dyadic): Dyadic {
  if (a.num === 0n || b.num === 0n) return ZERO;
  return { num: a.num * b.num, exp: a.exp + b.exp };
}

/** −a. */
export function neg(a: Dyadic): Dyadic {
  return { num: -a.num, exp: a.exp };
}

/** |a|. */
export function abs(a: Dyadic): Dyadic {
  return a.num < 0n ? neg(a) : a;
}

/** a − b, exactly. */
export function sub(a: Dyadic, b: Dyadic): Dyadic {
  return add(a, neg(b));
}

function bitLength(n: bigint): number {
  return n === 0n ? 0 : (n < 0n ? -n : n).toString(2).length;
}

/** The float64 nearest to a (ties to even), with gradual underflow; ±Infinity beyond the range. */
export function toNumber(a: Dyadic): number {
  if (a.num === 0n) return 0;
  const negative = a.num < 0n;
  const m = negative ? -a.num : a.num;
  const top = a.exp + bitLength(m) - 1; // ⌊log2 |a|⌋
  const lsb = Math.max(top - 52, -1074); // exponent of the last significand bit of the result
  let value: number;
  if (lsb <= a.exp) {
    value = Number(m) * 2 ** a.exp;
  } else {
    const shift = BigInt(lsb - a.exp);
    let q = m >> shift;
    const remainder = m - (q << shift);
    const half = 1n << (shift - 1n);
    if (remainder > half || (remainder === half && (q & 1n) === 1n)) q += 1n;
    value = lsb > 1023 ? Infinity : Number(q) * 2 ** lsb;
  }
  return negative ? -value : value;
}

/** The spacing of float64 values at x (2^(⌊log2|x|⌋ − 52), or the subnormal spacing 2^-1074). */
export function ulp(x: number): number {
  if (x === 0) return 2 ** -1074;
  const top = Math.floor(Math.log2(Math.abs(x)));
  // Math.log2 can be off by one next to a power of two: correct against the exact power.
  const exponent = 2 ** top > Math.abs(x) ? top - 1 : 2 ** (top + 1) <= Math.abs(x) ? top + 1 : top;
  return 2 ** Math.max(exponent - 52, -1074);
}

/** |x − a| for a float64 x, rounded to float64 (relative error ≤ 2^-53). */
export function distance(x: number, a: Dyadic): number {
  return Math.abs(toNumber(sub(fromNumber(x), a)));
}

/** Whether a and b are the same number (representations are not canonical). */
export function equals(a: Dyadic, b: Dyadic): boolean {
  return sub(a, b).num === 0n;
}
