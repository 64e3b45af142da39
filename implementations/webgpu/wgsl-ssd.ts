/**
 * WGSL for ssd (Mamba-2) in the chunked matrix form of mamba_ssm's mamba_chunk_scan_combined:
 * time is cut into chunks of Q steps and five dispatches of one submission compute
 *   1. chunkCumsum  — per (batch, head, chunk), one invocation per step t: Δ_t (bias, softplus,
 *      the dtLimit clamp), the inclusive cumulative sum cum_t of Δ·A inside the chunk (a
 *      Hillis–Steele scan in workgroup memory), and from them the two decays every later pass
 *      reads: exp(cum_last − cum_t)·Δ_t (step t's weight in the chunk's own end state, 0 unless t
 *      is in the last step's sequence) and exp(cum_t) (the entering state's decay at t, 0 unless
 *      t is in the sequence of the step before the chunk);
 *   2. chunkWeights — per (batch, group, chunk, t, s ≤ t): C_t·B_s (a dot product over N, once
 *      per group), then for each head of the group the causal matrix
 *      (C_t·B_s)·exp(cum_t − cum_s)·Δ_s, 0 where s and t are in different sequences;
 *   3. chunkStates  — per (batch, head, chunk, p, n): the state the chunk alone leaves at its last
 *      step, Σ_s weight_s·B_s[n]·x_s[p];
 *   4. passStates   — per (batch, head, p, n), sequentially over chunks: the state entering each
 *      chunk (initialStates for the first) is carried through the chunk by exp(cum_last), or
 *      dropped when a sequence starts inside it; the state after the last chunk is finalStates;
 *   5. chunkOutputs — per y element: Σ_{s≤t} matrix[t,s]·x_s (the intra-chunk quadratic term),
 *      plus exp(cum_t)·C_t·(entering state), plus D·x, times silu(z).
 * The decays are computed once per (head, step) or (head, t, s), never per channel or state.
 * seqIdx arrives as per-row sequence labels (family-ssd.ts#sequenceLabels): equal labels within
 * Q + 1 consecutive steps mean the same sequence, which is all the masks compare.
 * Working values live in one f32 workspace: four (batch, H, L) arrays (Δ, cum, state weights,
 * entering decays), the (batch, H, chunks, Q, Q) matrices and the (batch, H, chunks, P, N) states.
 */
import { storageBindings, storagePrelude, type StorageType } from './storage-type.ts';
import { ACTIVATIONS_WGSL } from './wgsl-channel-scan.ts';

/** Invocations per workgroup of the element-wise passes (weights, states, passing, outputs). */
export const SSD_WORKGROUP = 64;

/** The largest chunk size: one cumulative-sum invocation per step of a chunk. */
export const SSD_MAX_CHUNK = 256;

/** Flag bits of the params' flags word. */
export const SSD_FLAGS = {
  D: 1,
  dPerChannel: 2,
  z: 4,
  dtBias: 8,
  initialStates: 16,
  seqIdx: 32,
  dtSoftplus: 64,
  dtLo: 128,
  dtHi: 256,
} as const;

/**
 * Uniform layout (4 bytes each): batch, length, heads, headdim, groups, stateSize, chunkSize,
 * chunks, flags, infinityBits, dtLo (f32), dtHi (f32), dtBiasOffset, dOffset (into headTerms),
 * stepsLength (batch·H·L, the length of each per-step array), weightsOffset, statesOffset (into
 * workspace), three unused words.
 */
export const SSD_PARAM_WORDS = 20;

/** Word indices of the two f32 fields of the params. */
export const SSD_PARAM_FLOAT_WORDS = { dtLo: 10, dtHi: 11 } as const;

/** A storage binding of the ssd module; headTerms packs A (H), then dtBias (H), then D (H or H·P). */
export type SsdBinding = 'x' | 'dt' | 'B' | 'C' | 'z' | 'initialStates' | 'seqIdx' | 'headTerms' | 'workspace' | 'y' | 'finalStates';

