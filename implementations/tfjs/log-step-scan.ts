/**
 * The log-step (Hillis–Steele) scan of affine maps h ↦ a·h + b along the last axis, from tf ops.
 * After the round with shift s, element t holds the composition of the maps t−2s+1 … t; composing
 * (a', b') then (a, b) gives (a·a', a·b' + b). ⌈log2 L⌉ rounds of whole-tensor ops, no loop over time.
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * h_t = a_t·h_{t−1} + b_t along the last axis with h_{−1} = 0, for a, b of one shape with a
 * non-empty last axis; returns a new tensor, the arguments stay owned by the caller.
 */
export function logStepScan(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const length = a.shape[a.rank - 1];
  let coefficient = a;
  let offset = b;
  for (let shift = 1; shift < length; shift *= 2) {
    const lastRound = shift * 2 >= length;
    const [nextCoefficient, nextOffset] = tf.tidy(() => {
      const composedOffset = tf.add(tf.mul(coefficient, shiftAlongTime(offset, shift, 0)), offset);
      // The last round's coefficients are never read: skip them.
      const composedCoefficient = lastRound ? coefficient : tf.mul(coefficient, shiftAlongTime(coefficient, shift, 1));
      return [composedCoefficient, composedOffset];
    });
    if (coefficient !== a && coefficient !== nextCoefficient) coefficient.dispose();
    if (offset !== b) offset.dispose();
    coefficient = nextCoefficient;
    offset = nextOffset;
  }
  if (coefficient !== a) coefficient.dispose();
  return offset === b ? tf.clone(b) : offset;
}

/** x shifted by `shift` later along the last axis, the first `shift` places filled with `fill` (the identity map's a or b). */
function shiftAlongTime(x: tf.Tensor, shift: number, fill: number): tf.Tensor {
  const length = x.shape[x.rank - 1];
  const begin = x.shape.map(() => 0);
  const size = x.shape.map((s, axis) => (axis === x.rank - 1 ? length - shift : s));
  const paddings = x.shape.map((_, axis): [number, number] => (axis === x.rank - 1 ? [shift, 0] : [0, 0]));
  return tf.pad(tf.slice(x, begin, size), paddings, fill);
}

/** The element at time index `t` of the last axis, with that axis dropped. */
export function atTime(x: tf.Tensor, t: number): tf.Tensor {
  const begin = x.shape.map((_, axis) => (axis === x.rank - 1 ? t : 0));
  const size = x.shape.map((s, axis) => (axis === x.rank - 1 ? 1 : s));
  return tf.squeeze(tf.slice(x, begin, size), [x.rank - 1]);
}

/** b with its first time step replaced by a_0·h0 + b_0: the scan of the result starts from h0 instead of 0. */
export function foldInitialState(a: tf.Tensor, b: tf.Tensor, h0: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const length = b.shape[b.rank - 1];
    const first = tf.add(tf.mul(sliceTime(a, 0, 1), tf.expandDims(h0, -1)), sliceTime(b, 0, 1));
    return length === 1 ? first : tf.concat([first, sliceTime(b, 1, length - 1)], b.rank - 1);
  });
}

/** Time steps [begin, begin + count) of the last axis. */
export function sliceTime(x: tf.Tensor, begin: number, count: number): tf.Tensor {
  return tf.slice(
    x,
    x.shape.map((_, axis) => (axis === x.rank - 1 ? begin : 0)),
    x.shape.map((s, axis) => (axis === x.rank - 1 ? count : s)),
  );
}
