/**
 * linear-recurrence's VJP and JVP reference (spec/gradients.md): one channel of channel-adjoint.ts
 * per row (b, d) with N = 1, a_k = a_t, x_k = b_t, c = 1, s = 0, g = 1, h0 = h0_{b,d}, in
 * processing order (t = k forward, t = L−1−k reversed). Its cotangents are the inputs':
 * a-bar_t = λ_t·h_{t∓1} (h0 before the first step), b-bar_t = λ_t, h0-bar = a_first·λ_first.
 * The adjoint runs against processing order: backward in time forward, forward in time reversed.
 */
import type { LinearRecurrenceInputs, LinearRecurrenceOptions } from '../../spec/families.ts';
import { DoubleDouble } from '../double-double.ts';
import { sequenceIndex } from '../scaled-outputs.ts';
import { ChannelCotangents, ChannelFactors, ChannelForward, channelForward, channelJvp, channelVjp, counted } from './channel-adjoint.ts';
import { DoubleDoubleArray } from './double-double-array.ts';
import type { GradientArrays, Values } from './types.ts';

/** Time index of processing step k. */
function timeOf(k: number, length: number, options: LinearRecurrenceOptions): number {
  return options.reverse ? length - 1 - k : k;
}

/** The factors of row (b, d) into f, in processing order. */
function fillChannel(inputs: LinearRecurrenceInputs, options: LinearRecurrenceOptions, b: number, d: number, f: ChannelFactors): void {
  const [, dim, L] = inputs.a.shape;
  for (let k = 0; k < L; k++) {
    const i = sequenceIndex(dim, L, b, d, timeOf(k, L, options));
    f.decay[k] = inputs.a.data[i];
    f.input[k] = inputs.b.data[i];
    f.readout[k] = 1;
    f.skip[k] = 0;
    f.gate[k] = 1;
  }
  f.initial[0] = inputs.h0 === undefined ? 0 : inputs.h0.data[b * dim + d];
}

/**
 * The gradients of a, b (and h0) from the cotangents of h and lastState; with `absolute`, the
 * condition scales (decays times `decayScale`); with `raise`, the floor scales (every factor max(1, |v|)).
 */
export function linearRecurrenceGradients(inputs: LinearRecurrenceInputs, options: LinearRecurrenceOptions, cotangents: Values, absolute: boolean, decayScale = 1, raise = false): GradientArrays {
  const [batch, dim, L] = inputs.a.shape;
  const m = (v: number): number => counted(v, absolute, raise);
  const hBar = cotangents.h as Float32Array | Float64Array;
  const stateBar = cotangents.lastState as Float32Array | Float64Array;
  const a = new DoubleDoubleArray(batch * dim * L);
  const bias = new DoubleDoubleArray(batch * dim * L);
  const h0 = new DoubleDoubleArray(batch * dim);
  const f = new ChannelFactors(L, 1);
  const bar = new ChannelCotangents(L, 1);
  const forward = new ChannelForward(L, 1);
  const yBar = new Float64Array(L);
  const finalBar = new Float64Array(1);
  const v = new DoubleDouble();
  for (let b = 0; b < batch; b++) {
    for (let d = 0; d < dim; d++) {
      fillChannel(inputs, options, b, d, f);
      for (let k = 0; k < L; k++) yBar[k] = m(hBar[sequenceIndex(dim, L, b, d, timeOf(k, L, options))]);
      finalBar[0] = m(stateBar[b * dim + d]);
      if (raise) f.raise();
      else if (absolute) f.makeAbsolute(decayScale);
      channelVjp(f, channelForward(f, forward), yBar, finalBar, bar);
      for (let k = 0; k < L; k++) {
        const i = sequenceIndex(dim, L, b, d, timeOf(k, L, options));
        a.put(i, bar.decay.get(k, v));
        bias.put(i, bar.input.get(k, v));
      }
      h0.put(b * dim + d, bar.initial.get(0, v));
    }
  }
  return { a: a.rounded(), b: bias.rounded(), ...(inputs.h0 === undefined ? {} : { h0: h0.rounded() }) };
}

/** J·v: the tangents of h and lastState from tangents of a, b (and h0; absent ones 0). */
export function linearRecurrenceTangents(inputs: LinearRecurrenceInputs, options: LinearRecurrenceOptions, tangents: Values): { h: Float64Array; lastState: Float64Array } {
  const [batch, dim, L] = inputs.a.shape;
  const tv = (name: string, index: number): number => tangents[name]?.[index] ?? 0;
  const h = new Float64Array(batch * dim * L);
  const lastState = new Float64Array(batch * dim);
  const f = new ChannelFactors(L, 1);
  const dot = new ChannelFactors(L, 1);
  const yDot = new DoubleDoubleArray(L);
  const finalDot = new DoubleDoubleArray(1);
  for (let b = 0; b < batch; b++) {
    for (let d = 0; d < dim; d++) {
      fillChannel(inputs, options, b, d, f);
      for (let k = 0; k < L; k++) {
        const i = sequenceIndex(dim, L, b, d, timeOf(k, L, options));
        dot.decay[k] = tv('a', i);
        dot.input[k] = tv('b', i);
      }
      dot.initial[0] = tv('h0', b * dim + d);
      channelJvp(f, channelForward(f), dot, yDot, finalDot);
      const rounded = yDot.rounded();
      for (let k = 0; k < L; k++) h[sequenceIndex(dim, L, b, d, timeOf(k, L, options))] = rounded[k];
      lastState[b * dim + d] = finalDot.rounded()[0];
    }
  }
  return { h, lastState };
}
