/**
 * WGSL for the state-space scans (selective-scan and lti-ssm), parallelised as mamba's reference
 * CUDA kernel's simplest form: one workgroup per (batch, dim) channel and one invocation per
 * state n, each scanning its h_n sequentially over time. Time runs in chunks of CHUNK steps: each
 * invocation writes C[n,t]·h_n[t] for the chunk into workgroup memory, then invocation k sums the
 * N contributions of time t0 + k (the contraction over n) into an f32 accumulator. States beyond
 * WG are handled in further passes over time that add into the same accumulator. A final loop
 * adds D·u, applies the gate silu(z) and stores y.
 * Selective-scan discretizes in the shader: delta' = delta + deltaBias, softplus (threshold 20),
 * Ā = exp(delta'·A), B̄u = delta'·B·u. With seqIdx, the host appends per-row reset flags (batch, L),
 * 1 where the sequence id changes, to the delta buffer (so the module stays within 12 storage
 * buffers); at a flagged step the state is the step's drive alone, nothing carried across.
 */
import { storageBindings, storagePrelude, type StorageType } from './storage-type.ts';

/** Invocations per workgroup (states handled at once) and time steps per chunk; equal by design. */
export const CHANNEL_SCAN_WORKGROUP = 32;

/** The state-space families. */
export type ChannelScanFamily = 'selective-scan' | 'lti-ssm';

/** Flag bits of the params' flags word. */
export const CHANNEL_SCAN_FLAGS = { D: 1, z: 2, deltaBias: 4, h0: 8, deltaSoftplus: 16, resets: 32 } as const;

/** Uniform layout (u32 each): channels, dim, length, stateSize, flags, infinityBits, bKind, bGroups, cKind, cGroups + padding. */
export const CHANNEL_SCAN_PARAM_WORDS = 12;

/** The first ten fields of Params in the channel-scan and selective-scan backward modules, the words selectiveScanParamWords writes. */
export const CHANNEL_SCAN_PARAM_FIELDS = /* wgsl */ `  channels: u32,
  dim: u32,
  length: u32,
  stateSize: u32,
  flags: u32,
  infinityBits: u32,
  bKind: u32,
  bGroups: u32,
  cKind: u32,
  cGroups: u32,`;

/** Projection kind codes of the params: 0 time-invariant (dim, N), 1 per time (batch, G, N, L); time-varying is G = 1. */
export const PROJECTION_KIND = { timeInvariant: 0, perTime: 1 } as const;

/** A storage binding of a channel-scan module. */
export type ChannelScanBinding =
  | 'u'
  | 'delta'
  | 'A'
  | 'B'
  | 'C'
  | 'D'
  | 'z'
  | 'deltaBias'
  | 'h0'
  | 'Abar'
  | 'Bbar'
  | 'yAccumulator'
  | 'y'
  | 'lastState';

/** Binding slots of a channel-scan module, in order; slot 0 is the uniform params. */
export function channelScanBindings(family: ChannelScanFamily): readonly ChannelScanBinding[] {
  return family === 'selective-scan'
    ? ['u', 'delta', 'A', 'B', 'C', 'D', 'z', 'deltaBias', 'h0', 'yAccumulator', 'y', 'lastState']
    : ['Abar', 'Bbar', 'C', 'D', 'u', 'h0', 'yAccumulator', 'y', 'lastState'];
}

/** Bindings the kernel writes. */
export const CHANNEL_SCAN_WRITTEN: ReadonlySet<ChannelScanBinding> = new Set(['yAccumulator', 'y', 'lastState']);

