/**
 * Metamorphic transforms of problems and outputs: slicing time, scaling and adding the additive
 * inputs, flipping time, permuting the batch. Each knows which tensors carry which axis from the
 * roles its family's descriptor gives its inputs (spec/families/<name>/descriptor.ts).
 */
import type { AnyProblem, FamilyName, Problem } from '../spec/families.ts';
import { additiveInputNames, projectionInputNames, sequenceInputNames, stateInputNames } from '../spec/families/index.ts';
import { projectionLayout } from '../spec/shapes.ts';
import { elementCount, type OutputTensor, type Tensor } from '../spec/tensor.ts';

/**
 * Tensors of a problem that have a time axis (last axis L): its sequence inputs that are present,
 * then its projection inputs (B, C) laid out with a time axis (time-varying or grouped).
 */
export function timeTensorNames(problem: AnyProblem): string[] {
  const inputs = inputsOf(problem);
  const sequences = sequenceInputNames(problem.family).filter((name) => inputs[name] !== undefined);
  const projections = projectionInputNames(problem.family).filter((name) => {
    const tensor = inputs[name];
    return tensor !== undefined && projectionLayout(tensor.shape).kind !== 'time-invariant';
  });
  return [...sequences, ...projections];
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

/** Map over the rows of the last axis of a tensor: rows × length. */
function rowsOf(shape: readonly number[]): { rows: number; length: number } {
  const length = shape[shape.length - 1];
  return { rows: elementCount(shape.slice(0, -1)), length };
}

/** Steps [start, end) of a tensor's last (time) axis. */
export function sliceLastAxis(t: Tensor, start: number, end: number): Tensor {
  const { rows, length } = rowsOf(t.shape);
  const width = end - start;
  const data = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) data.set(t.data.subarray(r * length + start, r * length + end), r * width);
  return { data, shape: [...t.shape.slice(0, -1), width] };
}

/** Steps [start, end) of a problem: every time tensor sliced; h0 kept (the caller sets it). */
export function sliceTime<F extends FamilyName>(problem: Problem<F>, start: number, end: number): Problem<F> {
  const inputs = inputsOf(problem);
  const replaced: Record<string, Tensor> = {};
  for (const name of timeTensorNames(problem as AnyProblem)) replaced[name] = sliceLastAxis(inputs[name]!, start, end);
  return withInputs(problem, replaced);
}

/** A tensor's time axis reversed. */
export function flipLastAxis<T extends Tensor | OutputTensor>(t: T): T {
  const { rows, length } = rowsOf(t.shape);
  const data = t.data.slice();
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < length; i++) data[r * length + i] = t.data[r * length + length - 1 - i];
  }
  return { ...t, data };
}

/** A problem with every time tensor reversed and the given options. */
export function flipTime<F extends FamilyName>(problem: Problem<F>, options: Problem<F>['options']): Problem<F> {
  const inputs = inputsOf(problem);
  const replaced: Record<string, Tensor> = {};
  for (const name of timeTensorNames(problem as AnyProblem)) replaced[name] = flipLastAxis(inputs[name]!);
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
