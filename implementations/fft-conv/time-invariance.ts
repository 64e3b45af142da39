/**
 * When a selective scan is a convolution: its recurrence h_t = exp(Δ'_t·A)⊙h_(t−1) + Δ'_t·B_t·u_t
 * has a time-invariant kernel exactly when Δ' (after bias and softplus, in the implementation's
 * arithmetic) is constant over t in each channel, B and C do not change with t, the state starts
 * at 0 and never resets (seqIdx, where present, is constant along each row). This module checks those conditions and says precisely which one fails.
 *
 * B and C of shape (dim, N) are time-invariant by layout; a time-varying (batch, N, L) or grouped
 * (batch, G, N, L) B or C is accepted too when its values happen to be constant over t.
 */
import type { Problem } from '../../spec/families.ts';
import { projectionLayout } from '../../spec/shapes.ts';
import { formatShape, type Tensor } from '../../spec/tensor.ts';

/** The arithmetic Δ' is computed in: float64, or float32 rounded after every operation. */
export type DeltaArithmetic = 'float64' | 'float32';

/** Δ' = Δ + bias, through PyTorch's softplus (threshold 20) when asked, in the given arithmetic. */
export function discretizedDelta(delta: number, bias: number, softplus: boolean, arithmetic: DeltaArithmetic): number {
  if (arithmetic === 'float64') {
    const shifted = delta + bias;
    return softplus && shifted <= 20 ? Math.log1p(Math.exp(shifted)) : shifted;
  }
  const fround = Math.fround;
  const shifted = fround(delta + bias);
  return softplus && shifted <= 20 ? fround(Math.log1p(fround(Math.exp(shifted)))) : shifted;
}

/** A time-invariant selective scan's Δ' per channel (batch·dim values, channel b·dim + d). */
export interface TimeInvariantDeltas {
  readonly deltas: Float64Array;
}

/**
 * Why a selective-scan problem is not a time-invariant convolution (h0, a reset where seqIdx
 * changes, a B or C that changes with t, a Δ' that changes with t), or its per-channel Δ' when it is one.
 */
export function analyseTimeInvariance(
  problem: Problem<'selective-scan'>,
  arithmetic: DeltaArithmetic,
): { readonly reason: string } | TimeInvariantDeltas {
  const { inputs, options } = problem;
  if (inputs.h0 !== undefined) {
    return {
      reason:
        'h0 is present: an initial state adds the free response Σ_n C_n·Ā_n^(t+1)·h0_n, which is not a convolution of u; fft-conv needs h0 absent',
    };
  }
  const reset = firstReset(inputs.seqIdx);
  if (reset !== undefined) {
    return { reason: `seqIdx changes at ${reset}, where the state resets to 0: a convolution has no resets; fft-conv needs every row of seqIdx constant (one sequence)` };
  }
  for (const name of ['B', 'C'] as const) {
    const change = firstChangeInTime(inputs[name]);
    if (change !== undefined) return { reason: `${name} ${change}; an FFT convolution needs ${name} constant over t (shape (dim, N))` };
  }
  const [batch, dim, L] = inputs.u.shape;
  const deltas = new Float64Array(batch * dim);
  const delta = inputs.delta.data;
  for (let b = 0; b < batch; b++) {
    for (let d = 0; d < dim; d++) {
      const channel = b * dim + d;
      const bias = inputs.deltaBias?.data[d] ?? 0;
      const first = L === 0 ? 0 : discretizedDelta(delta[channel * L], bias, options.deltaSoftplus, arithmetic);
      for (let t = 1; t < L; t++) {
        const value = discretizedDelta(delta[channel * L + t], bias, options.deltaSoftplus, arithmetic);
        if (value !== first) {
          return {
            reason:
              `Δ' (delta${inputs.deltaBias === undefined ? '' : ' + deltaBias'}${options.deltaSoftplus ? ', softplus' : ''}, in ${arithmetic}) ` +
              `changes over time: channel (batch ${b}, dim ${d}) has Δ' = ${first} at t = 0 and ${value} at t = ${t}; ` +
              'an FFT convolution needs Δ\' constant over t in each channel',
          };
        }
      }
      deltas[channel] = first;
    }
  }
  return { deltas };
}

/** Where (batch b, t) sequence ids (batch, L) first change along a row, or undefined when absent or constant. */
function firstReset(seqIdx: Tensor | undefined): string | undefined {
  if (seqIdx === undefined) return undefined;
  const [batch, L] = seqIdx.shape;
  for (let b = 0; b < batch; b++) {
    for (let t = 1; t < L; t++) {
      if (seqIdx.data[b * L + t] !== seqIdx.data[b * L + t - 1]) return `(batch ${b}, t = ${t}) from ${seqIdx.data[b * L + t - 1]} to ${seqIdx.data[b * L + t]}`;
    }
  }
  return undefined;
}

/** Describes where a (batch, N, L) or (batch, G, N, L) projection first changes with t, or undefined if it never does. */
function firstChangeInTime(projection: Tensor): string | undefined {
  const layout = projectionLayout(projection.shape);
  if (layout.kind === 'time-invariant') return undefined;
  const shape = projection.shape;
  const L = shape[shape.length - 1];
  const rows = projection.data.length / Math.max(1, L);
  const data = projection.data;
  for (let row = 0; row < rows && L > 0; row++) {
    const first = data[row * L];
    for (let t = 1; t < L; t++) {
      if (data[row * L + t] !== first) {
        const n = row % shape[shape.length - 2];
        const outer = Math.floor(row / shape[shape.length - 2]);
        const where =
          layout.kind === 'grouped'
            ? `batch ${Math.floor(outer / layout.groups)}, group ${outer % layout.groups}, n ${n}`
            : `batch ${outer}, n ${n}`;
        const layoutName = layout.kind === 'grouped' ? 'grouped (batch, G, N, L)' : 'time-varying (batch, N, L)';
        return `(layout ${layoutName}, shape ${formatShape(shape)}) changes over time: at ${where} it is ${first} at t = 0 and ${data[row * L + t]} at t = ${t}`;
      }
    }
  }
  return undefined;
}
