/**
 * selective-scan (mamba_ssm's selective_scan_ref, real A) from tf ops: discretization over the
 * whole (batch, dim, N, L) block, the log-step scan over L, then the contraction with C, D·u and
 * the silu gate. Where seqIdx changes the decay is exactly 0 (−∞ before exp, never 0·∞), so the
 * scan carries nothing across a reset.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { SelectiveScanInputs, SelectiveScanOptions, SelectiveScanStepInputs } from '../../spec/families.ts';
import { projectionLayout } from '../../spec/shapes.ts';
import type { OutputTensor, Tensor } from '../../spec/tensor.ts';
import { silu, softplus } from './activations.ts';
import { atTime, foldInitialState, logStepScan } from './log-step-scan.ts';
import { copyOutput, toTf, whereElse, zerosOutput, type Liftable, type TensorInput } from './tensors.ts';

/** The outputs as tfjs tensors, for inputs with batch, dim and L all ≥ 1. */
export function selectiveScanTensors(
  inputs: Liftable<'selective-scan'>,
  options: SelectiveScanOptions,
): { y: tf.Tensor; lastState: tf.Tensor } {
  return tf.tidy(() => {
    const [batch, dim, length] = inputs.u.shape;
    const stateSize = inputs.A.shape[1];
    const u = toTf(inputs.u);
    let delta = toTf(inputs.delta);
    if (inputs.deltaBias !== undefined) delta = tf.add(delta, tf.reshape(toTf(inputs.deltaBias), [1, dim, 1]));
    if (options.deltaSoftplus) delta = softplus(delta);
    // Axes (batch, dim, N, L) from here on.
    const deltaPerState = tf.reshape(delta, [batch, dim, 1, length]);
    const uPerState = tf.reshape(u, [batch, dim, 1, length]);
    const exponent = tf.mul(deltaPerState, tf.reshape(toTf(inputs.A), [1, dim, stateSize, 1]));
    const deltaA = inputs.seqIdx === undefined ? tf.exp(exponent) : tf.exp(whereElse(tf.broadcastTo(continues(inputs.seqIdx), exponent.shape), exponent, Number.NEGATIVE_INFINITY));
    // delta·B·u in mamba_ssm's einsum order.
    const deltaBu = tf.mul(tf.mul(deltaPerState, projectionPerChannel(inputs.B, dim, stateSize)), uPerState);
    const driven = inputs.h0 === undefined ? deltaBu : foldInitialState(deltaA, deltaBu, toTf(inputs.h0));
    const states = logStepScan(deltaA, driven);
    let y = tf.sum(tf.mul(states, projectionPerChannel(inputs.C, dim, stateSize)), 2);
    if (inputs.D !== undefined) y = tf.add(y, tf.mul(u, tf.reshape(toTf(inputs.D), [1, dim, 1])));
    if (inputs.z !== undefined) y = tf.mul(y, silu(toTf(inputs.z)));
    return { y, lastState: atTime(states, length - 1) };
  });
}

/** (batch, 1, 1, L), true where the state carries on: false at t ≥ 1 where seqIdx changes (a reset). */
function continues(seqIdx: Tensor): tf.Tensor {
  const [batch, length] = seqIdx.shape;
  const ids = seqIdx.data;
  const keep = Uint8Array.from({ length: batch * length }, (_, i) => (i % length === 0 || ids[i] === ids[i - 1] ? 1 : 0));
  return tf.tensor4d(keep, [batch, 1, 1, length], 'bool');
}

/**
 * B or C broadcastable against (batch, dim, N, L): (dim, N) → (1, dim, N, 1); (batch, N, L) →
 * (batch, 1, N, L); (batch, G, N, L) → (batch, dim, N, L) by gathering channel d's group ⌊d/(dim/G)⌋.
 */
function projectionPerChannel(projection: TensorInput, dim: number, stateSize: number): tf.Tensor {
  const layout = projectionLayout(projection.shape);
  const values = toTf(projection);
  switch (layout.kind) {
    case 'time-invariant':
      return tf.reshape(values, [1, dim, stateSize, 1]);
    case 'time-varying': {
      const [batch, , length] = projection.shape;
      return tf.reshape(values, [batch, 1, stateSize, length]);
    }
    case 'grouped': {
      const channelsPerGroup = dim / layout.groups;
      const groupOfChannel = Int32Array.from({ length: dim }, (_, d) => Math.floor(d / channelsPerGroup));
      return tf.gather(values, tf.tensor1d(groupOfChannel, 'int32'), 1);
    }
  }
}

/** The outputs of a problem with batch, dim or L zero, which tfjs is not asked about: y is empty, lastState is h0 or zeros. */
export function emptySelectiveScan(inputs: SelectiveScanInputs): { y: OutputTensor; lastState: OutputTensor } {
  const [batch, dim, length] = inputs.u.shape;
  const stateShape = [batch, dim, inputs.A.shape[1]];
  return {
    y: zerosOutput([batch, dim, length]),
    lastState: inputs.h0 !== undefined && length === 0 ? copyOutput(inputs.h0, stateShape) : zerosOutput(stateShape),
  };
}

/** One token (selective_state_update): the run with L = 1 from the given state. */
export function selectiveScanStepTensors(
  inputs: SelectiveScanStepInputs,
  options: SelectiveScanOptions,
): { y: tf.Tensor; state: tf.Tensor } {
  const [batch, dim] = inputs.u.shape;
  const asSequence = (x: Tensor): Tensor => ({ data: x.data, shape: [batch, dim, 1] });
  const { y, lastState } = selectiveScanTensors(
    {
      u: asSequence(inputs.u),
      delta: asSequence(inputs.delta),
      A: inputs.A,
      B: inputs.B,
      C: inputs.C,
      D: inputs.D,
      z: inputs.z === undefined ? undefined : asSequence(inputs.z),
      deltaBias: inputs.deltaBias,
      h0: inputs.state,
    },
    options,
  );
  const state = lastState;
  const yPerToken = tf.tidy(() => tf.reshape(y, [batch, dim]));
  y.dispose();
  return { y: yPerToken, state };
}