/** The WGSL module of the channel scan for one family and storage type (entry point `scanChannels`). */
export function channelScanShader(family: ChannelScanFamily, storage: StorageType): string {
  const bindings = storageBindings(channelScanBindings(family), CHANNEL_SCAN_WRITTEN, 'yAccumulator');
  const body = family === 'selective-scan' ? selectiveScanParts : ltiSsmParts;
  return /* wgsl */ `${storagePrelude(storage)}
struct Params {
${CHANNEL_SCAN_PARAM_FIELDS}
  unused0: u32,
  unused1: u32,
}

const WG: u32 = ${CHANNEL_SCAN_WORKGROUP}u;
const CHUNK: u32 = WG;
const HAS_D: u32 = ${CHANNEL_SCAN_FLAGS.D}u;
const HAS_Z: u32 = ${CHANNEL_SCAN_FLAGS.z}u;
const HAS_DELTA_BIAS: u32 = ${CHANNEL_SCAN_FLAGS.deltaBias}u;
const HAS_H0: u32 = ${CHANNEL_SCAN_FLAGS.h0}u;
const DELTA_SOFTPLUS: u32 = ${CHANNEL_SCAN_FLAGS.deltaSoftplus}u;
const HAS_RESETS: u32 = ${CHANNEL_SCAN_FLAGS.resets}u;
const TIME_INVARIANT: u32 = ${PROJECTION_KIND.timeInvariant}u;

@group(0) @binding(0) var<uniform> params: Params;
${bindings}

// contributions[k * CHUNK + j]: C[n,t]·h_n[t] of the state n = base + k at time t = t0 + j.
var<workgroup> contributions: array<f32, WG * CHUNK>;
// Per-chunk values every state needs at time t0 + j, computed once by invocation j.
var<workgroup> chunkDecayInput: array<f32, CHUNK>;
var<workgroup> chunkDriveInput: array<f32, CHUNK>;

fn flag(bit: u32) -> bool { return (params.flags & bit) != 0u; }

${PROJECTION_INDEX_WGSL}

${body.functions}

@compute @workgroup_size(WG)
fn scanChannels(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) count: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let channel = wg.x + wg.y * count.x;
  if (channel >= params.channels) { return; }
  let b = channel / params.dim;
  let d = channel % params.dim;
  let L = params.length;
  let N = params.stateSize;
  let sequence = channel * L;
  for (var base = 0u; base < N; base = base + WG) {
    let n = base + lid;
    let live = n < N;
    let nClamped = min(n, N - 1u);
    var state = 0.0;
    if (live && flag(HAS_H0)) { state = f32(h0[channel * N + n]); }
    ${body.perState}
    for (var t0 = 0u; t0 < L; t0 = t0 + CHUNK) {
      let steps = min(CHUNK, L - t0);
      if (lid < steps) { ${body.perTime} }
      workgroupBarrier();
      for (var j = 0u; j < steps; j = j + 1u) {
        let t = t0 + j;
        var contribution = 0.0;
        if (live) {
          ${body.update}
          contribution = f32(C[projectionIndex(params.cKind, params.cGroups, b, d, nClamped, t)]) * state;
        }
        contributions[lid * CHUNK + j] = contribution;
      }
      workgroupBarrier();
      if (lid < steps) {
        var sum = 0.0;
        for (var k = 0u; k < WG; k = k + 1u) { sum = sum + contributions[k * CHUNK + lid]; }
        let i = sequence + t0 + lid;
        if (base == 0u) { yAccumulator[i] = sum; } else { yAccumulator[i] = yAccumulator[i] + sum; }
      }
      workgroupBarrier();
    }
    if (live) { lastState[channel * N + n] = toStorage(state, params.infinityBits); }
  }
  // Invocation lid wrote yAccumulator at times ≡ lid (mod CHUNK) itself, so no barrier is needed here.
  for (var t = lid; t < L; t = t + WG) {
    let i = sequence + t;
    var out = 0.0;
    if (N > 0u) { out = yAccumulator[i]; }
    if (flag(HAS_D)) { out = out + f32(D[d]) * f32(u[i]); }
    ${body.gate}
    y[i] = toStorage(out, params.infinityBits);
  }
}
`;
}

/**
 * WGSL index of B or C element (n, t) of channel (b, d) in a projection layout (PROJECTION_KIND,
 * groups), for modules whose params have dim, length and stateSize and that define TIME_INVARIANT.
 */
