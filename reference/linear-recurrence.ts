/**
 * linear-recurrence, the sequential reference.
 *
 *     forward:   h_t = a_t·h_{t−1} + b_t   for t = 0 … L−1,   h_{−1} = h0
 *     reverse:   h_t = a_t·h_{t+1} + b_t   for t = L−1 … 0,   h_L = h0
 *
 * (h0 = 0 when absent). lastState is the state after the last step in processing order: h_{L−1}
 * forward, h_0 reversed, h0 itself when L = 0. Evaluated in double-double, rounded once; scales
 *
 *     S_t = |a_t|·S_{t∓1} + |b_t|,   W_t = |a_t|·(W_{t∓1} + S_{t∓1}),   S = |h0|, W = 0 before the first step.
 */
import type { LinearRecurrenceInputs, LinearRecurrenceOptions } from '../spec/families.ts';
import { advance, RecurrenceState } from './recurrence-state.ts';
import type { ReferenceResult } from './result.ts';
import { allocateScaled, sequenceIndex, writeScaled } from './scaled-outputs.ts';

/** The reference linear recurrence of validated inputs: h and lastState, with their scales S and W. */
export function linearRecurrence(
  inputs: LinearRecurrenceInputs,
  options: LinearRecurrenceOptions,
): ReferenceResult<'linear-recurrence'> {
  const [batch, dim, length] = inputs.a.shape;
  const a = inputs.a.data;
  const bias = inputs.b.data;
  const h0 = inputs.h0?.data;
  const h = allocateScaled([batch, dim, length]);
  const lastState = allocateScaled([batch, dim]);
  const state = new RecurrenceState();

  for (let b = 0; b < batch; b++) {
    for (let d = 0; d < dim; d++) {
      const channel = b * dim + d;
      state.start(h0 === undefined ? 0 : h0[channel]);
      for (let step = 0; step < length; step++) {
        const t = options.reverse ? length - 1 - step : step;
        const i = sequenceIndex(dim, length, b, d, t);
        advance(state, a[i], bias[i]);
        writeScaled(h, i, state.value, state.conditionScale, state.depthScale);
      }
      writeScaled(lastState, channel, state.value, state.conditionScale, state.depthScale);
    }
  }
  return {
    outputs: { h: h.value, lastState: lastState.value },
    conditionScales: { h: h.conditionScale, lastState: lastState.conditionScale },
    depthScales: { h: h.depthScale, lastState: lastState.depthScale },
  };
}
