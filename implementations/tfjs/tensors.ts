/** Conversions between the suite's row-major tensors and tfjs tensors. */
import * as tf from '@tensorflow/tfjs-core';
import type { FamilyName, InputsOf } from '../../spec/families.ts';
import type { DifferentiableInput } from '../../spec/gradients.ts';
import type { OutputTensor, Tensor } from '../../spec/tensor.ts';

/** A tfjs tensor standing for a suite tensor, with the suite's shape type. */
export interface LiftedTensor {
  readonly lifted: tf.Tensor;
  readonly shape: readonly number[];
}

/**
 * A family's inputs where each differentiable one may be a LiftedTensor: vjp.ts hands the builders
 * the tensors it differentiates with respect to, so that tf.grads sees every op applied to them.
 * Builders read such inputs only through toTf and their shapes.
 */
export type Liftable<F extends FamilyName> = {
  readonly [K in keyof InputsOf<F>]: K extends DifferentiableInput<F> ? Exclude<InputsOf<F>[K], undefined> extends Tensor ? InputsOf<F>[K] | LiftedTensor : InputsOf<F>[K] : InputsOf<F>[K];
};

/** A tfjs tensor of a suite tensor (Tensor | LiftedTensor), as toTf reads it. */
export type TensorInput = Tensor | LiftedTensor;

/**
 * A float32 tfjs tensor holding a copy of a suite tensor (tfjs may keep the array it is given), or
 * a lifted tensor's own tfjs tensor (the caller keeps owning it).
 */
export function toTf(tensor: TensorInput): tf.Tensor {
  if ('lifted' in tensor) return tensor.lifted;
  return tf.tensor(tensor.data.slice(), [...tensor.shape], 'float32');
}

/** Reads tfjs tensors back (with `await data()`: webgpu's dataSync needs an OffscreenCanvas) and disposes them. */
export async function readOutputs<K extends string>(tensors: Readonly<Record<K, tf.Tensor>>): Promise<Record<K, OutputTensor>> {
  const names = Object.keys(tensors) as K[];
  try {
    const arrays = await Promise.all(names.map((name) => tensors[name].data<'float32'>()));
    const outputs = {} as Record<K, OutputTensor>;
    names.forEach((name, i) => {
      outputs[name] = { data: Float32Array.from(arrays[i]), shape: [...tensors[name].shape] };
    });
    return outputs;
  } finally {
    for (const name of names) tensors[name].dispose();
  }
}

/** A float32 output of the given shape filled with zeros, for the degenerate sizes tfjs is not asked about. */
export function zerosOutput(shape: readonly number[]): OutputTensor {
  return { data: new Float32Array(shape.reduce((n, s) => n * s, 1)), shape: [...shape] };
}

/** A float32 output holding a copy of a suite tensor's values under a given shape. */
export function copyOutput(tensor: Tensor, shape: readonly number[]): OutputTensor {
  return { data: tensor.data.slice(), shape: [...shape] };
}

/**
 * tf.where(condition, a, value) with the constant filled at the result's shape. tf.where broadcasts
 * each operand with tf.tile, and tfjs-webgpu tiles a tensor of under 1000 elements held on the CPU
 * (a scalar) in a JavaScript loop over every element of the result, then uploads it; a fill runs
 * on the backend. The result is the same, element for element.
 */
export function whereElse(condition: tf.Tensor, a: tf.Tensor, value: number): tf.Tensor {
  return tf.where(condition, a, tf.fill(tf.broadcast_util.assertAndGetBroadcastShape(condition.shape, a.shape), value));
}
