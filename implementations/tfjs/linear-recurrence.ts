/** linear-recurrence from tf ops: h0 folded into the first step, then the log-step scan; reverse by tf.reverse. */
import * as tf from '@tensorflow/tfjs-core';
import type { LinearRecurrenceInputs, LinearRecurrenceOptions, LinearRecurrenceStepInputs } from '../../spec/families.ts';
import type { OutputTensor } from '../../spec/tensor.ts';
import { atTime, foldInitialState, logStepScan } from './log-step-scan.ts';
import { copyOutput, toTf, zerosOutput, type Liftable } from './tensors.ts';

/** The outputs as tfjs tensors, for inputs with batch, dim and L all ≥ 1. */
export function linearRecurrenceTensors(
  inputs: Liftable<'linear-recurrence'>,
  options: LinearRecurrenceOptions,
): { h: tf.Tensor; lastState: tf.Tensor } {
  return tf.tidy(() => {
    const timeAxis = 2;
    const inOrder = (x: tf.Tensor) => (options.reverse ? tf.reverse(x, timeAxis) : x);
    const a = inOrder(toTf(inputs.a));
    let b = inOrder(toTf(inputs.b));
    if (inputs.h0 !== undefined) b = foldInitialState(a, b, toTf(inputs.h0));
    const scanned = logStepScan(a, b);
    const lastState = atTime(scanned, inputs.a.shape[timeAxis] - 1);
    return { h: inOrder(scanned), lastState };
  });
}

/** The outputs of a problem with batch, dim or L zero, which tfjs is not asked about: h is empty, lastState is h0 or zeros. */
export function emptyLinearRecurrence(inputs: LinearRecurrenceInputs): { h: OutputTensor; lastState: OutputTensor } {
  const [batch, dim, length] = inputs.a.shape;
  return {
    h: zerosOutput([batch, dim, length]),
    lastState: inputs.h0 !== undefined && length === 0 ? copyOutput(inputs.h0, [batch, dim]) : zerosOutput([batch, dim]),
  };
}

/** One step h' = a·h + b; y is the new state. */
export function linearRecurrenceStepTensors(inputs: LinearRecurrenceStepInputs): { y: tf.Tensor; state: tf.Tensor } {
  return tf.tidy(() => {
    const state = tf.add(tf.mul(toTf(inputs.a), toTf(inputs.state)), toTf(inputs.b));
    return { y: tf.clone(state), state };
  });
}
