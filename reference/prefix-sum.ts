/**
 * prefix-sum, the sequential reference.
 *
 *     inclusive, forward:   y_t = Σ_{k ≤ t} x_k          exclusive, forward:   y_t = Σ_{k < t} x_k  (y_0 = 0)
 *     inclusive, reverse:   y_t = Σ_{k ≥ t} x_k          exclusive, reverse:   y_t = Σ_{k > t} x_k
 *
 * Evaluated as the recurrence h = h + x_t (a ≡ 1) in processing order (t = 0 … L−1, or L−1 … 0
 * when reversed), in double-double, rounded once. An inclusive output is the state after adding
 * x_t; an exclusive one the state before. The scales follow the same state:
 *
 *     S_t = Σ |x_k|            W_t = Σ (distance of k to t in processing order) · |x_k|
 *
 * over the same k, e.g. W_t = Σ_{k ≤ t} (t − k)·|x_k| inclusive forward, and Σ_{k < t} (t − 1 − k)·|x_k|
 * exclusive forward (the state before x_t has last absorbed x_{t−1}).
 */
import type { PrefixSumInputs, PrefixSumOptions } from '../spec/families.ts';
import { advance, RecurrenceState } from './recurrence-state.ts';
import type { ReferenceResult } from './result.ts';
import { allocateScaled, sequenceIndex, writeScaled } from './scaled-outputs.ts';

/** The reference prefix sum of validated inputs: y, with its scales S and W. */
export function prefixSum(inputs: PrefixSumInputs, options: PrefixSumOptions): ReferenceResult<'prefix-sum'> {
  const [batch, dim, length] = inputs.x.shape;
  const x = inputs.x.data;
  const y = allocateScaled([batch, dim, length]);
  const state = new RecurrenceState();

  for (let b = 0; b < batch; b++) {
    for (let d = 0; d < dim; d++) {
      state.start(0);
      for (let step = 0; step < length; step++) {
        const t = options.reverse ? length - 1 - step : step;
        const i = sequenceIndex(dim, length, b, d, t);
        if (options.exclusive) writeScaled(y, i, state.value, state.conditionScale, state.depthScale);
        advance(state, 1, x[i]);
        if (!options.exclusive) writeScaled(y, i, state.value, state.conditionScale, state.depthScale);
      }
    }
  }
  return {
    outputs: { y: y.value },
    conditionScales: { y: y.conditionScale },
    depthScales: { y: y.depthScale },
  };
}
