/** A single-threaded parallel-scan implementation: one algorithm in one precision, on the calling thread. */
import type { AnyProblem, FamilyName, OptionsOf, Problem, StepInputsOf } from '../../spec/families.ts';
import type { Cotangents, GradientsOf } from '../../spec/gradients.ts';
import type { FamilyImplementation, ScanImplementation } from '../../spec/implementation.ts';
import { vjpWithScans } from '../sequential/vjp.ts';
import type { BackwardScans } from '../sequential/vjp-scans.ts';
import type { ScanAlgorithm } from './algorithms/algorithm.ts';
import type { Arithmetic } from './arithmetic.ts';
import { runGroups } from './drivers.ts';
import type { JobOutputs, ScanJob } from './job.ts';
import { allocateOutputs, jobOfProblem, jobOfStep, outputsOfJob, SCANNED_FAMILIES, stepOutputsOf, type ScannedFamily, type ScannedProblem } from './job.ts';
import { programOf } from './programs/index.ts';
import { parallelBackwardScans } from './vjp.ts';
import { Workspace } from './workspace.ts';

/**
 * The families of a kernel that computes every job through `compute(job, outputs)`, their `vjp`
 * by `vjp` (backwardWith: the chain rule of implementations/sequential/vjp.ts around backward scans).
 */
export function familiesOf(
  compute: (job: ScanJob, outputs: JobOutputs) => Promise<void>,
  allocate: (job: ScanJob) => JobOutputs,
  stepCompute: (job: ScanJob, outputs: JobOutputs) => void,
  arithmetic: Arithmetic,
  vjp: (problem: ScannedProblem, cotangents: Cotangents<ScannedFamily>) => Promise<GradientsOf<ScannedFamily>>,
): ScanImplementation['families'] {
  const families: Record<string, FamilyImplementation<FamilyName>> = {};
  for (const family of SCANNED_FAMILIES) {
    families[family] = {
      async run(problem: Problem<FamilyName>) {
        const job = jobOfProblem(problem as ScannedProblem);
        const outputs = allocate(job);
        await compute(job, outputs);
        return outputsOfJob(problem, outputs);
      },
      async step(inputs: StepInputsOf<ScannedFamily>, options: OptionsOf<ScannedFamily>) {
        const { job, outputs, dims } = jobOfStep(family, inputs, options, arithmetic);
        stepCompute(job, outputs);
        return stepOutputsOf(family, dims, outputs);
      },
      async vjp(problem: Problem<FamilyName>, cotangents: Cotangents<FamilyName>) {
        return (await vjp(problem as ScannedProblem, cotangents as Cotangents<ScannedFamily>)) as GradientsOf<FamilyName>;
      },
    };
  }
  return families as ScanImplementation['families'];
}

/** The vjp of a kernel whose backward is `backward`'s scans on the calling thread, in `arithmetic`. */
export function backwardWith(backward: BackwardScans, arithmetic: Arithmetic): (problem: ScannedProblem, cotangents: Cotangents<ScannedFamily>) => Promise<GradientsOf<ScannedFamily>> {
  return async (problem, cotangents) => vjpWithScans(arithmetic.precision, problem, cotangents, backward) as GradientsOf<ScannedFamily>;
}

/** The implementation `parallel-scan/<algorithm>-<f32|f64>` running on the calling thread. */
export function singleThreadedImplementation(algorithm: ScanAlgorithm, arithmetic: Arithmetic, description: string): ScanImplementation {
  const workspace = new Workspace(arithmetic);
  const compute = (job: ScanJob, outputs: JobOutputs): void => {
    const program = programOf(job, outputs, arithmetic, workspace);
    runGroups(program, algorithm, workspace, 0, program.groups);
  };
  return {
    name: `parallel-scan/${algorithm.name}-${arithmetic.precision === 'float32' ? 'f32' : 'f64'}`,
    precision: arithmetic.precision,
    description,
    families: familiesOf(
      async (job, outputs) => compute(job, outputs),
      (job) => allocateOutputs(job, arithmetic),
      compute,
      arithmetic,
      backwardWith(parallelBackwardScans(algorithm, arithmetic), arithmetic),
    ),
    async dispose() {
      workspace.clear();
    },
  };
}
