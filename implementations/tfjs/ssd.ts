/**
 * ssd (Mamba-2) from tf ops in the chunked matrix form of the paper's minimal listing
 * (mamba_ssm/modules/ssd_minimal.py, ssd_minimal_discrete): the sequence cut into chunks of Q
 * steps; inside a chunk the quadratic form Y_diag = (C·Bᵀ ⊙ exp(segsum)) @ (Δ·x); each chunk's
 * state from zero; the states passed across chunks by a loop over chunks (the listing's dense
 * (c + 1)² segsum product does c times the work and needs, on tfjs-cpu, a slow strided slice); the
 * entering state read out by C. Every contraction is a tf.matMul (tfjs's einsum takes two operands
 * and the wasm backend has no einsum kernel).
 *
 * seqIdx enters as masks: a segment number (the count of seqIdx changes up to t) is compared
 * between the two ends of every decay, and a pair in different segments gets exp(−∞) = 0, so a
 * reset cuts the sum exactly where the recurrence's r_t = 0 does. Masked entries are replaced
 * before exp, never multiplied by 0, so no 0·∞ can make a NaN.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { SsdInputs, SsdOptions, SsdStepInputs } from '../../spec/families.ts';
import { dtLimits } from '../../spec/families/ssd/discretization.ts';
import { groupOfHead, ssdSizes, ssdStepSizes } from '../../spec/families/ssd/dimensions.ts';
import { elementCount, type OutputTensor, type Tensor } from '../../spec/tensor.ts';
import { silu, softplus } from './activations.ts';
import { copyOutput, toTf, whereElse, zerosOutput, type Liftable, type TensorInput } from './tensors.ts';

/** The chunk sizes run() accepts: a small one, mamba_ssm's 64 and 256, and 48, which divides few lengths. */
export const SSD_CHUNK_SIZES: readonly number[] = [16, 48, 64, 256];

/** The chunk size when the settings name none. */
export const SSD_DEFAULT_CHUNK_SIZE = 64;

/** The chunk size a run uses: the requested one (a positive integer), or the default. */
export function ssdChunkSize(requested: number | undefined): number {
  if (requested === undefined) return SSD_DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(requested) || requested < 1) {
    throw new RangeError(`tfjs ssd: settings.chunkSize: expected a positive integer (one of ${SSD_CHUNK_SIZES.join(', ')}), got ${requested}`);
  }
  return requested;
}

/**
 * The elements of the largest tensor a run builds with chunk size Q, over batch·chunks·H: the
 * decay matrices (Q, Q), the chunked x (Q, P), B and C per head (Q, N) or the states (P, N).
 */
export function ssdLargestTensor(inputs: SsdInputs, chunkSize: number): number {
  const { batch, length, heads, headdim, stateSize } = ssdSizes(inputs.x, inputs.B);
  const size = Math.max(1, Math.min(chunkSize, length));
  const chunks = Math.ceil(length / size);
  return batch * chunks * heads * Math.max(size * size, size * headdim, size * stateSize, headdim * stateSize);
}

/**
 * The outputs as tfjs tensors, for inputs with batch, L, H, P all ≥ 1. Chunk and batch share one
 * axis, chunk-major (K = chunks·batch): no tensor of rank 5 is broadcast (tfjs-backend-webgpu
 * tiles rank 5 on the CPU through a synchronous read, which Node cannot do), and one chunk's
 * states are a contiguous slice for the pass across chunks.
 */
