/** What fft-conv's calling thread asks a worker to compute; every array in it lives in shared memory. */
import type { Problem } from '../../spec/families.ts';
import type { KernelArithmetic } from './channel-kernel.ts';
import type { OutputArray } from './channels.ts';

/** The problem of a run, with the selective scan's per-channel Δ'. */
export type ChannelWork =
  | { readonly family: 'lti-ssm'; readonly problem: Problem<'lti-ssm'> }
  | { readonly family: 'selective-scan'; readonly problem: Problem<'selective-scan'>; readonly deltas: Float64Array };

/** Dims [d0, d1) of every batch entry of a run, written into y (and lastState). */
export interface ChannelTask {
  readonly precision: KernelArithmetic;
  readonly work: ChannelWork;
  readonly y: OutputArray;
  readonly lastState: OutputArray | undefined;
  readonly d0: number;
  readonly d1: number;
}
