/** parallel-scan's jobs in shared memory: the problem's inputs, the initial state, the output buffers. */
import type { JobOutputs, ScanJob } from '../job.ts';
import type { SequenceRegion, SharedBuffers } from '../../threads/shared-memory.ts';
import { copyRegion, shareAll, sharedOutput, stageProblem } from '../../threads/shared-memory.ts';

/** The job with every input a worker reads in shared memory (sequences: only `region`), in `buffers`. */
export function shareJob(job: ScanJob, region: SequenceRegion, buffers: SharedBuffers): ScanJob {
  const staged = stageJob(job, buffers);
  staged.fill(region);
  return staged.job;
}

/** The job in shared memory with its sequence inputs still to fill (stageProblem). */
export function stageJob(job: ScanJob, buffers: SharedBuffers): { readonly job: ScanJob; fill(region: SequenceRegion): void } {
  const staged = stageProblem(job.problem, buffers);
  const initialState = job.initialState === undefined ? undefined : shareAll(job.initialState, buffers, 'initialState');
  // stageProblem copies the tensors of the problem it is given, so the staged one is of the same family.
  return { job: { problem: staged.problem as ScanJob['problem'], initialState }, fill: (region) => staged.fill(region) };
}

/** Shared stand-ins for a run's outputs, in `buffers` (the outputs themselves when shared already). */
export function shareOutputs(outputs: JobOutputs, buffers: SharedBuffers): JobOutputs {
  return {
    primary: sharedOutput(outputs.primary, buffers, 'out.primary'),
    finalState: outputs.finalState === undefined ? undefined : sharedOutput(outputs.finalState, buffers, 'out.finalState'),
  };
}

/** Copies what a worker wrote (its sequence `region` and final-state range) from `shared` into `outputs`. */
export function copyOutputs(shared: JobOutputs, outputs: JobOutputs, region: SequenceRegion, stateRange: readonly [number, number]): void {
  copyRegion(shared.primary, outputs.primary, region);
  if (outputs.finalState !== undefined && shared.finalState !== undefined) copyRegion(shared.finalState, outputs.finalState, [stateRange]);
}