/** Binding slots of the ssd module, in order; slot 0 is the uniform params. */
export const SSD_BINDINGS: readonly SsdBinding[] = ['x', 'dt', 'B', 'C', 'z', 'initialStates', 'seqIdx', 'headTerms', 'workspace', 'y', 'finalStates'];

/** Bindings the kernels write. */
export const SSD_WRITTEN: ReadonlySet<SsdBinding> = new Set(['workspace', 'y', 'finalStates']);

/** Entry points, in the order one run dispatches them. */
export const SSD_ENTRY_POINTS = ['chunkCumsum', 'chunkWeights', 'chunkStates', 'passStates', 'chunkOutputs'] as const;

/** The WGSL module of the chunked ssd for one storage type. */
export function ssdShader(storage: StorageType): string {
  const bindings = storageBindings(SSD_BINDINGS, SSD_WRITTEN, 'workspace');
  const flags = Object.entries(SSD_FLAGS)
    .map(([name, bit]) => `const FLAG_${name.toUpperCase()}: u32 = ${bit}u;`)
    .join('\n');
  return /* wgsl */ `${storagePrelude(storage)}
struct Params {
  batch: u32,
  length: u32,
  heads: u32,
  headdim: u32,
  groups: u32,
  stateSize: u32,
  chunkSize: u32,
  chunks: u32,
  flags: u32,
  infinityBits: u32,
  dtLo: f32,
  dtHi: f32,
  dtBiasOffset: u32,
  dOffset: u32,
  stepsLength: u32,
  weightsOffset: u32,
  statesOffset: u32,
  unused0: u32,
  unused1: u32,
  unused2: u32,
}

const WG: u32 = ${SSD_WORKGROUP}u;
const MAX_CHUNK: u32 = ${SSD_MAX_CHUNK}u;
${flags}

@group(0) @binding(0) var<uniform> params: Params;
${bindings}

var<workgroup> decayPrefix: array<f32, MAX_CHUNK>;

${ACTIVATIONS_WGSL}

fn flag(bit: u32) -> bool { return (params.flags & bit) != 0u; }

fn elementIndex(wg: vec3<u32>, count: vec3<u32>, lid: u32) -> u32 { return (wg.x + wg.y * count.x) * WG + lid; }

// The sequence label of step t of row b; one sequence (label 0) without seqIdx.
fn sequenceOf(b: u32, t: u32) -> f32 {
  if (!flag(FLAG_SEQIDX)) { return 0.0; }
  return f32(seqIdx[b * params.length + t]);
}

// Δ = clamp(softplus(dt + dtBias), lo, hi); the clamp after softplus, as mamba_ssm's _chunk_cumsum_fwd.
fn effectiveDt(b: u32, t: u32, h: u32) -> f32 {
  var delta = f32(dt[(b * params.length + t) * params.heads + h]);
  if (flag(FLAG_DTBIAS)) { delta = delta + f32(headTerms[params.dtBiasOffset + h]); }
  if (flag(FLAG_DTSOFTPLUS)) { delta = softplus(delta); }
  if (flag(FLAG_DTLO)) { delta = max(delta, params.dtLo); }
  if (flag(FLAG_DTHI)) { delta = min(delta, params.dtHi); }
  return delta;
}

fn projectionIndex(b: u32, t: u32, g: u32, n: u32) -> u32 {
  return ((b * params.length + t) * params.groups + g) * params.stateSize + n;
}

fn sequenceIndex(b: u32, t: u32, h: u32, p: u32) -> u32 {
  return ((b * params.length + t) * params.heads + h) * params.headdim + p;
}

fn groupOfHead(h: u32) -> u32 { return h / (params.heads / params.groups); }

// The last step of chunk c (the ragged tail chunk ends at L − 1).
fn chunkLast(c: u32) -> u32 { return min((c + 1u) * params.chunkSize, params.length) - 1u; }

// The step before chunk c, whose sequence the entering state belongs to; step 0 for the first chunk.
fn beforeChunk(c: u32) -> u32 { return max(c * params.chunkSize, 1u) - 1u; }

// Offsets of the per-step arrays of the workspace, each (batch, H, L).
fn deltaAt(i: u32) -> u32 { return i; }
fn cumAt(i: u32) -> u32 { return params.stepsLength + i; }
fn stateWeightAt(i: u32) -> u32 { return 2u * params.stepsLength + i; }
fn enteringDecayAt(i: u32) -> u32 { return 3u * params.stepsLength + i; }

@compute @workgroup_size(MAX_CHUNK)
fn chunkCumsum(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) count: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let item = wg.x + wg.y * count.x;
  if (item >= params.batch * params.heads * params.chunks) { return; }
  let c = item % params.chunks;
  let bh = item / params.chunks;
  let h = bh % params.heads;
  let b = bh / params.heads;
  let start = c * params.chunkSize;
  let steps = min(params.chunkSize, params.length - start);
  var delta = 0.0;
  var rate = 0.0;
  if (lid < steps) {
    delta = effectiveDt(b, start + lid, h);
    rate = delta * f32(headTerms[h]);
  }
  decayPrefix[lid] = rate;
  workgroupBarrier();
  for (var offset = 1u; offset < params.chunkSize; offset = offset * 2u) {
    var sum = decayPrefix[lid];
    if (lid >= offset) { sum = sum + decayPrefix[lid - offset]; }
    workgroupBarrier();
    decayPrefix[lid] = sum;
    workgroupBarrier();
  }
  if (lid < steps) {
    let t = start + lid;
    let i = bh * params.length + t;
    let cum = decayPrefix[lid];
    let last = chunkLast(c);
    let ownSequence = sequenceOf(b, t);
    var stateWeight = 0.0;
    if (ownSequence == sequenceOf(b, last)) { stateWeight = exp(decayPrefix[last - start] - cum) * delta; }
    var enteringDecay = 0.0;
    if (ownSequence == sequenceOf(b, beforeChunk(c))) { enteringDecay = exp(cum); }
    workspace[deltaAt(i)] = delta;
    workspace[cumAt(i)] = cum;
    workspace[stateWeightAt(i)] = stateWeight;
    workspace[enteringDecayAt(i)] = enteringDecay;
  }
}

@compute @workgroup_size(WG)
fn chunkWeights(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) count: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let index = elementIndex(wg, count, lid);
  let Q = params.chunkSize;
  if (index >= params.batch * params.groups * params.chunks * Q * Q) { return; }
  let j = index % Q;
  let i = (index / Q) % Q;
  let bgc = index / (Q * Q);
  let c = bgc % params.chunks;
  let bg = bgc / params.chunks;
  let g = bg % params.groups;
  let b = bg / params.groups;
  let t = c * Q + i;
  let s = c * Q + j;
  let live = j <= i && t < params.length;
  var product = 0.0;
  if (live) {
    let cAt = projectionIndex(b, t, g, 0u);
    let bAt = projectionIndex(b, s, g, 0u);
    for (var n = 0u; n < params.stateSize; n = n + 1u) {
      product = product + f32(C[cAt + n]) * f32(B[bAt + n]);
    }
  }
  let sameSequence = live && sequenceOf(b, s) == sequenceOf(b, t);
  let headsPerGroup = params.heads / params.groups;
  for (var h = g * headsPerGroup; h < (g + 1u) * headsPerGroup; h = h + 1u) {
    var weight = 0.0;
    if (sameSequence) {
      let row = (b * params.heads + h) * params.length;
      weight = product * exp(workspace[cumAt(row + t)] - workspace[cumAt(row + s)]) * workspace[deltaAt(row + s)];
    }
    workspace[params.weightsOffset + (((b * params.heads + h) * params.chunks + c) * Q + i) * Q + j] = weight;
  }
}

@compute @workgroup_size(WG)
fn chunkStates(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) count: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let index = elementIndex(wg, count, lid);
  let N = params.stateSize;
  let P = params.headdim;
  if (index >= params.batch * params.heads * params.chunks * P * N) { return; }
  let n = index % N;
  let p = (index / N) % P;
  let bhc = index / (N * P);
  let c = bhc % params.chunks;
  let bh = bhc / params.chunks;
  let h = bh % params.heads;
  let b = bh / params.heads;
  let g = groupOfHead(h);
  let row = bh * params.length;
  let start = c * params.chunkSize;
  let steps = chunkLast(c) + 1u - start;
  // Strides of one step along time, hoisted: the loop is three loads and two multiply-adds.
  let bStride = params.groups * N;
  let xStride = params.heads * P;
  var bAt = projectionIndex(b, start, g, n);
  var xAt = sequenceIndex(b, start, h, p);
  let weightAt = stateWeightAt(row + start);
  var state = 0.0;
  for (var k = 0u; k < steps; k = k + 1u) {
    state = state + workspace[weightAt + k] * f32(B[bAt]) * f32(x[xAt]);
    bAt = bAt + bStride;
    xAt = xAt + xStride;
  }
  workspace[params.statesOffset + index] = state;
}

@compute @workgroup_size(WG)
fn passStates(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) count: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let index = elementIndex(wg, count, lid);
  let N = params.stateSize;
  let P = params.headdim;
  if (index >= params.batch * params.heads * P * N) { return; }
  let n = index % N;
  let p = (index / N) % P;
  let bh = index / (N * P);
  let row = bh * params.length;
  var carried = 0.0;
  if (flag(FLAG_INITIALSTATES)) { carried = f32(initialStates[index]); }
  for (var c = 0u; c < params.chunks; c = c + 1u) {
    let at = params.statesOffset + ((bh * params.chunks + c) * P + p) * N + n;
    let alone = workspace[at];
    workspace[at] = carried;
    var decayed = 0.0;
    // A zero state stays zero even where exp overflows (Inf·0 would be NaN).
    if (carried != 0.0) { decayed = workspace[enteringDecayAt(row + chunkLast(c))] * carried; }
    carried = decayed + alone;
  }
  finalStates[index] = toStorage(carried, params.infinityBits);
}

@compute @workgroup_size(WG)
fn chunkOutputs(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) count: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let index = elementIndex(wg, count, lid);
  let P = params.headdim;
  let N = params.stateSize;
  let Q = params.chunkSize;
  if (index >= params.batch * params.length * params.heads * P) { return; }
  let p = index % P;
  let h = (index / P) % params.heads;
  let bt = index / (P * params.heads);
  let t = bt % params.length;
  let b = bt / params.length;
  let g = groupOfHead(h);
  let c = t / Q;
  let start = c * Q;
  let bh = b * params.heads + h;
  let weights = params.weightsOffset + ((bh * params.chunks + c) * Q + (t - start)) * Q;
  let xStride = params.heads * P;
  var xAt = sequenceIndex(b, start, h, p);
  var out = 0.0;
  for (var k = 0u; k <= t - start; k = k + 1u) {
    out = out + workspace[weights + k] * f32(x[xAt]);
    xAt = xAt + xStride;
  }
  let entering = params.statesOffset + ((bh * params.chunks + c) * P + p) * N;
  var carried = 0.0;
  let cAt = projectionIndex(b, t, g, 0u);
  for (var n = 0u; n < N; n = n + 1u) {
    carried = carried + f32(C[cAt + n]) * workspace[entering + n];
  }
  if (carried != 0.0) { out = out + workspace[enteringDecayAt(bh * params.length + t)] * carried; }
  if (flag(FLAG_D)) {
    var skipGain = f32(headTerms[params.dOffset + h]);
    if (flag(FLAG_DPERCHANNEL)) { skipGain = f32(headTerms[params.dOffset + h * P + p]); }
    out = out + skipGain * f32(x[index]);
  }
  if (flag(FLAG_Z)) { out = out * silu(f32(z[index])); }
  y[index] = toStorage(out, params.infinityBits);
}
`;
}
