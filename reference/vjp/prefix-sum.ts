/**
 * prefix-sum's VJP and JVP reference (spec/gradients.md). The map is linear and its transpose is
 * the prefix sum in the opposite direction with the same exclusivity:
 *
 *     x̄_t = Σ_{k ≥ t} ȳ_k  (inclusive forward),   Σ_{k > t} ȳ_k (exclusive forward),
 *           Σ_{k ≤ t} ȳ_k  (inclusive reverse),   Σ_{k < t} ȳ_k (exclusive reverse);
 *
 * the JVP is the prefix sum of the tangent itself. Both run the forward reference's recurrence
 * state (recurrence-state.ts) with a ≡ 1 in double-double, whose condition scale Σ|ȳ_k| is the
 * same sum on absolute values.
 */
import type { PrefixSumOptions } from '../../spec/families.ts';
import { toNumber } from '../double-double.ts';
import { advance, RecurrenceState } from '../recurrence-state.ts';
import { sequenceIndex } from '../scaled-outputs.ts';
import { raisedExact } from './channel-adjoint.ts';

/** The prefix sum of `values` (batch, dim, L) with the given options, and its condition scale. */
function prefixSumOf(values: Float32Array | Float64Array, shape: readonly number[], options: PrefixSumOptions): { value: Float64Array; scale: Float64Array; depth: Float64Array } {
  const [batch, dim, L] = shape;
  const value = new Float64Array(batch * dim * L);
  const scale = new Float64Array(batch * dim * L);
  const depth = new Float64Array(batch * dim * L);
  const state = new RecurrenceState();
  for (let b = 0; b < batch; b++) {
    for (let d = 0; d < dim; d++) {
      state.start(0);
      for (let step = 0; step < L; step++) {
        const i = sequenceIndex(dim, L, b, d, options.reverse ? L - 1 - step : step);
        if (!options.exclusive) advance(state, 1, values[i]);
        value[i] = toNumber(state.value);
        scale[i] = toNumber(state.conditionScale);
        depth[i] = state.depthScale;
        if (options.exclusive) advance(state, 1, values[i]);
      }
    }
  }
  return { value, scale, depth };
}

/** x̄, its condition scale and its depth scale (Σ_k (steps)·|ȳ_k|) from ȳ: the prefix sum of ȳ run the other way. */
export function prefixSumGradients(yBar: Float32Array | Float64Array, shape: readonly number[], options: PrefixSumOptions): { value: Float64Array; scale: Float64Array; depth: Float64Array } {
  return prefixSumOf(yBar, shape, { exclusive: options.exclusive, reverse: !options.reverse });
}

/** The floor scale of x̄: the same sum over max(1, |ȳ_k|), 0 for a zero (spec/tolerance.md rule V, *Floor*). */
export function prefixSumFloorScales(yBar: Float32Array | Float64Array, shape: readonly number[], options: PrefixSumOptions): Float64Array {
  return prefixSumGradients(Float64Array.from(yBar, raisedExact), shape, options).value;
}

/** J·v: the prefix sum of ẋ with the problem's own options. */
export function prefixSumTangents(xDot: Float32Array | Float64Array, shape: readonly number[], options: PrefixSumOptions): Float64Array {
  return prefixSumOf(xDot, shape, options).value;
}
