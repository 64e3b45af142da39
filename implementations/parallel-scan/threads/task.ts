/** What the main thread asks a worker to compute; every array in it lives in shared memory. */
import type { JobOutputs, ScanJob } from '../job.ts';
import type { SliceSync } from '../drivers.ts';

/** Whole sequences of channels [g0, g1), or time slice `slice` of `count` over positions [p0, p1). */
export type WorkerAssignment =
  | { readonly kind: 'groups'; readonly g0: number; readonly g1: number }
  | { readonly kind: 'slice'; readonly slice: number; readonly count: number; readonly p0: number; readonly p1: number; readonly sync: SliceSync };

/** One worker's share of a run. */
export interface WorkerTask {
  readonly precision: 'float32' | 'float64';
  readonly job: ScanJob;
  readonly outputs: JobOutputs;
  readonly assignment: WorkerAssignment;
}
