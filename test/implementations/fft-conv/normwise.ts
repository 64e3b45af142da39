/**
 * The normwise error bound the fft-conv tests hold both implementations to, per channel (b, d):
 *
 *   |ŷ_t − y_t| ≤ u·[ (N + 8)·S_t + (21·log2(M) + 1)·|g_t|·‖K‖₁·‖u‖₂ + 3·|y_t| ]
 *
 * with u the unit roundoff of the implementation's precision, M the FFT length (power of two ≥ 2L),
 * S_t the reference's condition scale (|g_t|·(Σ_k Kabs_k·|u_(t−k)| + |D·u_t|), Kabs_k = Σ_n
 * |C·B̄|·|Ā|^k), g_t the SiLU gate (1 without z), ‖K‖₁ = Σ_k |K_k| and ‖u‖₂ the channel's 2-norm.
 *
 * Derivation. Kernel: each term C·B̄·Ā^k carries ≤ 4 roundings and the sum over n ≤ N − 1 more,
 * so |ΔK_k| ≤ (N + 4)·u·Kabs_k and Σ_k |ΔK_k|·|u_(t−k)| ≤ (N + 4)·u·S_t (the f32 powers
 * exp(k·x) add |k·x|·u relative to a term, and |k·x|·e^(k·x) ≤ 1/e keeps that within the
 * remaining 4·u·S_t of slack for the decays the tests use); the skip and gate add a few u of S_t
 * and of |y_t|. FFT: with a per-stage error η ≈ 7u (Higham, Accuracy and Stability,
 * Thm 24.2, radix-2 with accurate twiddles), ‖ΔÛ‖₂ ≤ η·log2(M)·‖Û‖₂ = η·log2(M)·√M·‖u‖₂, each bin
 * of the kernel's spectrum has |ΔK̂_j| ≤ η·log2(M)·‖K‖₁, |K̂_j| ≤ ‖K‖₁, so the product has
 * ‖ΔY‖₂ ≤ (2·η·log2(M) + u)·‖K‖₁·√M·‖u‖₂; the inverse transform adds η·log2(M) of ‖y‖₂ ≤
 * ‖K‖₁·‖u‖₂; Parseval (‖Δy‖₂ = ‖ΔY‖₂/√M) and |Δy_t| ≤ ‖Δy‖₂ give the second term. It is sound,
 * not tight: measured errors sit far below it (the tests print the ratio to the bound and to
 * u·log2(M)·‖K‖₁·max|u|, the shape proposed for spec/tolerance.md).
 */
import type { Precision } from '../../../spec/precision.ts';
import { UNIT_ROUNDOFF } from '../../../spec/precision.ts';

/** The norms of one channel's exact kernel and input that the bound needs. */
export interface ChannelNorms {
  /** ‖K‖₁ of the exact kernel. */
  readonly kernelL1: number;
  /** ‖u‖₂ of the channel's input. */
  readonly inputL2: number;
  /** max_t |u_t| of the channel's input. */
  readonly inputMax: number;
}

/** K_k = Σ_n w_n·Ā_n^k and its 1-norm, in float64 (accurate enough for a norm, not for a reference). */
export function kernelL1(weights: readonly number[], decays: readonly number[], length: number): number {
  const powers = [...decays].map(() => 1);
  let sum = 0;
  for (let k = 0; k < length; k++) {
    let K = 0;
    for (let n = 0; n < weights.length; n++) {
      K += weights[n] * powers[n];
      powers[n] *= decays[n];
    }
    sum += Math.abs(K);
  }
  return sum;
}

/** ‖u‖₂ and max|u| of u[offset … offset + L). */
export function inputNorms(u: Float32Array, offset: number, length: number): { inputL2: number; inputMax: number } {
  let squares = 0;
  let max = 0;
  for (let t = 0; t < length; t++) {
    const v = u[offset + t];
    squares += v * v;
    max = Math.max(max, Math.abs(v));
  }
  return { inputL2: Math.sqrt(squares), inputMax: max };
}

/** The FFT length M for sequence length L, as the implementation chooses it (power of two ≥ max(4, 2L)). */
export function fftLength(length: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(4, 2 * length)));
}

/** What checking one channel found: its worst error relative to the bound and to the tolerance-model shape. */
export interface ChannelCheck {
  /** max_t |ŷ_t − y_t| / bound_t; ≤ 1 passes. */
  readonly boundRatio: number;
  /** max_t |ŷ_t − y_t| / (u·log2(M)·‖K‖₁·max|u|·|g_t|) (0 when that scale is 0). */
  readonly shapeRatio: number;
  /** The t of the worst boundRatio, for messages. */
  readonly worstT: number;
}

/**
 * Compares one channel of an answer with the reference under the normwise bound of this module;
 * `gate(t)` is |g_t| (1 without z).
 */
export function checkChannel(
  precision: Precision,
  stateSize: number,
  length: number,
  norms: ChannelNorms,
  answer: ArrayLike<number>,
  expected: ArrayLike<number>,
  conditionScale: ArrayLike<number>,
  offset: number,
  gate: (t: number) => number,
): ChannelCheck {
  const u = UNIT_ROUNDOFF[precision];
  const log2M = Math.log2(fftLength(length));
  let boundRatio = 0;
  let shapeRatio = 0;
  let worstT = -1;
  for (let t = 0; t < length; t++) {
    const i = offset + t;
    const error = Math.abs(answer[i] - expected[i]);
    const g = gate(t);
    const bound = u * ((stateSize + 8) * conditionScale[i] + (21 * log2M + 1) * g * norms.kernelL1 * norms.inputL2 + 3 * Math.abs(expected[i]));
    // A NaN answer counts as an infinite error, so it can never pass.
    const ratio = Number.isNaN(error) ? Infinity : error === 0 ? 0 : error / bound;
    if (ratio > boundRatio) {
      boundRatio = ratio;
      worstT = t;
    }
    const shape = u * log2M * norms.kernelL1 * norms.inputMax * g;
    if (shape > 0) shapeRatio = Math.max(shapeRatio, error / shape);
  }
  return { boundRatio, shapeRatio, worstT };
}
