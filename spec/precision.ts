/** The arithmetic an implementation computes in, and the one table of its unit roundoff. */

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

/** Whether a string names a precision. */
export function isPrecision(value: unknown): value is Precision {
  return typeof value === 'string' && (PRECISIONS as readonly string[]).includes(value);
}