export function ssdTensors(inputs: Liftable<'ssd'>, options: SsdOptions, chunkSize: number): { y: tf.Tensor; finalStates: tf.Tensor } {
  return tf.tidy(() => {
    const { batch, length, heads, headdim, groups, stateSize } = ssdSizes(inputs.x, inputs.B);
    // A chunk longer than the sequence is one chunk of the sequence's length: its identity padding would add exact zeros.
    const Q = Math.min(chunkSize, length);
    const chunks = Math.ceil(length / Q);
    const K = chunks * batch;
    const padded = chunks * Q;
    const tail = padded - length;
    const x = toTf(inputs.x);
    const delta = effectiveDelta(inputs, options, toTf(inputs.dt));

    // The ragged tail is padded with identity steps (Δ = 0, x = 0, B = C = 0): decay 1, nothing added.
    const padTime = (t: tf.Tensor): tf.Tensor => (tail === 0 ? t : tf.pad(t, t.shape.map((_, axis): [number, number] => [0, axis === 1 ? tail : 0])));
    // (batch, L, F, E) → (K, F, Q, E): chunk-major, the feature axis (heads or groups) before time.
    const toChunks = (t: tf.Tensor, features: number, inner: number): tf.Tensor =>
      tf.reshape(tf.transpose(tf.reshape(padTime(t), [batch, chunks, Q, features, inner]), [1, 0, 3, 2, 4]), [K, features, Q, inner]);
    const logDecay = tf.mul(delta, tf.reshape(toTf(inputs.A), [1, 1, heads]));
    const a = tf.reshape(toChunks(tf.expandDims(logDecay, -1), heads, 1), [K, heads, Q]);
    const xs = toChunks(tf.mul(x, tf.expandDims(delta, -1)), heads, headdim);
    // (K, G, Q, N), then gathered to heads (K, H, Q, N).
    const Bg = toChunks(toTf(inputs.B), groups, stateSize);
    const Cg = toChunks(toTf(inputs.C), groups, stateSize);
    const Bh = groupsToHeads(Bg, heads, groups, 1);
    const Ch = groupsToHeads(Cg, heads, groups, 1);

    // Segment numbers (K, Q): the count of seqIdx changes up to t; padding continues the last segment.
    const segmentInChunk =
      inputs.seqIdx === undefined
        ? undefined
        : tf.reshape(tf.transpose(tf.reshape(segmentNumbers(toTf(inputs.seqIdx), length, tail), [batch, chunks, Q]), [1, 0, 2]), [K, Q]);

    // 1. Inside each chunk: decay[t, s] = exp(a_{s+1} + … + a_t) for s ≤ t in one segment, else 0.
    const cumulative = tf.cumsum(a, 2);
    const sameSegmentInChunk = segmentInChunk === undefined ? undefined : tf.expandDims(pairsEqual(segmentInChunk), 1);
    const decay = maskedExp(stableSegsum(a), causal(Q, sameSegmentInChunk));
    const scores = tf.mul(groupsToHeads(tf.matMul(Cg, Bg, false, true), heads, groups, 1), decay);
    const yDiagonal = tf.matMul(scores, xs);

    // 2. Each chunk's state from zero at its start: Σ_s decay[last, s]·(Δx)_s ⊗ B_s, (K, H, P, N).
    const decayToEnd = tf.reshape(tf.slice(decay, [0, 0, Q - 1, 0], [K, heads, 1, Q]), [K, heads, Q, 1]);
    const states = tf.matMul(tf.mul(xs, decayToEnd), Bh, true, false);

    // 3. The states passed across chunks, one chunk at a time: entering_{z+1} = w_z·entering_z + S_z,
    // w_z = exp(a over chunk z), 0 where a reset lies between the ends of chunks z − 1 and z.
    const segmentAtEnd = segmentInChunk === undefined ? undefined : tf.slice(segmentInChunk, [0, Q - 1], [K, 1]);
    // The segment at the end of each chunk's predecessor, (K, 1); before chunk 0 a virtual step −1 in segment 0, the initial state's.
    const segmentBefore =
      segmentAtEnd === undefined ? undefined : chunks === 1 ? tf.zeros([K, 1]) : tf.concat([tf.zeros([batch, 1]), tf.slice(segmentAtEnd, [0, 0], [K - batch, 1])], 0);
    const chunkTotals = tf.slice(cumulative, [0, 0, Q - 1], [K, heads, 1]);
    const carriedWhole = segmentAtEnd === undefined || segmentBefore === undefined ? undefined : tf.expandDims(tf.equal(segmentAtEnd, segmentBefore), 1);
    const carried = unstackChunks(tf.reshape(maskedExp(chunkTotals, carriedWhole), [chunks, batch * heads, 1]));
    const chunkStates = unstackChunks(tf.reshape(states, [chunks, batch * heads, headdim * stateSize]));
    let state = inputs.initialStates === undefined ? tf.zeros([batch * heads, headdim * stateSize]) : tf.reshape(toTf(inputs.initialStates), [batch * heads, headdim * stateSize]);
    const enteringStates: tf.Tensor[] = [];
    for (let z = 0; z < chunks; z++) {
      enteringStates.push(state);
      state = tf.add(tf.mul(carried[z], state), chunkStates[z]);
    }
    const finalStates = tf.reshape(state, [batch, heads, headdim, stateSize]);
    const entering = tf.reshape(tf.stack(enteringStates), [K, heads, headdim, stateSize]);

    // 4. The entering state read out at t: C_t·entering·exp(a_0 + … + a_t), 0 once a reset intervened.
    const readOut = tf.matMul(Ch, entering, false, true);
    const reachesT = segmentInChunk === undefined || segmentBefore === undefined ? undefined : tf.expandDims(tf.equal(segmentInChunk, segmentBefore), 1);
    const yOffDiagonal = tf.mul(readOut, tf.expandDims(maskedExp(cumulative, reachesT), -1));

    const yChunked = tf.reshape(tf.add(yDiagonal, yOffDiagonal), [chunks, batch, heads, Q, headdim]);
    let y = tf.reshape(tf.transpose(yChunked, [1, 0, 3, 2, 4]), [batch, padded, heads, headdim]);
    if (tail > 0) y = tf.slice(y, [0, 0, 0, 0], [batch, length, heads, headdim]);
    y = readOutTail(y, x, inputs.D, inputs.z, heads, headdim);
    return { y, finalStates };
  });
}

