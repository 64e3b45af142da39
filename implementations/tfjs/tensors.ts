/** Conversions between the suite's row-major tensors and tfjs tensors. */
import * as tf from '@tensorflow/tfjs-core';
import type { OutputTensor, Tensor } from '../../spec/tensor.ts';

/** A float32 tfjs tensor holding a copy of a suite tensor (tfjs may keep the array it is given). */
export function toTf(tensor: Tensor): tf.Tensor {
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
