/**
 * The one place shapes are computed: the dimensions a problem implies and the shape of every
 * output, read from the family descriptors' roles and kinds. Assumes a problem that
 * spec/validate.ts accepted.
 */
import type { AnyProblem, FamilyName, OutputsOf, StepInputsOf } from './families.ts';
import { descriptorOf, hasStateSize } from './families/index.ts';
import type { Tensor } from './tensor.ts';

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

/** The dimensions a problem implies: (batch, dim, L) of its dimensionsFrom input, N from its stateSizeFrom. */
export function dimensionsOf(problem: AnyProblem): Dimensions {
  const inputs = problem.inputs as unknown as TensorRecord;
  const [batch, dim, length] = inputs[descriptorOf(problem.family).dimensionsFrom].shape;
  return { batch, dim, length, stateSize: stateSizeOf(problem.family, inputs) };
}

/** The shape of every output tensor of a family for given dimensions: sequences (batch, dim, L), states stateShape. */
export function outputShapes<F extends FamilyName>(
  family: F,
  dims: Dimensions,
): { readonly [K in keyof OutputsOf<F>]: readonly number[] } {
  const { batch, dim, length } = dims;
  const shapes = descriptorOf(family).outputs.map((output) => [output.name, output.kind === 'sequence' ? [batch, dim, length] : stateShape(family, dims)]);
  return Object.fromEntries(shapes) as { readonly [K in keyof OutputsOf<F>]: readonly number[] };
}

/**
 * The dimensions a one-token step implies; length is 1, so projectionLayout and projectionIndex
 * (with t = 0) read a step's B and C, laid out as the run's with L = 1: (dim, N), (batch, N, 1)
 * or (batch, G, N, 1).
 */
export function stepDimensionsOf<F extends FamilyName>(family: F, inputs: StepInputsOf<F>): Dimensions {
  const record = inputs as unknown as TensorRecord;
  const [batch, dim] = record[descriptorOf(family).dimensionsFrom].shape;
  return { batch, dim, length: 1, stateSize: stateSizeOf(family, record) };
}

/** The shapes of a step's outputs: y (batch, dim) and the state, stateShape. */
export function stepOutputShapes(
  family: FamilyName,
  dims: Dimensions,
): { readonly y: readonly number[]; readonly state: readonly number[] } {
  return { y: [dims.batch, dims.dim], state: stateShape(family, dims) };
}

/** The shape of a family's state (lastState, a step's state, h0): (batch, dim, N) where it has a state axis, else (batch, dim). */
export function stateShape(family: FamilyName, dims: Dimensions): readonly number[] {
  const { batch, dim, stateSize } = dims;
  return hasStateSize(family) ? [batch, dim, stateSize] : [batch, dim];
}

/** N: the second axis of the family's stateSizeFrom parameter; 1 for the scalar-state families. */
function stateSizeOf(family: FamilyName, inputs: TensorRecord): number {
  const from = descriptorOf(family).stateSizeFrom;
  return from === undefined ? 1 : inputs[from].shape[1];
}

type TensorRecord = Readonly<Record<string, Tensor>>;
