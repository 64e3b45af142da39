/**
 * lti-ssm, the sequential reference: an S4D layer in recurrent form, already discretized.
 * For each batch b and channel d, with state elements n = 0 … N−1:
 *
 *     h_{t,n} = Abar_{d,n} · h_{t−1,n} + Bbar_{d,n} · u_t          h_{−1} = 0
 *     y_t     = Σ_n C_{d,n} · h_{t,n} + D_d · u_t
 *
 * which equals the causal convolution y = K ∗ u + D·u with K_k = Σ_n C_{d,n}·Bbar_{d,n}·Abar_{d,n}^k.
 * Every factor is exact in float64 (Bbar·u and D·u are products of two float32 values), so the
 * only roundings are the double-double ones and the final one. Scales: S_{t,n} =
 * |Abar|·S_{t−1,n} + |Bbar·u_t|, S(y_t) = Σ_n |C|·S_{t,n} + |D·u_t|, W alike (diagonal-channel.ts).
 */
import type { LtiSsmInputs, LtiSsmOptions } from '../spec/families.ts';
import { DiagonalChannel, diagonalToken } from './diagonal-channel.ts';
import type { ReferenceResult } from './result.ts';
import { allocateScaled, sequenceIndex, writeScaled } from './scaled-outputs.ts';

/** The tensors one token reads: a run's inputs, or a step's (u of shape (batch, dim), i.e. L = 1). */
export type LtiSsmTokenInputs = LtiSsmInputs;

/** Fills the channel's factors for token t of channel (b, d): Abar_{d,n}, Bbar_{d,n}·u_t, D_d·u_t, gate 1. */
export function ltiSsmFactors(channel: DiagonalChannel, inputs: LtiSsmTokenInputs, length: number, b: number, d: number, t: number): void {
  const [, dim] = inputs.u.shape;
  const N = channel.states.length;
  const u = inputs.u.data[sequenceIndex(dim, length, b, d, t)];
  for (let n = 0; n < N; n++) {
    channel.decay[n] = inputs.Abar.data[d * N + n];
    channel.input[n] = inputs.Bbar.data[d * N + n] * u;
  }
  channel.skip = inputs.D === undefined ? 0 : inputs.D.data[d] * u;
  channel.gate = 1;
}

/** Token t of channel (b, d) of a run of the given length (1 for a step): advance the N states, read y_t. */
export function ltiSsmToken(channel: DiagonalChannel, inputs: LtiSsmTokenInputs, length: number, b: number, d: number, t: number): void {
  ltiSsmFactors(channel, inputs, length, b, d, t);
  diagonalToken(channel, inputs.C.data, d * channel.states.length, 1);
}

/** The reference lti-ssm of validated inputs: y, with its scales S and W. */
export function ltiSsm(inputs: LtiSsmInputs, _options: LtiSsmOptions = {}): ReferenceResult<'lti-ssm'> {
  const [batch, dim, length] = inputs.u.shape;
  const y = allocateScaled([batch, dim, length]);
  const channel = new DiagonalChannel(inputs.Abar.shape[1]);

  for (let b = 0; b < batch; b++) {
    for (let d = 0; d < dim; d++) {
      channel.start(undefined, 0);
      for (let t = 0; t < length; t++) {
        ltiSsmToken(channel, inputs, length, b, d, t);
        writeScaled(y, sequenceIndex(dim, length, b, d, t), channel.output, channel.outputConditionScale, channel.outputDepthScale);
      }
    }
  }
  return {
    outputs: { y: y.value },
    conditionScales: { y: y.conditionScale },
    depthScales: { y: y.depthScale },
  };
}
