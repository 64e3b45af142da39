/**
 * The arithmetic a kernel computes in. Every algorithm is written once against `round`, applied
 * after every operation: Math.fround emulates float32, identity leaves float64 as it is.
 */

import type { ScanArray } from './scan-array.ts';
import type { PrecisionKernels } from './kernels.ts';
import { specialiseKernels } from './kernels.ts';

export type { ScanArray } from './scan-array.ts';

/** A kernel precision: its rounding and its storage. */
export interface Arithmetic {
  readonly precision: 'float32' | 'float64';
  /** Rounds an exactly computed float64 result to this precision. */
  readonly round: (x: number) => number;
  /** Allocates a zeroed array of this precision. */
  allocate(length: number): ScanArray;
  /** The hot loops, compiled for this precision alone. */
  readonly kernels: PrecisionKernels;
}

function identity(x: number): number {
  return x;
}

/** float32: Math.fround after every operation, Float32Array storage. */
export const FLOAT32: Arithmetic = {
  precision: 'float32',
  round: Math.fround,
  allocate: (length) => new Float32Array(length),
  kernels: specialiseKernels(Math.fround),
};

/** float64: JavaScript's native arithmetic, Float64Array storage. */
export const FLOAT64: Arithmetic = {
  precision: 'float64',
  round: identity,
  allocate: (length) => new Float64Array(length),
  kernels: specialiseKernels(identity),
};

/** The arithmetic of a precision name. */
export function arithmeticOf(precision: 'float32' | 'float64'): Arithmetic {
  return precision === 'float32' ? FLOAT32 : FLOAT64;
}
