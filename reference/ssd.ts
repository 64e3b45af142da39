/**
 * ssd, the sequential reference: the recurrence mamba_ssm's mamba_chunk_scan_combined computes in
 * chunked matrix form (spec/families/ssd/ssd.md), evaluated token by token. For each batch b,
 * head h, channel p < P of the head and state n < N, with g = ⌊h / (H/G)⌋ the head's group:
 *
 *     Δ_t      = clamp(softplus(dt_{b,t,h} + dtBias_h), lo, hi)   (softplus only with dtSoftplus)
 *     Ā_t      = r_t · exp(Δ_t · A_h)                              r_t = 0 where seqIdx changes, else 1
 *     h_{t,n}  = Ā_t · h_{t−1,n} + Δ_t · B_{b,t,g,n} · x_{b,t,h,p}   h_{−1} = initialStates (or 0)
 *     y_t      = ( Σ_n C_{b,t,g,n} · h_{t,n} + D · x_{b,t,h,p} ) · silu(z_{b,t,h,p})
 *
 * One channel (b, h, p) is one DiagonalChannel (diagonal-channel.ts) whose N decays are all Ā_t:
 * the decay is one scalar per head, so Δ_t and Ā_t are computed once per (b, h) and shared by the
 * head's P channels. A reset is the decay 0, for which the recurrence step sets h = the token's
 * input exactly, and S = |input|, W = 0: nothing before the reset reaches the state, the scales
 * included. The factors are float64 as in selective-scan (B·x of two float32 values is exact, so
 * Δ·(B·x) rounds once); the recurrence and the read-out are double-double, rounded once at the end.
 * The run and the one-token step (step.ts) share ssdToken.
 */
import type { SsdInputs, SsdOptions } from '../spec/families.ts';
import { groupOfHead, ssdSizes, type SsdSizes } from '../spec/families/ssd/dimensions.ts';
import { dtLimits, effectiveDt, silu } from '../spec/families/ssd/discretization.ts';
import { DiagonalChannel, diagonalToken } from './diagonal-channel.ts';
import type { ReferenceResult } from './result.ts';
import { allocateScaled, writeScaled } from './scaled-outputs.ts';

/** The tensors one token reads: a run's inputs, or a step's (no time axis, i.e. L = 1). */
export type SsdTokenInputs = Omit<SsdInputs, 'initialStates' | 'seqIdx'>;

/** A run's or a step's inputs with what reading their tokens needs. */
export interface SsdTokens {
  readonly inputs: SsdTokenInputs;
  readonly sizes: SsdSizes;
  readonly dtSoftplus: boolean;
  /** The dtLimit clamp (−∞, +∞ without dtLimit). */
  readonly lo: number;
  readonly hi: number;
  /** Whether D is (H, P) rather than (H). */
  readonly dPerChannel: boolean;
}

/** Prepares validated inputs for token-by-token reading (sizes of the run, or of the step with L = 1). */
export function ssdTokens(inputs: SsdTokenInputs, sizes: SsdSizes, options: SsdOptions): SsdTokens {
  const { lo, hi } = dtLimits(inputs.dtLimit?.data);
  return { inputs, sizes, dtSoftplus: options.dtSoftplus, lo, hi, dPerChannel: inputs.D?.shape.length === 2 };
}

/** Δ of head h at token t of row b: dt + dtBias, softplus when set, then the dtLimit clamp. */
export function ssdDelta(tokens: SsdTokens, b: number, t: number, h: number): number {
  const { length: L, heads: H } = tokens.sizes;
  const { dt, dtBias } = tokens.inputs;
  return effectiveDt(dt.data[(b * L + t) * H + h], dtBias?.data[h] ?? 0, tokens.dtSoftplus, tokens.lo, tokens.hi);
}

/**
 * Token t of channel (b, h, p), given the head's Δ_t and decay Ā_t (0 at a reset): fills the
 * factors (Ā_t for every n, Δ_t·(B_n·x), D·x, silu(z)), advances the N states, reads y_t into
 * channel.output with its scales.
 */
export function ssdToken(channel: DiagonalChannel, tokens: SsdTokens, b: number, t: number, h: number, p: number, delta: number, decay: number): void {
  const { length: L, heads: H, headdim: P, groups: G, stateSize: N } = tokens.sizes;
  const { x, B, C, D, z } = tokens.inputs;
  const xIndex = ((b * L + t) * H + h) * P + p;
  const u = x.data[xIndex];
  const bcOffset = ((b * L + t) * G + groupOfHead(h, H, G)) * N;
  for (let n = 0; n < N; n++) {
    channel.decay[n] = decay;
    channel.input[n] = delta * (B.data[bcOffset + n] * u);
  }
  channel.skip = D === undefined ? 0 : D.data[tokens.dPerChannel ? h * P + p : h] * u;
  channel.gate = z === undefined ? 1 : silu(z.data[xIndex]);
  diagonalToken(channel, C.data, bcOffset, 1);
}

/** The reference ssd of validated inputs: y (batch, L, H, P) and finalStates (batch, H, P, N), with their scales S and W. */
export function ssd(inputs: SsdInputs, options: SsdOptions): ReferenceResult<'ssd'> {
  const sizes = ssdSizes(inputs.x, inputs.B);
  const { batch, length: L, heads: H, headdim: P, stateSize: N } = sizes;
  const tokens = ssdTokens(inputs, sizes, options);
  const y = allocateScaled([batch, L, H, P]);
  const finalStates = allocateScaled([batch, H, P, N]);
  const channel = new DiagonalChannel(N);
  const deltas = new Float64Array(L);
  const decays = new Float64Array(L);
  const seqIdx = inputs.seqIdx?.data;

  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < H; h++) {
      const A = inputs.A.data[h];
      for (let t = 0; t < L; t++) {
        deltas[t] = ssdDelta(tokens, b, t, h);
        const reset = seqIdx !== undefined && t > 0 && seqIdx[b * L + t] !== seqIdx[b * L + t - 1];
        // 0, not r·exp(Δ·A): an overflowed exp times 0 would be NaN.
        decays[t] = reset ? 0 : Math.exp(deltas[t] * A);
      }
      for (let p = 0; p < P; p++) {
        const stateOffset = ((b * H + h) * P + p) * N;
        channel.start(inputs.initialStates?.data, stateOffset);
        for (let t = 0; t < L; t++) {
          ssdToken(channel, tokens, b, t, h, p, deltas[t], decays[t]);
          writeScaled(y, ((b * L + t) * H + h) * P + p, channel.output, channel.outputConditionScale, channel.outputDepthScale);
        }
        channel.states.forEach((state, n) => writeScaled(finalStates, stateOffset + n, state.value, state.conditionScale, state.depthScale));
      }
    }
  }
  return {
    outputs: { y: y.value, finalStates: finalStates.value },
    conditionScales: { y: y.conditionScale, finalStates: finalStates.conditionScale },
    depthScales: { y: y.depthScale, finalStates: finalStates.depthScale },
  };
}
