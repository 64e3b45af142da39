/**
 * ssd's variable-length form (spec/families/ssd/ssd.md#variable-length-form): several sequences
 * packed into one row of T tokens, cut by cuSeqlens, each with its own initial and final state;
 * vLLM's mamba_chunk_scan_combined_varlen and mamba_ssm's cu_seqlens / varlen_states. An entry
 * point of the ssd family, not a family of its own: sequence s is the ssd problem `sequenceProblem`
 * gives, and nothing else.
 */
import { sliceAxis } from '../../tensor-axis.ts';
import type { OutputTensor, Tensor } from '../../tensor.ts';
import type { SsdInputs, SsdOptions } from './types.ts';

/**
 * The inputs of a varlen ssd run: ssd's inputs laid out with batch = 1 (x, z (1, T, H, P); dt
 * (1, T, H); B, C (1, T, G, N); A, D, dtBias, dtLimit as in ssd), no seqIdx, and
 * cuSeqlens (nseq + 1): integers in float32, 0 = c_0 ≤ c_1 ≤ … ≤ c_nseq = T, sequence s the tokens
 * [c_s, c_{s+1}) (empty sequences allowed); initialStates (nseq, H, P, N), one per sequence.
 */
export interface SsdVarlenInputs extends Omit<SsdInputs, 'seqIdx'> {
  readonly cuSeqlens: Tensor;
}

/** A varlen ssd run: its inputs and ssd's options. */
export interface SsdVarlenProblem {
  readonly inputs: SsdVarlenInputs;
  readonly options: SsdOptions;
}

/** The outputs of a varlen run: y (1, T, H, P) and finalStates (nseq, H, P, N), sequence s's state after its last token. */
export interface SsdVarlenOutputs {
  readonly y: OutputTensor;
  readonly finalStates: OutputTensor;
}

/** The names of the varlen outputs, in order. */
export const VARLEN_OUTPUT_NAMES = ['y', 'finalStates'] as const;

/** The sequence boundaries c_0 … c_nseq of a validated cuSeqlens, as integers. */
export function sequenceBounds(cuSeqlens: Tensor): number[] {
  return Array.from(cuSeqlens.data);
}

/** The number of sequences of a validated varlen problem (cuSeqlens holds nseq + 1 boundaries). */
export function sequenceCount(inputs: SsdVarlenInputs): number {
  return inputs.cuSeqlens.data.length - 1;
}

/**
 * Sequence s of a validated varlen problem as the ssd problem it means: one row of the tokens
 * [c_s, c_{s+1}), from initialStates[s] (or zero), with the problem's A, D, dtBias, dtLimit and
 * options. Its y is the varlen y at tokens c_s … c_{s+1} − 1, its finalStates the varlen
 * finalStates[s].
 */
export function sequenceProblem(problem: SsdVarlenProblem, s: number): { readonly family: 'ssd'; readonly inputs: SsdInputs; readonly options: SsdOptions } {
  const { cuSeqlens, initialStates, ...shared } = problem.inputs;
  const [start, end] = [cuSeqlens.data[s], cuSeqlens.data[s + 1]];
  const time = (t: Tensor): Tensor => sliceAxis(t, 1, start, end);
  const inputs: SsdInputs = {
    ...shared,
    x: time(shared.x),
    dt: time(shared.dt),
    B: time(shared.B),
    C: time(shared.C),
    ...(shared.z !== undefined && { z: time(shared.z) }),
    ...(initialStates !== undefined && { initialStates: sliceAxis(initialStates, 0, s, s + 1) }),
  };
  return { family: 'ssd', inputs, options: problem.options };
}

/**
 * The sequence id of every token of a validated cuSeqlens (T tokens): s on [c_s, c_{s+1}), as
 * mamba_ssm's and vLLM's seq_idx that goes with cu_seqlens. Ids of empty sequences never appear,
 * so the ids change exactly where a sequence starts.
 */
export function sequenceIds(cuSeqlens: Tensor): Float32Array {
  const bounds = sequenceBounds(cuSeqlens);
  const ids = new Float32Array(bounds[bounds.length - 1]);
  for (let s = 0; s + 1 < bounds.length; s++) ids.fill(s, bounds[s], bounds[s + 1]);
  return ids;
}

/**
 * The varlen problem of a validated ssd problem without seqIdx, row b's first lengths[b] tokens
 * packed after row b − 1's (cuSeqlens the running sums of the lengths), each row's initial state
 * that of its sequence: sequence b means row b cut to its first lengths[b] tokens.
 */
export function packRows(problem: { readonly inputs: SsdInputs; readonly options: SsdOptions }, lengths: readonly number[]): SsdVarlenProblem {
  const { x, dt, A, B, C, D, z, dtBias, dtLimit, initialStates, seqIdx } = problem.inputs;
  const [batch, L] = x.shape;
  if (seqIdx !== undefined) throw new RangeError('packRows: a problem with seqIdx has no varlen form (its rows already pack sequences)');
  if (lengths.length !== batch || lengths.some((n) => !Number.isInteger(n) || n < 0 || n > L)) {
    throw new RangeError(`packRows: lengths: expected ${batch} integers in [0, ${L}], got [${lengths.join(', ')}]`);
  }
  const bounds = [0];
  for (const n of lengths) bounds.push(bounds[bounds.length - 1] + n);
  const pack = (t: Tensor): Tensor => {
    const rows = lengths.map((n, b) => sliceAxis(sliceAxis(t, 0, b, b + 1), 1, 0, n));
    const data = new Float32Array(rows.reduce((total, row) => total + row.data.length, 0));
    rows.reduce((offset, row) => (data.set(row.data, offset), offset + row.data.length), 0);
    return { data, shape: [1, bounds[batch], ...t.shape.slice(2)] };
  };
  const inputs: SsdVarlenInputs = {
    x: pack(x),
    dt: pack(dt),
    A,
    B: pack(B),
    C: pack(C),
    ...(D !== undefined && { D }),
    ...(z !== undefined && { z: pack(z) }),
    ...(dtBias !== undefined && { dtBias }),
    ...(dtLimit !== undefined && { dtLimit }),
    cuSeqlens: { data: Float32Array.from(bounds), shape: [batch + 1] },
    ...(initialStates !== undefined && { initialStates }),
  };
  return { inputs, options: problem.options };
}
