/**
 * A scan job: a problem plus the initial state (h0 of linear-recurrence and selective-scan, or the
 * state a one-token step starts from), and the arrays its outputs are written into. Steps are jobs
 * of length 1, so the one-token update runs the same code as the whole scan (one combine).
 */
import type { AnyProblem, FamilyName, OptionsOf, OutputsOf, Problem, StepInputsOf, StepOutputs } from '../../spec/families.ts';
import type { Dimensions } from '../../spec/shapes.ts';
import { dimensionsOf, outputShapes, stepDimensionsOf, stepOutputShapes } from '../../spec/shapes.ts';
import type { Tensor } from '../../spec/tensor.ts';
import type { Arithmetic, ScanArray } from './arithmetic.ts';

/** A problem to scan and the state it starts from (absent: zeros). */
export interface ScanJob {
  readonly problem: ScannedProblem;
  readonly initialState: Float32Array | undefined;
}

/** Where a job's results go: y or h (batch, dim, L) and, when wanted, the final state. */
export interface JobOutputs {
  readonly primary: ScanArray;
  readonly finalState: ScanArray | undefined;
}

/** The job of a whole-sequence run. */
export function jobOfProblem(problem: ScannedProblem): ScanJob {
  switch (problem.family) {
    case 'linear-recurrence':
    case 'selective-scan':
      return { problem, initialState: problem.inputs.h0?.data };
    default:
      return { problem, initialState: undefined };
  }
}

/** Allocates the outputs of a whole-sequence run in the kernel's precision. */
export function allocateOutputs(job: ScanJob, arithmetic: Arithmetic): JobOutputs {
  const dims = dimensionsOf(job.problem);
  const { batch, dim, length, stateSize } = dims;
  const family = job.problem.family;
  const wantsState = family === 'linear-recurrence' || family === 'selective-scan';
  return {
    primary: arithmetic.allocate(batch * dim * length),
    finalState: wantsState ? arithmetic.allocate(batch * dim * stateSize) : undefined,
  };
}

/** Packs a run's outputs into the family's output tensors. */
export function outputsOfJob<F extends FamilyName>(problem: Problem<F>, outputs: JobOutputs): OutputsOf<F> {
  const dims = dimensionsOf(problem as AnyProblem);
  const shapes = outputShapes(problem.family, dims) as Readonly<Record<string, readonly number[]>>;
  const primaryName = problem.family === 'linear-recurrence' ? 'h' : 'y';
  const result: Record<string, { data: ScanArray; shape: readonly number[] }> = {
    [primaryName]: { data: outputs.primary, shape: shapes[primaryName] },
  };
  if (problem.family === 'linear-recurrence' || problem.family === 'selective-scan') {
    result.lastState = { data: outputs.finalState as ScanArray, shape: shapes.lastState };
  }
  return result as unknown as OutputsOf<F>;
}

function withLength(tensor: Tensor, shape: readonly number[]): Tensor {
  return { data: tensor.data, shape };
}

/** The length-1 job of a one-token step (the run's layouts with L = 1), and its output arrays. */
export function jobOfStep<F extends ScannedFamily>(
  family: F,
  inputs: StepInputsOf<F>,
  options: OptionsOf<F>,
  arithmetic: Arithmetic,
): { job: ScanJob; outputs: JobOutputs; dims: Dimensions } {
  const dims = stepDimensionsOf(family, inputs);
  const sequence = [dims.batch, dims.dim, 1];
  const step = { family, inputs } as AnyStepInputs;
  let problem: ScannedProblem;
  switch (step.family) {
    case 'prefix-sum':
      problem = { family: 'prefix-sum', inputs: { x: withLength(step.inputs.x, sequence) }, options: { exclusive: false, reverse: false } };
      break;
    case 'linear-recurrence':
      problem = {
        family: 'linear-recurrence',
        inputs: { a: withLength(step.inputs.a, sequence), b: withLength(step.inputs.b, sequence) },
        options: { reverse: false },
      };
      break;
    case 'selective-scan': {
      const s = step.inputs;
      problem = {
        family: 'selective-scan',
        inputs: { u: withLength(s.u, sequence), delta: withLength(s.delta, sequence), A: s.A, B: s.B, C: s.C, D: s.D, z: s.z === undefined ? undefined : withLength(s.z, sequence), deltaBias: s.deltaBias },
        options: options as OptionsOf<'selective-scan'>,
      };
      break;
    }
    case 'lti-ssm': {
      const s = step.inputs;
      problem = { family: 'lti-ssm', inputs: { Abar: s.Abar, Bbar: s.Bbar, C: s.C, D: s.D, u: withLength(s.u, sequence) }, options: {} };
      break;
    }
  }
  const shapes = stepOutputShapes(family, dims);
  const stateLength = shapes.state.reduce((x, y) => x * y, 1);
  return {
    job: { problem, initialState: step.inputs.state.data },
    outputs: { primary: arithmetic.allocate(dims.batch * dims.dim), finalState: arithmetic.allocate(stateLength) },
    dims,
  };
}

/** Packs a step's outputs: y (batch, dim) and the new state. */
export function stepOutputsOf(family: FamilyName, dims: Dimensions, outputs: JobOutputs): StepOutputs {
  const shapes = stepOutputShapes(family, dims);
  return {
    y: { data: outputs.primary, shape: shapes.y },
    state: { data: outputs.finalState as ScanArray, shape: shapes.state },
  };
}

type AnyStepInputs = { [F in ScannedFamily]: { readonly family: F; readonly inputs: StepInputsOf<F> } }[ScannedFamily];

/**
 * The families the parallel scans compute: the recurrences laid out (batch, dim, L). ssd (Mamba-2)
 * is a chunked matrix algorithm of its own (implementations/ssd-chunked/), not one of these scans.
 */
export const SCANNED_FAMILIES = ['prefix-sum', 'linear-recurrence', 'selective-scan', 'lti-ssm'] as const satisfies readonly FamilyName[];

/** A family the parallel scans compute. */
export type ScannedFamily = (typeof SCANNED_FAMILIES)[number];

/** A problem of a family the parallel scans compute. */
export type ScannedProblem = { [F in ScannedFamily]: Problem<F> }[ScannedFamily];
