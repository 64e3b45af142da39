/** prefix-sum by tf.cumsum: tfjs's own scan kernel on each backend, none of ours. */
import * as tf from '@tensorflow/tfjs-core';
import type { PrefixSumInputs, PrefixSumOptions, PrefixSumStepInputs } from '../../spec/families.ts';
import { toTf, type Liftable } from './tensors.ts';

/** y = tf.cumsum(x) along time with the problem's exclusive and reverse, for a non-empty x. */
export function prefixSumTensors(inputs: Liftable<'prefix-sum'>, options: PrefixSumOptions): { y: tf.Tensor } {
  return tf.tidy(() => ({ y: tf.cumsum(toTf(inputs.x), 2, options.exclusive, options.reverse) }));
}

/** One step: the running sum plus x_t; y is the new sum. */
export function prefixSumStepTensors(inputs: PrefixSumStepInputs): { y: tf.Tensor; state: tf.Tensor } {
  return tf.tidy(() => {
    const state = tf.add(toTf(inputs.state), toTf(inputs.x));
    return { y: tf.clone(state), state };
  });
}
