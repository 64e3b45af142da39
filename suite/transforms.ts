/**
 * Metamorphic transforms of problems and outputs: slicing time, scaling and adding the additive
 * inputs, flipping time, permuting the batch. Each knows which tensors carry which axis from the
 * roles its family's descriptor gives its inputs (spec/families/<name>/descriptor.ts).
 */
import type { AnyProblem, FamilyName, Problem } from '../spec/families.ts';
import { additiveInputNames, inputNamesWithRole, outputKind, stateInputNames } from '../spec/families/index.ts';
import { declaredAxes, timeAxisOf } from '../spec/shapes.ts';
import { aroundAxis, flipAxis, sliceAxis } from '../spec/tensor-axis.ts';
import type { OutputTensor, Tensor } from '../spec/tensor.ts';

/**
 * Tensors of a problem that have a time axis (spec/shapes.ts#timeAxisOf), in the family's input
 * order: its sequence and segments inputs that are present, and its B, C laid out with time.
 */
export function timeTensorNames(problem: AnyProblem): string[] {
  const inputs = inputsOf(problem);
  return Object.keys(inputs).filter((name) => inputs[name] !== undefined && timeAxisOf(problem.family, name, inputs[name].shape) >= 0);
}

/** The segments inputs of a problem that are present (seqIdx of ssd and selective-scan): the state resets where they change. */
export function segmentsInputNames(problem: AnyProblem): string[] {
  const inputs = inputsOf(problem);
  return inputNamesWithRole(problem.family, 'segments').filter((name) => inputs[name] !== undefined);
}

/** Steps [start, end) of one of a problem's time tensors. */
export function sliceTimeOf(problem: AnyProblem, name: string, start: number, end: number): Tensor {
  const t = inputsOf(problem)[name]!;
  return sliceAxis(t, timeAxisOf(problem.family, name, t.shape), start, end);
}

/** Tensors through which the outputs depend linearly on the inputs: the descriptor's additive inputs (b, h0, x, u). */
export { additiveInputNames };

/** Tensors with a leading batch axis: every time tensor except a time-invariant B/C, and the initial state. */
export function batchTensorNames(problem: AnyProblem): string[] {
  const inputs = inputsOf(problem);
  return [...timeTensorNames(problem), ...stateInputNames(problem.family).filter((name) => inputs[name] !== undefined)];
}

type InputRecord = Readonly<Record<string, Tensor | undefined>>;

/** A problem's inputs as a record by name (every family's inputs are named tensors). */
export function inputsOf(problem: Problem): InputRecord {
  return problem.inputs as unknown as InputRecord;
}

/** A problem with some input tensors replaced (undefined removes an optional input). */
export function withInputs<F extends FamilyName>(problem: Problem<F>, replaced: Readonly<Record<string, Tensor | undefined>>): Problem<F> {
  const inputs: Record<string, Tensor | undefined> = { ...inputsOf(problem), ...replaced };
  for (const key of Object.keys(inputs)) if (inputs[key] === undefined) delete inputs[key];
  return { ...problem, inputs: inputs as unknown as Problem<F>['inputs'] };
}

/** Steps [start, end) of a problem: every time tensor sliced; h0 kept (the caller sets it). */
export function sliceTime<F extends FamilyName>(problem: Problem<F>, start: number, end: number): Problem<F> {
  const replaced: Record<string, Tensor> = {};
  for (const name of timeTensorNames(problem as AnyProblem)) replaced[name] = sliceTimeOf(problem as AnyProblem, name, start, end);
  return withInputs(problem, replaced);
}

/** The time axis of one of a family's outputs: its `length` axis where declared, else the last of a sequence; −1 for a state. */
export function outputTimeAxis(family: FamilyName, name: string, shape: readonly number[]): number {
  const axes = declaredAxes(family, name);
  if (axes !== undefined) return axes.indexOf('length');
  return outputKind(family, name) === 'sequence' ? shape.length - 1 : -1;
}

/** Steps [start, end) of an output tensor of a family (a state output is returned as it is). */
export function sliceOutputTime<T extends Tensor | OutputTensor>(family: FamilyName, name: string, t: T, start: number, end: number): T {
  const axis = outputTimeAxis(family, name, t.shape);
  return axis < 0 ? t : sliceAxis(t, axis, start, end);
}

/** An output tensor of a family with its time axis reversed (a state output is returned as it is). */
export function flipOutputTime<T extends Tensor | OutputTensor>(family: FamilyName, name: string, t: T): T {
  const axis = outputTimeAxis(family, name, t.shape);
  return axis < 0 ? t : flipAxis(t, axis);
}

/**
 * A problem with every time tensor reversed and the given options. Segment ids are reversed and
 * renumbered (v → max − v) so they stay non-decreasing and change where they changed.
 */
export function flipTime<F extends FamilyName>(problem: Problem<F>, options: Problem<F>['options']): Problem<F> {
  const inputs = inputsOf(problem);
  const segments = new Set(segmentsInputNames(problem as AnyProblem));
  const replaced: Record<string, Tensor> = {};
  for (const name of timeTensorNames(problem as AnyProblem)) {
    const t = inputs[name]!;
    const flipped = flipAxis(t, timeAxisOf(problem.family, name, t.shape));
    if (!segments.has(name)) replaced[name] = flipped;
    else {
      const max = flipped.data.reduce((m, v) => Math.max(m, v), 0);
      replaced[name] = { data: flipped.data.map((v) => max - v), shape: flipped.shape };
    }
  }
  return { ...withInputs(problem, replaced), options };
}

