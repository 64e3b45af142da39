/**
 * The scans a backward pass is built on, apart from the chain rule around them (vjp.ts): a
 * channel's forward recomputation and reverse adjoint scan, and prefix-sum rows. The sequential
 * kernels run them in plain loops; the parallel-scan kernels with their associative scans.
 */
import type { Round } from './kernels.ts';
import type { ChannelFactorArrays, ChannelFactorCotangents } from './vjp-channel.ts';

/** The scan steps of a backward pass, in the contract of vjp-channel.ts and kernels.ts. */
export interface BackwardScans {
  /**
   * A channel's adjoint (channelBackward's contract): from ȳ and the final state's cotangent,
   * every factor's cotangent into `out`; `states` ((L + 1)·N) receives the forward states, `inner` (L) scratch.
   */
  channel(
    round: Round, L: number, N: number, f: ChannelFactorArrays, yBar: Float64Array, finalBar: Float64Array,
    states: Float64Array, inner: Float64Array, out: ChannelFactorCotangents,
  ): void;
  /** Prefix sums of `rows` contiguous rows of L from x into y, exclusive or inclusive, in either direction. */
  prefixSumRows(round: Round, x: Float32Array | Float64Array, y: Float64Array, rows: number, L: number, exclusive: boolean, reverse: boolean): void;
}

/**
 * The part of a problem one share of a split backward computes (the parallel-scan threads): rows
 * (channels, batch·dim order) [c0, c1) over forward processing positions [p0, p1). Gradients
 * outside it stay 0, so shares add up. The state entering p0 and the adjoint entering from p1
 * come from `initial` and `finalBar` (absent: the problem's h0 and the final state's cotangent).
 */
export interface BackwardWindow {
  readonly channels: readonly [number, number];
  readonly positions: readonly [number, number];
  /** The state entering position p0 of lane n of channel c. */
  initial?(c: number, n: number): number;
  /** The cotangent of the state leaving position p1 − 1 of lane n of channel c (a prefix sum: the sum of ȳ after the window). */
  finalBar?(c: number, n: number): number;
  /** When given, the pass only hands each channel's window to it (the reduce of a reduce-then-scan) and computes no gradient. */
  readonly reduce?: BackwardReduce;
}

/** Receives the windows of a reduce pass, to aggregate them. */
export interface BackwardReduce {
  /** Channel c's factors over the window (L positions, N lanes), ȳ, and its defaults for h0 and λ_final. */
  channel(c: number, L: number, N: number, f: ChannelFactorArrays, yBar: Float64Array, finalBar: Float64Array): void;
  /** Row c's ȳ over the window in the backward sum's order (`row` of length L). */
  prefixSum(c: number, row: Float64Array, L: number): void;
}