/**
 * tf.unstack along axis 0, but a single chunk by reshape: tfjs 4.22's gradient of Unpack hands
 * tf.stack a lone Tensor when Unpack has one output (the engine passes dys[0], not [dys[0]]), and
 * tf.stack throws 'Argument tensors passed to stack must be a `Tensor[]`'.
 */
function unstackChunks(t: tf.Tensor): tf.Tensor[] {
  return t.shape[0] === 1 ? [tf.reshape(t, t.shape.slice(1))] : tf.unstack(t);
}

/** Δ = clamp(softplus(dt + dtBias), lo, hi) over (…, H), softplus only with dtSoftplus; the clamp follows softplus as in mamba_ssm. */
function effectiveDelta(inputs: { readonly dtBias?: TensorInput; readonly dtLimit?: Tensor }, options: SsdOptions, dt: tf.Tensor): tf.Tensor {
  let delta = inputs.dtBias === undefined ? dt : tf.add(dt, toTf(inputs.dtBias));
  if (options.dtSoftplus) delta = softplus(delta);
  const { lo, hi } = dtLimits(inputs.dtLimit?.data);
  // An infinite bound clamps nothing: skipped, so no infinity reaches a shader as a uniform.
  if (lo > Number.NEGATIVE_INFINITY) delta = tf.maximum(delta, lo);
  if (hi < Number.POSITIVE_INFINITY) delta = tf.minimum(delta, hi);
  return delta;
}

/** + D·x (D of shape (H) or (H, P)), then the silu(z) gate, on (…, H, P) tensors: the spec's read-out order. */
function readOutTail(y: tf.Tensor, x: tf.Tensor, D: TensorInput | undefined, z: TensorInput | undefined, heads: number, headdim: number): tf.Tensor {
  let out = y;
  if (D !== undefined) {
    const perChannel = tf.reshape(toTf(D), D.shape.length === 1 ? [heads, 1] : [heads, headdim]);
    out = tf.add(out, tf.mul(x, perChannel));
  }
  if (z !== undefined) out = tf.mul(out, silu(toTf(z)));
  return out;
}

/** A tensor with a group axis (size G) at `axis` spread to H heads, head h reading group ⌊h/(H/G)⌋. */
function groupsToHeads(t: tf.Tensor, heads: number, groups: number, axis: number): tf.Tensor {
  if (groups === heads) return t;
  const groupOf = Int32Array.from({ length: heads }, (_, h) => groupOfHead(h, heads, groups));
  return tf.gather(t, tf.tensor1d(groupOf, 'int32'), axis);
}

/**
 * segsum[…, t, s] = x_{s+1} + … + x_t along the last axis (the listing's stable form): each sum
 * accumulated from s + 1 on, never a difference of two cumulative sums, which would lose the short
 * segments' digits to a long prefix. Above the diagonal the sums are empty (0); callers mask them to −∞.
 */
function stableSegsum(x: tf.Tensor): tf.Tensor {
  const T = x.shape[x.rank - 1];
  // Built as [s, t], summed along the last axis, then transposed: tfjs-core 4.22's gradient of a
  // cumsum along any other axis comes back transposed (gradients/Cumsum_grad.js applies the axis
  // permutation the forward op never did; test/implementations/tfjs/tfjs-vjp.test.ts shows it), and
  // the vjp differentiates through here. The same additions in the same order as a cumsum along t.
  const after = tf.transpose(strictlyLower(T)); // [s, t]: t > s
  const repeated = whereElse(after, tf.expandDims(x, -2), 0);
  const axes = Array.from({ length: x.rank + 1 }, (_, axis) => axis);
  return tf.transpose(tf.cumsum(repeated, x.rank), [...axes.slice(0, -2), x.rank, x.rank - 1]);
}

