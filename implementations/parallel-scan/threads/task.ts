/** What the main thread asks a worker to compute; every array in it lives in shared memory. */
import type { JobOutputs, ScanJob } from '../job.ts';
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
