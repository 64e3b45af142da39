/**
 * Tensors as the suite passes them: dense, row-major, time contiguous (mamba_ssm layout).
 * Inputs are float32 so the reference answers for exactly the values an f32 kernel receives.
 */

/** A dense row-major float32 input tensor. */
export interface Tensor {
  readonly data: Float32Array;
  readonly shape: readonly number[];
}

/** A dense row-major output tensor; an implementation may answer in float32 or float64 storage. */
export interface OutputTensor {
  readonly data: Float32Array | Float64Array;
  readonly shape: readonly number[];
}

/** A float64 tensor, as the reference returns its outputs and condition scales. */
export interface Float64Tensor {
  readonly data: Float64Array;
  readonly shape: readonly number[];
}

/** Number of elements of a shape (1 for a scalar shape []). */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

/** Builds a float32 tensor, rounding plain numbers to float32. */
export function tensor(data: Float32Array | readonly number[], shape: readonly number[]): Tensor {
  const array = data instanceof Float32Array ? data : Float32Array.from(data);
  if (array.length !== elementCount(shape)) {
    throw new RangeError(`tensor: expected ${elementCount(shape)} elements for shape [${shape.join(', ')}], got ${array.length}`);
  }
  return { data: array, shape: [...shape] };
}

/** Formats a shape the way every error message of the suite prints it. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Row-major coordinates of a flat index into a tensor of the given shape (every error message prints these). */
export function unravelIndex(index: number, shape: readonly number[]): number[] {
  const coordinates = new Array<number>(shape.length);
  let rest = index;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    coordinates[axis] = shape[axis] === 0 ? 0 : rest % shape[axis];
    rest = shape[axis] === 0 ? 0 : Math.floor(rest / shape[axis]);
  }
  return coordinates;
}
