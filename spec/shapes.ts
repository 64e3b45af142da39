/**
 * The one place shapes are computed: the dimensions a problem implies and the shape of every
 * output, read from the family descriptors' roles and kinds. Assumes a problem that
 * spec/validate.ts accepted.
 */
import type { AnyProblem, FamilyName, OutputsOf, StepInputsOf } from './families.ts';
import { descriptorOf, hasStateSize } from './families/index.ts';
import type { AxisName } from './family-descriptor.ts';
import type { Tensor } from './tensor.ts';

/** The dimensions of a problem: batch, dim (channels), length L; N and groups G where they apply. */
export interface Dimensions {
  readonly batch: number;
  readonly dim: number;
  readonly length: number;
  /** State size N (selective-scan, lti-ssm, ssd); 1 for the scalar-state families. */
  readonly stateSize: number;
  /** Heads H of a family with a heads axis (ssd): dim = H·P. */
  readonly heads?: number;
  /** Groups G of a family with a groups axis (ssd's B and C). */
  readonly groups?: number;
  /** Rotary angles per head of a family with an angles axis (mamba3-siso's headdim_angles). */
  readonly angles?: number;
}

/** The size of a named axis under given dimensions (headdim = dim / heads, limits = 2). */
export function axisSize(axis: AxisName, dims: Dimensions): number {
  switch (axis) {
    case 'batch':
      return dims.batch;
    case 'length':
      return dims.length;
    case 'heads':
      return dims.heads ?? 1;
    case 'headdim':
      return dims.heads === undefined || dims.heads === 0 ? 0 : dims.dim / dims.heads;
    case 'groups':
      return dims.groups ?? 1;
    case 'state':
      return dims.stateSize;
    case 'limits':
      return 2;
    case 'angles':
      return dims.angles ?? 1;
  }
}

/** The shape of named axes under given dimensions. */
export function shapeOfAxes(axes: readonly AxisName[], dims: Dimensions): number[] {
  return axes.map((axis) => axisSize(axis, dims));
}

/** Named axes without the time axis: a step's tensors are a run's at one time step. */
export function withoutTime(axes: readonly AxisName[]): AxisName[] {
  return axes.filter((axis) => axis !== 'length');
}

/** The declared axes of a family's input or output, or undefined where its role's default shape applies. */
export function declaredAxes(family: FamilyName, name: string): readonly AxisName[] | undefined {
  const descriptor = descriptorOf(family);
  const input = descriptor.inputs.find((i) => i.name === name);
  if (input !== undefined) return input.axes;
  return descriptor.outputs.find((o) => o.name === name)?.axes;
}

/** Dimensions read from tensors laid out in named axes (run tensors, or a step's without `length`). */
function dimensionsFromAxes(family: FamilyName, inputs: TensorRecord, step: boolean): Dimensions {
  const descriptor = descriptorOf(family);
  const sizes = new Map<AxisName, number>();
  const read = (name: string | undefined): void => {
    if (name === undefined) return;
    const axes = declaredAxes(family, name);
    const tensor = inputs[name];
    if (axes === undefined || tensor === undefined) return;
    (step ? withoutTime(axes) : axes).forEach((axis, i) => {
      if (!sizes.has(axis)) sizes.set(axis, tensor.shape[i]);
    });
  };
  read(descriptor.dimensionsFrom);
  read(descriptor.stateSizeFrom);
  read(descriptor.groupsFrom);
  read(descriptor.anglesFrom);
  const heads = sizes.get('heads') ?? 1;
  return {
    batch: sizes.get('batch') ?? 1,
    dim: heads * (sizes.get('headdim') ?? 1),
    length: step ? 1 : (sizes.get('length') ?? 0),
    stateSize: sizes.get('state') ?? 1,
    heads,
    ...(sizes.has('groups') ? { groups: sizes.get('groups') } : {}),
    ...(sizes.has('angles') ? { angles: sizes.get('angles') } : {}),
  };
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
  if (declaredAxes(problem.family, descriptorOf(problem.family).dimensionsFrom) !== undefined) return dimensionsFromAxes(problem.family, inputs, false);
  const [batch, dim, length] = inputs[descriptorOf(problem.family).dimensionsFrom].shape;
  return { batch, dim, length, stateSize: stateSizeOf(problem.family, inputs) };
}

