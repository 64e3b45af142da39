/**
 * The one place shapes are computed: the dimensions a problem implies and the shape of every
 * output. Assumes a problem that spec/validate.ts accepted.
 */
import type { AnyProblem, FamilyName, OutputsOf } from './families.ts';

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