export const PROJECTION_INDEX_WGSL = /* wgsl */ `
// Index of B or C element (n, t) of channel (b, d) in the layout kind/groups; group of d is ⌊d / (dim / G)⌋.
fn projectionIndex(kind: u32, groups: u32, b: u32, d: u32, n: u32, t: u32) -> u32 {
  let N = params.stateSize;
  if (kind == TIME_INVARIANT) { return d * N + n; }
  let g = d / (params.dim / groups);
  return ((b * groups + g) * N + n) * params.length + t;
}
`;

interface ChannelScanParts {
  functions: string;
  perState: string;
  perTime: string;
  update: string;
  gate: string;
}

/** WGSL log1p, PyTorch's softplus (threshold 20) and silu, shared with the ssd kernels. */
export const ACTIVATIONS_WGSL = /* wgsl */ `
// log(1 + y) for y ≥ 0 without cancellation: 2·atanh(s), s = y / (2 + y) ≤ 0.2 below 0.5 (series
// truncated below 1e-9 relative), the plain log above, where 1 + y ≥ 1.5 is well conditioned.
fn log1pNonNegative(y: f32) -> f32 {
  if (y < 0.5) {
    let s = y / (2.0 + y);
    let s2 = s * s;
    return 2.0 * s * (1.0 + s2 * (1.0 / 3.0 + s2 * (1.0 / 5.0 + s2 * (1.0 / 7.0 + s2 * (1.0 / 9.0 + s2 * (1.0 / 11.0))))));
  }
  return log(1.0 + y);
}

// PyTorch's softplus with threshold 20: the identity above it.
fn softplus(x: f32) -> f32 {
  if (x > 20.0) { return x; }
  return log1pNonNegative(exp(x));
}

fn silu(z: f32) -> f32 { return z / (1.0 + exp(-z)); }
`;

const selectiveScanParts: ChannelScanParts = {
  functions: /* wgsl */ `${ACTIVATIONS_WGSL}
// Whether the state resets at time t0 + j (seqIdx changes there), computed once by invocation j.
var<workgroup> chunkReset: array<u32, CHUNK>;
`,
  perState: /* wgsl */ `let decayRate = f32(A[d * N + nClamped]);`,
  perTime: /* wgsl */ `
        let i = sequence + t0 + lid;
        var dt = f32(delta[i]);
        if (flag(HAS_DELTA_BIAS)) { dt = dt + f32(deltaBias[d]); }
        if (flag(DELTA_SOFTPLUS)) { dt = softplus(dt); }
        chunkDecayInput[lid] = dt;
        chunkDriveInput[lid] = f32(u[i]);
        chunkReset[lid] = 0u;
        if (flag(HAS_RESETS) && f32(delta[params.channels * L + b * L + t0 + lid]) != 0.0) { chunkReset[lid] = 1u; }`,
  update: /* wgsl */ `let dt = chunkDecayInput[j];
          let decay = exp(dt * decayRate);
          let drive = dt * f32(B[projectionIndex(params.bKind, params.bGroups, b, d, nClamped, t)]) * chunkDriveInput[j];
          // Not decay·0: an overflowed exp times 0 is NaN.
          if (chunkReset[j] != 0u) { state = drive; } else { state = decay * state + drive; }`,
  gate: /* wgsl */ `if (flag(HAS_Z)) { out = out * silu(f32(z[i])); }`,
};

const ltiSsmParts: ChannelScanParts = {
  functions: '',
  perState: /* wgsl */ `let decay = f32(Abar[d * N + nClamped]);
    let inputGain = f32(Bbar[d * N + nClamped]);`,
  perTime: /* wgsl */ `chunkDriveInput[lid] = f32(u[sequence + t0 + lid]);`,
  update: /* wgsl */ `state = decay * state + inputGain * chunkDriveInput[j];`,
  gate: '',
};
