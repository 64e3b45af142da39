/**
 * WGSL for ssd (Mamba-2) in the chunked matrix form of mamba_ssm's mamba_chunk_scan_combined:
 * time is cut into chunks of Q steps and five dispatches of one submission compute
 *   1. chunkCumsum  — per (batch, head, chunk), one invocation per step: Δ (bias, softplus, the
 *      dtLimit clamp) and the inclusive cumulative sum of Δ·A inside the chunk, a Hillis–Steele
 *      scan in workgroup memory;
 *   2. chunkDots    — per (batch, group, chunk): the causal Q×Q matrix C_t·B_s (dot products over N),
 *      shared by the group's heads;
 *   3. chunkStates  — per (batch, head, chunk, p, n): the state the chunk alone leaves at its last
 *      step, Σ_s exp(cum_last − cum_s)·Δ_s·B_s[n]·x_s[p] over the steps of the last step's sequence;
 *   4. passStates   — per (batch, head, p, n), sequentially over chunks: the state entering each
 *      chunk (initialStates for the first), decayed by exp(cum_last) unless a sequence starts
 *      inside the chunk; the state after the last chunk is finalStates;
 *   5. chunkOutputs — per y element: the intra-chunk quadratic term Σ_{s≤t} (C_t·B_s)·exp(cum_t −
 *      cum_s)·Δ_s·x_s over steps of t's sequence, plus exp(cum_t)·C_t·(entering state) when t's
 *      sequence is the one entering the chunk, plus D·x, times silu(z).
 * seqIdx arrives as per-row sequence labels (family-ssd.ts#sequenceLabels): equal labels within
 * Q + 1 consecutive steps mean the same sequence, which is all the masks compare.
 * Working values (Δ, cumulative sums, dot products, chunk states) live in one f32 workspace.
 */
import { storagePrelude, type StorageType } from './storage-type.ts';
import { ACTIVATIONS_WGSL } from './wgsl-channel-scan.ts';

/** Invocations per workgroup of the element-wise passes (dots, states, passing, outputs). */
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
 * cumOffset, dotsOffset, statesOffset (into workspace), three unused words.
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
export const SSD_ENTRY_POINTS = ['chunkCumsum', 'chunkDots', 'chunkStates', 'passStates', 'chunkOutputs'] as const;

/** The WGSL module of the chunked ssd for one storage type. */
export function ssdShader(storage: StorageType): string {
  const bindings = SSD_BINDINGS.map((name, i) => {
    const written = SSD_WRITTEN.has(name);
    const type = name === 'workspace' ? 'f32' : 'Stored';
    return `@group(0) @binding(${i + 1}) var<storage, ${written ? 'read_write' : 'read'}> ${name}: array<${type}>;`;
  }).join('\n');
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
  cumOffset: u32,
  dotsOffset: u32,
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
    let i = bh * params.length + start + lid;
    workspace[i] = delta;
    workspace[params.cumOffset + i] = decayPrefix[lid];
  }
}

@compute @workgroup_size(WG)
fn chunkDots(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) count: vec3<u32>,
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
  var product = 0.0;
  if (j <= i && t < params.length) {
    for (var n = 0u; n < params.stateSize; n = n + 1u) {
      product = product + f32(C[projectionIndex(b, t, g, n)]) * f32(B[projectionIndex(b, s, g, n)]);
    }
  }
  workspace[params.dotsOffset + index] = product;
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
  let last = chunkLast(c);
  let lastSequence = sequenceOf(b, last);
  let row = bh * params.length;
  let cumLast = workspace[params.cumOffset + row + last];
  var state = 0.0;
  for (var s = c * params.chunkSize; s <= last; s = s + 1u) {
    if (sequenceOf(b, s) == lastSequence) {
      let weight = exp(cumLast - workspace[params.cumOffset + row + s]) * workspace[row + s];
      state = state + weight * f32(B[projectionIndex(b, s, g, n)]) * f32(x[sequenceIndex(b, s, h, p)]);
    }
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
  let b = bh / params.heads;
  let row = bh * params.length;
  var carried = 0.0;
  if (flag(FLAG_INITIALSTATES)) { carried = f32(initialStates[index]); }
  for (var c = 0u; c < params.chunks; c = c + 1u) {
    let at = params.statesOffset + ((bh * params.chunks + c) * P + p) * N + n;
    let alone = workspace[at];
    workspace[at] = carried;
    let last = chunkLast(c);
    var decayed = 0.0;
    // A zero state stays zero even where exp overflows (Inf·0 would be NaN).
    if (carried != 0.0 && sequenceOf(b, last) == sequenceOf(b, beforeChunk(c))) {
      decayed = exp(workspace[params.cumOffset + row + last]) * carried;
    }
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
  let row = bh * params.length;
  let ownSequence = sequenceOf(b, t);
  let cumT = workspace[params.cumOffset + row + t];
  let dots = params.dotsOffset + (((b * params.groups + g) * params.chunks + c) * Q + (t - start)) * Q;
  var out = 0.0;
  for (var s = start; s <= t; s = s + 1u) {
    if (sequenceOf(b, s) == ownSequence) {
      let weight = workspace[dots + s - start] * exp(cumT - workspace[params.cumOffset + row + s]) * workspace[row + s];
      out = out + weight * f32(x[sequenceIndex(b, s, h, p)]);
    }
  }
  if (ownSequence == sequenceOf(b, beforeChunk(c))) {
    let entering = params.statesOffset + ((bh * params.chunks + c) * P + p) * N;
    var carried = 0.0;
    for (var n = 0u; n < N; n = n + 1u) {
      carried = carried + f32(C[projectionIndex(b, t, g, n)]) * workspace[entering + n];
    }
    if (carried != 0.0) { out = out + exp(cumT) * carried; }
  }
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