/** The shape of every output tensor of a family for given dimensions: sequences (batch, dim, L), states stateShape. */
export function outputShapes<F extends FamilyName>(
  family: F,
  dims: Dimensions,
): { readonly [K in keyof OutputsOf<F>]: readonly number[] } {
  const { batch, dim, length } = dims;
  const shapes = descriptorOf(family).outputs.map((output) => [
    output.name,
    output.axes !== undefined ? shapeOfAxes(output.axes, dims) : output.kind === 'sequence' ? [batch, dim, length] : stateShape(family, dims),
  ]);
  return Object.fromEntries(shapes) as { readonly [K in keyof OutputsOf<F>]: readonly number[] };
}

/**
 * The dimensions a one-token step implies; length is 1, so projectionLayout and projectionIndex
 * (with t = 0) read a step's B and C, laid out as the run's with L = 1: (dim, N), (batch, N, 1)
 * or (batch, G, N, 1).
 */
export function stepDimensionsOf<F extends FamilyName>(family: F, inputs: StepInputsOf<F>): Dimensions {
  const record = inputs as unknown as TensorRecord;
  if (declaredAxes(family, descriptorOf(family).dimensionsFrom) !== undefined) return dimensionsFromAxes(family, record, true);
  const [batch, dim] = record[descriptorOf(family).dimensionsFrom].shape;
  return { batch, dim, length: 1, stateSize: stateSizeOf(family, record) };
}

/** The shapes of a step's outputs: y (batch, dim), or the sequence output's axes without time, and the state, stateShape. */
export function stepOutputShapes(
  family: FamilyName,
  dims: Dimensions,
): { readonly y: readonly number[]; readonly state: readonly number[] } {
  const sequence = descriptorOf(family).outputs.find((o) => o.kind === 'sequence');
  const y = sequence?.axes !== undefined ? shapeOfAxes(withoutTime(sequence.axes), dims) : [dims.batch, dims.dim];
  return { y, state: stateShape(family, dims) };
}

/**
 * The shape of a family's state (lastState, a step's state, h0): its state output's axes where
 * declared (ssd: (batch, H, P, N)), else (batch, dim, N) where it has a state axis, else (batch, dim).
 */
export function stateShape(family: FamilyName, dims: Dimensions): readonly number[] {
  const declared = descriptorOf(family).outputs.find((o) => o.kind === 'state')?.axes;
  if (declared !== undefined) return shapeOfAxes(declared, dims);
  const { batch, dim, stateSize } = dims;
  return hasStateSize(family) ? [batch, dim, stateSize] : [batch, dim];
}

/** N: the second axis of the family's stateSizeFrom parameter; 1 for the scalar-state families (families with axes read theirs in dimensionsFromAxes). */
function stateSizeOf(family: FamilyName, inputs: TensorRecord): number {
  const from = descriptorOf(family).stateSizeFrom;
  return from === undefined ? 1 : inputs[from].shape[1];
}

type TensorRecord = Readonly<Record<string, Tensor>>;

/**
 * The time axis of one of a family's input tensors, or −1 when it has none: the `length` axis of
 * declared axes; else the last axis of a sequence, a segments input or a B/C laid out with time
 * (time-varying or grouped).
 */
export function timeAxisOf(family: FamilyName, name: string, shape: readonly number[]): number {
  const input = descriptorOf(family).inputs.find((i) => i.name === name);
  if (input === undefined) throw new Error(`timeAxisOf: ${family} has no input '${name}'`);
  if (input.axes !== undefined) {
    const axes = input.alternateAxes !== undefined && shape.length === input.alternateAxes.length ? input.alternateAxes : input.axes;
    return axes.indexOf('length');
  }
  switch (input.role) {
    case 'sequence':
    case 'segments':
      return shape.length - 1;
    case 'projection':
      return projectionLayout(shape).kind === 'time-invariant' ? -1 : shape.length - 1;
    default:
      return -1;
  }
}
