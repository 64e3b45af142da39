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
