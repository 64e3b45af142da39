/** The program of any job, by family. */
import type { Arithmetic } from '../arithmetic.ts';
import type { JobOutputs, ScanJob } from '../job.ts';
import type { Workspace } from '../workspace.ts';
import { linearRecurrenceProgram } from './linear-recurrence.ts';
import { ltiSsmProgram } from './lti-ssm.ts';
import { prefixSumProgram } from './prefix-sum.ts';
import type { SequenceProgram } from './program.ts';
import { selectiveScanProgram } from './selective-scan.ts';

/** Builds the program that computes `job` into `outputs`. */
export function programOf(job: ScanJob, outputs: JobOutputs, arithmetic: Arithmetic, workspace: Workspace): SequenceProgram {
  const { problem, initialState } = job;
  switch (problem.family) {
    case 'prefix-sum':
      return prefixSumProgram(problem, initialState, outputs, arithmetic);
    case 'linear-recurrence':
      return linearRecurrenceProgram(problem, initialState, outputs, arithmetic);
    case 'selective-scan':
      return selectiveScanProgram(problem, initialState, outputs, arithmetic, workspace);
    case 'lti-ssm':
      return ltiSsmProgram(problem, initialState, outputs, arithmetic, workspace);
  }
}
