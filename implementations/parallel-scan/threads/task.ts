/** What the main thread asks a worker to compute; every array in it lives in shared memory. */
import type { GradientTensor } from '../../../spec/gradients.ts';
import type { JobOutputs, ScanJob, ScannedProblem } from '../job.ts';
import type { SliceSync } from '../time-slices.ts';

/**
 * Whole sequences of channels [g0, g1), or time slice `slice` of `count` over positions [p0, p1)
 * (`staged`: its sequence inputs arrive in rounds after the task, see time-slices.ts).
 */
export type WorkerAssignment =
  | { readonly kind: 'groups'; readonly g0: number; readonly g1: number }
  | {
      readonly kind: 'slice';
      readonly slice: number;
      readonly count: number;
      readonly p0: number;
      readonly p1: number;
      readonly sync: SliceSync;
      readonly staged: boolean;
    };

/** One worker's share of a run. */
export interface WorkerTask {
  readonly precision: 'float32' | 'float64';
  readonly job: ScanJob;
  readonly outputs: JobOutputs;
  readonly assignment: WorkerAssignment;
}

/**
 * One share of a backward run: rows (channels) [c0, c1) over processing positions [p0, p1). A
 * `reduce` phase writes each lane's aggregates into `records` (RECORD_LENGTH per lane, lane
 * (c − c0)·lanes + n); a `scan` phase computes the share's gradients into `gradients` (full-size,
 * zero outside the share), entering each window from `carries` (2 per lane of every channel:
 * the state entering p0 and the adjoint entering from p1) when given.
 */
export interface BackwardTask {
  readonly precision: 'float32' | 'float64';
  readonly problem: ScannedProblem;
  readonly cotangents: Readonly<Record<string, GradientTensor>>;
  readonly lanes: number;
  readonly channels: readonly [number, number];
  readonly positions: readonly [number, number];
  readonly phase:
    | { readonly kind: 'reduce'; readonly records: Float64Array }
    | { readonly kind: 'scan'; readonly carries: Float64Array | undefined; readonly gradients: Readonly<Record<string, Float64Array>> };
}

/** Anything the pool's workers run. */
export type PoolTask = WorkerTask | BackwardTask;