/** exp(v) where `keep` holds, 0 elsewhere: −∞ is put in before exp, so a masked entry is never 0·∞. */
function maskedExp(values: tf.Tensor, keep: tf.Tensor | undefined): tf.Tensor {
  return keep === undefined ? tf.exp(values) : tf.exp(whereElse(keep, values, Number.NEGATIVE_INFINITY));
}

/** The mask of the pairs (t, s) a segsum decay connects, over the last two axes: s ≤ t, and in one segment when `sameSegment` is given. */
function causal(T: number, sameSegment: tf.Tensor | undefined): tf.Tensor {
  const lower = lowerIncludingDiagonal(T);
  return sameSegment === undefined ? lower : tf.logicalAnd(sameSegment, lower);
}

/** The (T, T) mask t > s. */
function strictlyLower(T: number): tf.Tensor {
  return tf.greater(tf.reshape(tf.range(0, T, 1, 'int32'), [T, 1]), tf.reshape(tf.range(0, T, 1, 'int32'), [1, T]));
}

/** The (T, T) mask t ≥ s. */
function lowerIncludingDiagonal(T: number): tf.Tensor {
  return tf.greaterEqual(tf.reshape(tf.range(0, T, 1, 'int32'), [T, 1]), tf.reshape(tf.range(0, T, 1, 'int32'), [1, T]));
}

/** [..., t, s] = (v[..., t] == v[..., s]) for v of shape (..., T). */
function pairsEqual(v: tf.Tensor): tf.Tensor {
  return tf.equal(tf.expandDims(v, -1), tf.expandDims(v, -2));
}

/**
 * The segment number of each step, (batch, L + tail): how many times seqIdx changed up to t (the
 * spec's r_t = 0 where seqIdx_t ≠ seqIdx_{t−1}), a small integer exact in float32. Counting changes
 * rather than comparing seqIdx values keeps the recurrence's meaning for any values.
 */
function segmentNumbers(seqIdx: tf.Tensor, length: number, tail: number): tf.Tensor {
  const batch = seqIdx.shape[0];
  if (length === 1) return tf.zeros([batch, 1 + tail]);
  const changed = tf.cast(tf.notEqual(tf.slice(seqIdx, [0, 1], [batch, length - 1]), tf.slice(seqIdx, [0, 0], [batch, length - 1])), 'float32');
  return tf.cumsum(tf.pad(changed, [[0, 0], [1, tail]]), 1);
}

/** The outputs of a problem with batch, L, H or P zero, which tfjs is not asked about: y empty or zero-sized, finalStates initialStates (L = 0) or zeros. */
export function emptySsd(inputs: SsdInputs): { y: OutputTensor; finalStates: OutputTensor } {
  const { batch, length, heads, headdim, stateSize } = ssdSizes(inputs.x, inputs.B);
  const stateShape = [batch, heads, headdim, stateSize];
  return {
    y: zerosOutput(inputs.x.shape),
    finalStates: inputs.initialStates !== undefined && length === 0 ? copyOutput(inputs.initialStates, stateShape) : zerosOutput(stateShape),
  };
}

/** Whether an ssd problem has nothing for tfjs to compute. */
export function ssdIsEmpty(inputs: SsdInputs): boolean {
  return elementCount(inputs.x.shape) === 0;
}

/**
 * One token (mamba_ssm's selective_state_update with heads), the recurrence itself:
 * state' = exp(Δ·A)·state + (Δ·x) ⊗ B, y = (C·state' + D·x)·silu(z).
 */
export function ssdStepTensors(inputs: SsdStepInputs, options: SsdOptions): { y: tf.Tensor; state: tf.Tensor } {
  return tf.tidy(() => {
    const { batch, heads, headdim, groups, stateSize } = ssdStepSizes(inputs.x, inputs.B);
    const x = toTf(inputs.x);
    const delta = effectiveDelta(inputs, options, toTf(inputs.dt));
    const decay = tf.reshape(tf.exp(tf.mul(delta, toTf(inputs.A))), [batch, heads, 1, 1]);
    const Bh = tf.expandDims(groupsToHeads(toTf(inputs.B), heads, groups, 1), 2);
    const Ch = tf.expandDims(groupsToHeads(toTf(inputs.C), heads, groups, 1), 2);
    const input = tf.mul(tf.expandDims(tf.mul(x, tf.expandDims(delta, -1)), -1), Bh);
    const state = tf.add(tf.mul(decay, toTf(inputs.state)), input);
    const y = readOutTail(tf.sum(tf.mul(state, Ch), 3), x, inputs.D, inputs.z, heads, headdim);
    return { y: tf.reshape(y, [batch, heads, headdim]), state: tf.reshape(state, [batch, heads, headdim, stateSize]) };
  });
}
