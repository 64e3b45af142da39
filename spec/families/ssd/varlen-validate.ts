/**
 * The gate of ssd's variable-length form (spec/families/ssd/ssd.md#variable-length-form): a varlen
 * problem is ssd's inputs with batch = 1 (checked by ssd's own axis rules), cuSeqlens and one
 * initial state per sequence; an answer is y like x and one final state per sequence. Every
 * failure is a SpecValidationError naming the field, with the context `ssd varlen`.
 */
import { SpecValidationError } from '../../errors.ts';
import { formatShape, unravelIndex, type Tensor } from '../../tensor.ts';
import { MAX_SEGMENT_ID, describeValue, expectFinite, fail, isPlainObject, readTensor, validateOutputTensors, validateProblem } from '../../validate.ts';
import type { SsdInputs, SsdOptions } from './types.ts';
import { VARLEN_OUTPUT_NAMES, type SsdVarlenInputs, type SsdVarlenOutputs, type SsdVarlenProblem } from './varlen.ts';

/** Where varlen failures are reported. */
const CONTEXT = 'ssd varlen';

/** The inputs a varlen problem takes (ssd's without seqIdx, plus cuSeqlens). */
const VARLEN_INPUT_NAMES = ['x', 'dt', 'A', 'B', 'C', 'D', 'z', 'dtBias', 'dtLimit', 'cuSeqlens', 'initialStates'] as const;

/** Checks a varlen ssd problem { inputs, options } against the spec and returns it typed; throws SpecValidationError. */
export function validateVarlenProblem(problem: unknown): SsdVarlenProblem {
  if (!isPlainObject(problem)) fail(CONTEXT, 'problem', 'an object { inputs, options }', describeValue(problem));
  const inputs = problem.inputs;
  if (!isPlainObject(inputs)) fail(CONTEXT, 'inputs', `an object with tensors ${VARLEN_INPUT_NAMES.join(', ')}`, describeValue(inputs));
  for (const key of Object.keys(inputs)) {
    if (inputs[key] === undefined || (VARLEN_INPUT_NAMES as readonly string[]).includes(key)) continue;
    const why = key === 'seqIdx' ? 'no seqIdx in the varlen form (cuSeqlens says where sequences start)' : `no such input (ssd varlen inputs: ${VARLEN_INPUT_NAMES.join(', ')})`;
    fail(CONTEXT, `inputs.${key}`, why, `key '${key}'`);
  }
  const { cuSeqlens: rawBounds, initialStates: rawStates, ...shared } = inputs;

  // Everything ssd has: its axis rules, finiteness, dtLimit's (lo, hi); then batch = 1.
  const ssd = inContext(() => validateProblem({ family: 'ssd', inputs: shared, options: problem.options }));
  const ssdInputs = ssd.inputs as SsdInputs;
  const [batch, T, H, P] = ssdInputs.x.shape;
  const N = ssdInputs.B.shape[3];
  if (batch !== 1) fail(CONTEXT, 'x', `batch 1: shape (1, T, H, P), every sequence packed into one row`, formatShape(ssdInputs.x.shape));

  if (rawBounds === undefined) fail(CONTEXT, 'cuSeqlens', 'a tensor { data: Float32Array, shape: [nseq + 1] } (required input)', 'undefined (missing)');
  const cuSeqlens = readTensor(CONTEXT, 'cuSeqlens', rawBounds);
  expectBounds(cuSeqlens, T);
  const nseq = cuSeqlens.data.length - 1;

  let initialStates: Tensor | undefined;
  if (rawStates !== undefined) {
    initialStates = readTensor(CONTEXT, 'initialStates', rawStates);
    const expected = [nseq, H, P, N];
    if (initialStates.shape.length !== 4 || expected.some((size, i) => initialStates!.shape[i] !== size)) {
      fail(CONTEXT, 'initialStates', `shape (nseq=${nseq}, H=${H}, P=${P}, N=${N}): one state per sequence`, formatShape(initialStates.shape));
    }
    expectFinite(CONTEXT, 'initialStates', initialStates);
  }
  const checked: SsdVarlenInputs = { ...ssdInputs, cuSeqlens, ...(initialStates !== undefined && { initialStates }) };
  return { inputs: checked, options: ssd.options as SsdOptions };
}

/**
 * Checks an implementation's answer to a validated varlen problem: exactly y (1, T, H, P) and
 * finalStates (nseq, H, P, N), Float32Array or Float64Array; every mismatch is collected. Values
 * are the tolerance model's to judge.
 */
export function validateVarlenOutputs(problem: SsdVarlenProblem, outputs: unknown): SsdVarlenOutputs {
  const { x, B, cuSeqlens } = problem.inputs;
  const [, , H, P] = x.shape;
  const shapes = { y: x.shape, finalStates: [cuSeqlens.data.length - 1, H, P, B.shape[3]] };
  return validateOutputTensors(`${CONTEXT} outputs`, VARLEN_OUTPUT_NAMES, shapes, outputs) as unknown as SsdVarlenOutputs;
}

/**
 * cuSeqlens: rank 1 of nseq + 1 ≥ 1 integers 0 … 2^24 (exact in float32, as sequence ids are),
 * starting at 0, non-decreasing, ending at T.
 */
function expectBounds(cuSeqlens: Tensor, T: number): void {
  const { data, shape } = cuSeqlens;
  if (shape.length !== 1 || shape[0] < 1) fail(CONTEXT, 'cuSeqlens', 'shape (nseq + 1) with nseq ≥ 0: the sequence boundaries c_0 … c_nseq', formatShape(shape));
  const at = (i: number): string => `cuSeqlens[${unravelIndex(i, shape).join(', ')}]`;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isInteger(v) || v < 0 || v > MAX_SEGMENT_ID) fail(CONTEXT, 'cuSeqlens', 'token offsets: integers 0 … 2^24 (exact in float32)', `${v} at ${at(i)}`);
    if (i > 0 && v < data[i - 1]) fail(CONTEXT, 'cuSeqlens', 'non-decreasing offsets c_0 ≤ c_1 ≤ … (a sequence cannot have negative length)', `${v} at ${at(i)} after ${data[i - 1]}`);
  }
  if (data[0] !== 0) fail(CONTEXT, 'cuSeqlens', 'c_0 = 0: the first sequence starts at token 0', `${data[0]} at ${at(0)}`);
  const last = data[data.length - 1];
  if (last !== T) fail(CONTEXT, 'cuSeqlens', `c_nseq = T = ${T} (x's length): the sequences cover every token`, `${last} at ${at(data.length - 1)}`);
}

/** Runs ssd's validation, reporting its failures under the varlen context (the fields are the same). */
function inContext<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (!(error instanceof SpecValidationError)) throw error;
    const failures = error.failures.map((f) => ({ ...f, context: CONTEXT }));
    throw new SpecValidationError(failures as [(typeof failures)[number], ...typeof failures]);
  }
}
