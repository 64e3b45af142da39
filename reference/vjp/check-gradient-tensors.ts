/**
 * Checks of the cotangents and tangents given to the gradient reference: exactly the expected
 * names, float32 or float64 data of the expected shape, finite values. Failures throw
 * SpecValidationError naming the tensor, what was expected and what came.
 */
import { SpecValidationError } from '../../spec/errors.ts';
import { elementCount, formatShape } from '../../spec/tensor.ts';
import type { Values } from './types.ts';

/** Validates `given` against the expected shape per name (context e.g. 'ssd cotangents'); returns the data by name. */
export function checkGradientTensors(context: string, given: unknown, expected: Readonly<Record<string, readonly number[]>>): Values {
  const fail = (field: string, want: string, actual: string): never => {
    throw new SpecValidationError({ context, field, expected: want, actual });
  };
  if (typeof given !== 'object' || given === null) return fail(context.split(' ').at(-1) ?? context, 'an object of tensors', String(given));
  const record = given as Record<string, unknown>;
  for (const name of Object.keys(record)) {
    if (record[name] !== undefined && !(name in expected)) fail(name, `one of ${Object.keys(expected).join(', ') || '(none)'}`, 'an unexpected name');
  }
  const values: Record<string, Float32Array | Float64Array> = {};
  for (const [name, shape] of Object.entries(expected)) {
    const tensor = record[name] as { data?: unknown; shape?: unknown } | undefined;
    if (tensor === undefined) fail(name, `a tensor of shape ${formatShape(shape)}`, 'undefined (missing)');
    const { data, shape: actualShape } = tensor as { data?: unknown; shape?: unknown };
    if (!(data instanceof Float32Array || data instanceof Float64Array)) fail(`${name}.data`, 'a Float32Array or Float64Array', Object.prototype.toString.call(data));
    const array = data as Float32Array | Float64Array;
    if (!Array.isArray(actualShape) || formatShape(actualShape) !== formatShape(shape)) fail(`${name}.shape`, formatShape(shape), Array.isArray(actualShape) ? formatShape(actualShape) : String(actualShape));
    if (array.length !== elementCount(shape)) fail(`${name}.data`, `${elementCount(shape)} elements`, `${array.length}`);
    const bad = array.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) fail(name, 'finite values', `${array[bad]} at flat index ${bad}`);
    values[name] = array;
  }
  return values;
}
