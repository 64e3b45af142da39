/**
 * softplus and silu from tf ops, written to be accurate on every backend. Measured on tfjs 4.22
 * (npx tsx bench/tfjs-accuracy.ts), max error in float32 ulps:
 *
 *   op                               cpu     wasm    webgpu (lavapipe)
 *   tf.exp on [-40, 40]              0.99    0.99    33 (WGSL allows 3 + 2|x|)
 *   tf.log near 1                    0.99    1.3     4.3
 *   tf.log1p on [1e-12, 1]           1.0     1.7e7   1.7e7   (log(1 + x): all digits lost at 1e-12)
 *   tf.softplus on [-40, 40]         7.9     7.9     1.1e6 at x = -13.9
 *   accurateLog1p (here)             2.6     2.6     4.4
 *   softplus (here)                  2.9     2.9     33 (exp's error)
 *
 * so softplus is built from tf.exp, tf.log and the rounding correction below, not tf.log1p.
 */
import * as tf from '@tensorflow/tfjs-core';

/** PyTorch's softplus threshold: above it softplus(x) is x. */
export const SOFTPLUS_THRESHOLD = 20;

/**
 * log1p(y) for y ≥ 0 from tf.log alone, accurate where 1 + y rounds: with w = fl(1 + y),
 * log1p(y) = log(w)·y/(w − 1) (the rounding of 1 + y cancels), and y itself where w = 1.
 */
export function accurateLog1p(y: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const w = tf.add(y, 1);
    const wMinusOne = tf.sub(w, 1);
    // w − 1 ≥ 0 for y ≥ 0, so 0 ≥ w − 1 is w − 1 = 0; greaterEqual because tfjs's autodiff has a
    // gradient (zero) for GreaterEqual but none for Equal, and the vjp differentiates through here.
    const roundsToOne = tf.greaterEqual(0, wMinusOne);
    // The where() picks y there, but the untaken branch must not be NaN-producing 0/0 on every backend.
    const safeDenominator = tf.where(roundsToOne, tf.onesLike(wMinusOne), wMinusOne);
    const corrected = tf.div(tf.mul(tf.log(w), y), safeDenominator);
    return tf.where(roundsToOne, y, corrected);
  });
}

/** softplus(x) = log1p(exp(x)) for x ≤ 20 and x above, as torch.nn.functional.softplus. */
export function softplus(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    // exp of x > 20 is never used; clamping keeps it finite so no Inf flows into the untaken branch.
    const below = tf.minimum(x, SOFTPLUS_THRESHOLD);
    // x ≤ 20 by greaterEqual: tfjs's autodiff has no gradient for Greater (see accurateLog1p).
    return tf.where(tf.greaterEqual(SOFTPLUS_THRESHOLD, x), accurateLog1p(tf.exp(below)), x);
  });
}

/** silu(z) = z / (1 + exp(−z)), the form the spec states. */
export function silu(z: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.div(z, tf.add(tf.exp(tf.neg(z)), 1)));
}
