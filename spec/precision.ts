/** The arithmetic an implementation computes in, and the one place of its facts: unit roundoff, range, significand. */

export const PRECISIONS = ['float64', 'float32', 'float16', 'bfloat16'] as const;

/** An arithmetic precision an implementation may declare. */
export type Precision = (typeof PRECISIONS)[number];

/** Unit roundoff u (half an ulp of 1) of each precision, round-to-nearest. */
export const UNIT_ROUNDOFF: Readonly<Record<Precision, number>> = {
  float64: 2 ** -53,
  float32: 2 ** -24,
  float16: 2 ** -11,
  bfloat16: 2 ** -8,
};

/** Smallest positive normal number of each precision. */
export const MIN_NORMAL: Readonly<Record<Precision, number>> = {
  float64: 2 ** -1022,
  float32: 2 ** -126,
  float16: 2 ** -14,
  bfloat16: 2 ** -126,
};

/** Largest finite number of each precision. */
export const MAX_FINITE: Readonly<Record<Precision, number>> = {
  float64: Number.MAX_VALUE,
  float32: (2 - 2 ** -23) * 2 ** 127,
  float16: 65504,
  bfloat16: (2 - 2 ** -7) * 2 ** 127,
};

/** Bits of the significand of each precision (the implicit leading bit included): u = 2^−bits. */
export const SIGNIFICAND_BITS: Readonly<Record<Precision, number>> = {
  float64: 53,
  float32: 24,
  float16: 11,
  bfloat16: 8,
};

/** Whether a string names a precision. */
export function isPrecision(value: unknown): value is Precision {
  return typeof value === 'string' && (PRECISIONS as readonly string[]).includes(value);
}
