/**
 * Where the reference writes its answers: for each output name three float64 tensors of the
 * same shape (value, condition scale S, depth scale W), filled element by element.
 */
import type { DoubleDouble } from './double-double.ts';
import { toNumber } from './double-double.ts';
import type { Float64Tensor } from '../spec/tensor.ts';
import { elementCount } from '../spec/tensor.ts';

/** The three float64 tensors of one output. */
export interface ScaledTensor {
  readonly value: Float64Tensor;
  readonly conditionScale: Float64Tensor;
  readonly depthScale: Float64Tensor;
}

/** Allocates the value, S and W tensors of one output shape, zero-filled. */
export function allocateScaled(shape: readonly number[]): ScaledTensor {
  const make = (): Float64Tensor => ({ data: new Float64Array(elementCount(shape)), shape: [...shape] });
  return { value: make(), conditionScale: make(), depthScale: make() };
}

/** Writes one element: the double-double value and S, each rounded once to float64, and W (float64 already). */
export function writeScaled(
  target: ScaledTensor,
  index: number,
  value: DoubleDouble,
  conditionScale: DoubleDouble,
  depthScale: number,
): void {
  target.value.data[index] = toNumber(value);
  target.conditionScale.data[index] = toNumber(conditionScale);
  target.depthScale.data[index] = depthScale;
}

/** Flat index of element (b, d, t) of a (batch, dim, L) tensor; also (b, d) of a step's (batch, dim) with L = 1, t = 0. */
export function sequenceIndex(dim: number, length: number, b: number, d: number, t: number): number {
  return (b * dim + d) * length + t;
}
