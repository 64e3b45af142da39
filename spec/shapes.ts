/**
 * The one place shapes are computed: the dimensions a problem implies and the shape of every
 * output. Assumes a problem that spec/validate.ts accepted.
 */
import type { AnyProblem, FamilyName, OutputsOf, StepInputsOf } from './families.ts';

/** The dimensions of a problem: batch, dim (channels), length L; N and groups G where they apply. */
export interface Dimensions {
  readonly batch: number;
  readonly dim: number;
  readonly length: number;
  /** State size N (selective-scan, lti-ssm); 1 for the scalar-state families. */
  readonly stateSize: number;
}

/** How B or C of a selective scan is laid out, read from its rank as mamba_ssm does. */
export type ProjectionLayout =
  | { readonly kind: 'time-invariant' }
  | { readonly kind: 'time-varying' }
  | { readonly kind: 'grouped'; readonly groups: number };

/** Reads the layout of a selective-scan B or C from its shape: (dim, N), (batch, N, L) or (batch, G, N, L). */
export function projectionLayout(shape: readonly number[]): ProjectionLayout {
  if (shape.length === 2) return { kind: 'time-invariant' };
  if (shape.length === 3) return { kind: 'time-varying' };
  return { kind: 'grouped', groups: shape[1] };
}

/**
 * Index of B/C element (n, t) for channel (b, d), whatever the layout; the group of channel d is
 * ⌊d / (dim / G)⌋, as in mamba_ssm.
 */
export function projectionIndex(
  layout: ProjectionLayout,
  dims: Dimensions,
  b: number,
  d: number,
  n: number,
  t: number,
): number {
  const { dim, length: L, stateSize: N } = dims;
  switch (layout.kind) {
    case 'time-invariant':
      return d * N + n;
    case 'time-varying':
      return (b * N + n) * L + t;
    case 'grouped': {
      const g = Math.floor(d / (dim / layout.groups));
      return ((b * layout.groups + g) * N + n) * L + t;
    }
  }
}

/** The dimensions a problem implies. */
export function dimensionsOf(problem: AnyProblem): Dimensions {
  switch (problem.family) {
    case 'prefix-sum': {
      const [batch, dim, length] = problem.inputs.x.shape;
      return { batch, dim, length, stateSize: 1 };
    }
    case 'linear-recurrence': {
      const [batch, dim, length] = problem.inputs.a.shape;
      return { batch, dim, length, stateSize: 1 };
    }
    case 'selective-scan': {
      const [batch, dim, length] = problem.inputs.u.shape;
      return { batch, dim, length, stateSize: problem.inputs.A.shape[1] };
    }
    case 'lti-ssm': {
      const [batch, dim, length] = problem.inputs.u.shape;
      return { batch, dim, length, stateSize: problem.inputs.Abar.shape[1] };
    }
  }
}

/** The shape of every output tensor of a family for given dimensions. */
export function outputShapes<F extends FamilyName>(
  family: F,
  dims: Dimensions,
): { readonly [K in keyof OutputsOf<F>]: readonly number[] } {
  const { batch, dim, length, stateSize } = dims;
  const sequence = [batch, dim, length];
  const shapes = {
    'prefix-sum': { y: sequence },
    'linear-recurrence': { h: sequence, lastState: [batch, dim] },
    'selective-scan': { y: sequence, lastState: [batch, dim, stateSize] },
    'lti-ssm': { y: sequence },
  } as const;
  return shapes[family] as unknown as { readonly [K in keyof OutputsOf<F>]: readonly number[] };
}

/**
 * The dimensions a one-token step implies; length is 1, so projectionLayout and projectionIndex
 * (with t = 0) read a step's B and C, laid out as the run's with L = 1: (dim, N), (batch, N, 1)
 * or (batch, G, N, 1).
 */
export function stepDimensionsOf<F extends FamilyName>(family: F, inputs: StepInputsOf<F>): Dimensions {
  const step = { family, inputs } as AnyStep;
  switch (step.family) {
    case 'prefix-sum': {
      const [batch, dim] = step.inputs.x.shape;
      return { batch, dim, length: 1, stateSize: 1 };
    }
    case 'linear-recurrence': {
      const [batch, dim] = step.inputs.a.shape;
      return { batch, dim, length: 1, stateSize: 1 };
    }
    case 'selective-scan': {
      const [batch, dim] = step.inputs.u.shape;
      return { batch, dim, length: 1, stateSize: step.inputs.A.shape[1] };
    }
    case 'lti-ssm': {
      const [batch, dim] = step.inputs.u.shape;
      return { batch, dim, length: 1, stateSize: step.inputs.Abar.shape[1] };
    }
  }
}

/** The shapes of a step's outputs: y (batch, dim) and the state, (batch, dim) or (batch, dim, N). */
export function stepOutputShapes(
  family: FamilyName,
  dims: Dimensions,
): { readonly y: readonly number[]; readonly state: readonly number[] } {
  const { batch, dim, stateSize } = dims;
  const scalarState = family === 'prefix-sum' || family === 'linear-recurrence';
  return { y: [batch, dim], state: scalarState ? [batch, dim] : [batch, dim, stateSize] };
}

type AnyStep = { [F in FamilyName]: { readonly family: F; readonly inputs: StepInputsOf<F> } }[FamilyName];
