/**
 * selective-scan, the sequential reference: mamba_ssm's selective_scan_ref for real A.
 * For each batch b and channel d, with state elements n = 0 … N−1:
 *
 *     Δ'_t      = softplus(Δ_t + bias_d)   (or Δ_t + bias_d without deltaSoftplus;
 *                                           softplus(x) = log1p(exp(x)), x itself for x > 20 as in PyTorch)
 *     Ā_{t,n}   = r_t · exp(Δ'_t · A_{d,n})                     r_t = 0 where seqIdx_{b,t} changes (t ≥ 1), else 1
 *     h_{t,n}   = Ā_{t,n} · h_{t−1,n} + Δ'_t · B_{n,t} · u_t          h_{−1} = h0 (or 0)
 *     y_t       = ( Σ_n C_{n,t} · h_{t,n} + D_d · u_t ) · silu(z_t)     silu(z) = z / (1 + exp(−z))
 *
 * B and C are (dim, N) time-invariant, (batch, N, L) time-varying or (batch, G, N, L) grouped
 * (channel d reads group ⌊d / (dim/G)⌋), indexed through spec/shapes.ts projectionIndex.
 *
 * The discretization (spec/families/selective-scan/discretization.ts) is float64: Δ', Ā (Math.exp), Δ'·(B·u) (B·u of two
 * float32 values is exact, so that factor is rounded once), D·u (exact) and silu(z). Those
 * float64 factors then enter the double-double recurrence and read-out of diagonal-channel.ts,
 * rounded once at the end. The scan and the one-token step (step.ts) share selectiveScanToken.
 * A reset is the decay 0, as in ssd.ts: the recurrence step then sets h = the token's input exactly,
 * and S = |input|, W = 0, so nothing before the reset reaches the state, the scales included.
 * Scales: S_{t,n} = |Ā|·S_{t−1,n} + |Δ'·B·u|, S(y_t) = (Σ_n |C|·S_{t,n} + |D·u|)·|silu(z_t)|, and W alike.
 */
import type { SelectiveScanInputs, SelectiveScanOptions } from '../spec/families.ts';
import { dimensionsOf, projectionIndex, projectionLayout, type Dimensions, type ProjectionLayout } from '../spec/shapes.ts';
import { DiagonalChannel, diagonalToken } from './diagonal-channel.ts';
import { effectiveDelta, silu } from '../spec/families/selective-scan/discretization.ts';
import type { ReferenceResult } from './result.ts';
import { allocateScaled, sequenceIndex, writeScaled } from './scaled-outputs.ts';

/** The tensors one token reads: a run's inputs, or a step's (sequence tensors (batch, dim), i.e. L = 1, and no seqIdx). */
export type SelectiveScanTokenInputs = Omit<SelectiveScanInputs, 'h0'>;

/** A run's or a step's inputs with what indexing their tokens needs. */
export interface SelectiveScanTokens {
  readonly inputs: SelectiveScanTokenInputs;
  readonly dims: Dimensions;
  readonly layoutB: ProjectionLayout;
  readonly layoutC: ProjectionLayout;
  readonly deltaSoftplus: boolean;
}

/** Prepares validated inputs for token-by-token reading (dims of the run, or of the step with L = 1). */
export function selectiveScanTokens(
  inputs: SelectiveScanTokenInputs,
  dims: Dimensions,
  options: SelectiveScanOptions,
): SelectiveScanTokens {
  return {
    inputs,
    dims,
    layoutB: projectionLayout(inputs.B.shape),
    layoutC: projectionLayout(inputs.C.shape),
    deltaSoftplus: options.deltaSoftplus,
  };
}

/**
 * Fills the channel's factors for token t of channel (b, d): Ā_n = exp(Δ'·A_{d,n}), or 0 where
 * seqIdx changes at t, x_n = Δ'·(B_{n,t}·u_t), skip D_d·u_t, gate silu(z_t).
 */
export function selectiveScanFactors(channel: DiagonalChannel, tokens: SelectiveScanTokens, b: number, d: number, t: number): void {
  const { inputs, dims, layoutB } = tokens;
  const N = dims.stateSize;
  const i = sequenceIndex(dims.dim, dims.length, b, d, t);
  const u = inputs.u.data[i];
  const delta = effectiveDelta(inputs.delta.data[i], inputs.deltaBias?.data[d] ?? 0, tokens.deltaSoftplus);
  const A = inputs.A.data;
  const B = inputs.B.data;
  const ids = inputs.seqIdx?.data;
  const L = dims.length;
  const reset = ids !== undefined && t > 0 && ids[b * L + t] !== ids[b * L + t - 1];
  for (let n = 0; n < N; n++) {
    // 0, not r·exp(Δ'·A): an overflowed exp times 0 would be NaN.
    channel.decay[n] = reset ? 0 : Math.exp(delta * A[d * N + n]);
    channel.input[n] = delta * (B[projectionIndex(layoutB, dims, b, d, n, t)] * u);
  }
  channel.skip = inputs.D === undefined ? 0 : inputs.D.data[d] * u;
  channel.gate = inputs.z === undefined ? 1 : silu(inputs.z.data[i]);
}

/** Token t of channel (b, d): discretize, advance the N states, read y_t (into channel.output). */
export function selectiveScanToken(channel: DiagonalChannel, tokens: SelectiveScanTokens, b: number, d: number, t: number): void {
  selectiveScanFactors(channel, tokens, b, d, t);
  const { layoutC, dims } = tokens;
  const cOffset = projectionIndex(layoutC, dims, b, d, 0, t);
  // The distance between C_{n} and C_{n+1}: 1 in a (dim, N) C, L in the time-varying layouts.
  const cStride = projectionIndex(layoutC, dims, b, d, 1, t) - cOffset;
  diagonalToken(channel, tokens.inputs.C.data, cOffset, cStride);
}

/** The reference selective scan of validated inputs: y and lastState, with their scales S and W. */
export function selectiveScan(inputs: SelectiveScanInputs, options: SelectiveScanOptions): ReferenceResult<'selective-scan'> {
  const dims = dimensionsOf({ family: 'selective-scan', inputs, options });
  const { batch, dim, length, stateSize: N } = dims;
  const tokens = selectiveScanTokens(inputs, dims, options);
  const y = allocateScaled([batch, dim, length]);
  const lastState = allocateScaled([batch, dim, N]);
  const channel = new DiagonalChannel(N);

  for (let b = 0; b < batch; b++) {
    for (let d = 0; d < dim; d++) {
      const stateOffset = (b * dim + d) * N;
      channel.start(inputs.h0?.data, stateOffset);
      for (let t = 0; t < length; t++) {
        selectiveScanToken(channel, tokens, b, d, t);
        const i = sequenceIndex(dim, length, b, d, t);
        writeScaled(y, i, channel.output, channel.outputConditionScale, channel.outputDepthScale);
      }
      channel.states.forEach((state, n) => {
        writeScaled(lastState, stateOffset + n, state.value, state.conditionScale, state.depthScale);
      });
    }
  }
  return {
    outputs: { y: y.value, lastState: lastState.value },
    conditionScales: { y: y.conditionScale, lastState: lastState.conditionScale },
    depthScales: { y: y.depthScale, lastState: lastState.depthScale },
  };
}