/** A tensor with its leading (batch) axis permuted: row i of the result is row perm[i]. */
export function permuteLeadingAxis<T extends Tensor | OutputTensor>(t: T, permutation: readonly number[]): T {
  const stride = t.shape[0] === 0 ? 0 : t.data.length / t.shape[0];
  const data = t.data.slice();
  for (let i = 0; i < permutation.length; i++) data.set(t.data.subarray(permutation[i] * stride, (permutation[i] + 1) * stride), i * stride);
  return { ...t, data };
}

/** A problem with its batch permuted. */
export function permuteBatch<F extends FamilyName>(problem: Problem<F>, permutation: readonly number[]): Problem<F> {
  const inputs = inputsOf(problem);
  const replaced: Record<string, Tensor> = {};
  for (const name of batchTensorNames(problem as AnyProblem)) replaced[name] = permuteLeadingAxis(inputs[name]!, permutation);
  return withInputs(problem, replaced);
}

/** A problem with its additive inputs transformed elementwise (then rounded to float32). */
export function mapAdditiveInputs<F extends FamilyName>(problem: Problem<F>, f: (value: number, name: string, index: number) => number): Problem<F> {
  const inputs = inputsOf(problem);
  const replaced: Record<string, Tensor> = {};
  for (const name of additiveInputNames(problem.family)) {
    const t = inputs[name];
    if (t === undefined) continue;
    replaced[name] = { data: t.data.map((v, i) => f(v, name, i)), shape: t.shape };
  }
  return withInputs(problem, replaced);
}

/** The flat index of element i of an output tensor with its time index t replaced by L − 1 − t (a state's i itself). */
export function mirroredTimeIndex(family: FamilyName, name: string, shape: readonly number[], i: number): number {
  const axis = outputTimeAxis(family, name, shape);
  if (axis < 0) return i;
  const { n: L, inner } = aroundAxis(shape, axis);
  const t = Math.floor(i / inner) % L;
  return i + (L - 1 - 2 * t) * inner;
}

/** The time index of element i of an output tensor, or −1 for a state. */
export function outputTimeIndex(family: FamilyName, name: string, shape: readonly number[], i: number): number {
  const axis = outputTimeAxis(family, name, shape);
  if (axis < 0) return -1;
  const { n: L, inner } = aroundAxis(shape, axis);
  return Math.floor(i / inner) % L;
}

/** Where element i of an output tensor sits after `count` steps were added on its time axis (before or after); a state's i itself. */
export function paddedTimeIndex(family: FamilyName, name: string, shape: readonly number[], i: number, count: number, atStart: boolean): number {
  const axis = outputTimeAxis(family, name, shape);
  if (axis < 0) return i;
  const { n: L, inner } = aroundAxis(shape, axis);
  const t = Math.floor(i / inner) % L;
  const outer = Math.floor(i / (inner * L));
  return (outer * (L + count) + t + (atStart ? count : 0)) * inner + (i % inner);
}

/**
 * The inputs at time t of a problem replaced by another problem's, every time tensor but the
 * segment ids, which instead start a new segment at t (ids from t on raised by one): a change at t.
 */
export function replaceAtTime<F extends FamilyName>(problem: Problem<F>, other: Problem<F>, t: number, kept: readonly string[] = []): Problem<F> {
  const inputs = inputsOf(problem);
  const others = inputsOf(other);
  const segments = new Set(segmentsInputNames(problem as AnyProblem));
  const replaced: Record<string, Tensor> = {};
  for (const name of timeTensorNames(problem as AnyProblem)) {
    if (kept.includes(name)) continue;
    const tensor = inputs[name]!;
    const { outer, n, inner } = aroundAxis(tensor.shape, timeAxisOf(problem.family, name, tensor.shape));
    const data = tensor.data.slice();
    for (let o = 0; o < outer; o++) {
      if (segments.has(name)) for (let s = t; s < n; s++) data[o * n + s] += 1;
      else for (let j = 0; j < inner; j++) data[(o * n + t) * inner + j] = others[name]!.data[(o * n + t) * inner + j];
    }
    replaced[name] = { data, shape: tensor.shape };
  }
  return withInputs(problem, replaced);
}

/**
 * The state handed from steps [0, k) to steps [k, L) of a problem: the given state, with the
 * batches whose segment changes at k set to zero (their next sequence starts fresh).
 */
export function stateAcrossSplit(problem: AnyProblem, k: number, state: Tensor): Tensor {
  if (k <= 0) return state;
  const inputs = inputsOf(problem);
  let data: Float32Array | undefined;
  for (const name of segmentsInputNames(problem)) {
    const ids = inputs[name]!;
    const [batch, L] = ids.shape;
    if (k >= L) continue;
    const perBatch = batch === 0 ? 0 : state.data.length / batch;
    for (let b = 0; b < batch; b++) {
      if (ids.data[b * L + k] === ids.data[b * L + k - 1]) continue;
      data ??= state.data.slice();
      data.fill(0, b * perBatch, (b + 1) * perBatch);
    }
  }
  return data === undefined ? state : { data, shape: state.shape };
}
