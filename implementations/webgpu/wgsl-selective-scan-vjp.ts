/**
 * WGSL of selective-scan's backward pass (spec/gradients.md, "selective-scan"), around the row
 * scans of wgsl-row-scan.ts, as Mamba's CUDA backward recomputes the forward and scans the adjoint:
 *   1. 'selective-scan adjoint inputs' (entry point `prepareRows`): one invocation per state row
 *      (b, d, n) and time t writes the row's decay a = exp(Δ·A) (0 at a seqIdx reset), drive
 *      x = B·(Δ·u) and adjoint drive c·g·ȳ = C·(silu(z)·ȳ), so that the forward states and the
 *      adjoint λ are the linear-recurrence scan and its adjoint over B·D·N rows;
 *   2. (the 'linear-recurrence scan' and 'linear-recurrence adjoint' modules, unchanged);
 *   3. 'selective-scan gradients': `elementGradients`, one invocation per (b, d, t), takes the
 *      chain rule back through exp, Δ·B·u, softplus, D and the gate, writing delta-bar, u-bar and
 *      z-bar and every shared parameter's per-element contribution (f32, in GPU memory), then
 *      `reduceParameters`, one workgroup per element of A, a time-invariant B or C, D and deltaBias,
 *      sums its batch·L contributions by a tree in workgroup memory, and `sumGroups`, one invocation
 *      per element of a per-time B or C, sums its group's few channels.
 * Several small tensors share a buffer (host-packed, offsets in the params) so each module binds
 * at most 10 storage buffers.
 */
import { ACTIVATIONS_WGSL, CHANNEL_SCAN_FLAGS, CHANNEL_SCAN_PARAM_FIELDS, PROJECTION_INDEX_WGSL, PROJECTION_KIND } from './wgsl-channel-scan.ts';
import { storageBindings, storagePrelude, type StorageType } from './storage-type.ts';

/** Invocations per workgroup of both modules. */
export const SELECTIVE_SCAN_VJP_WORKGROUP = 64;

/** Uniform layout (u32 each); see the Params struct below. */
export const SELECTIVE_SCAN_VJP_PARAM_WORDS = 16;

/** The two selective-scan backward modules. */
export type SelectiveScanVjpModule = 'selective-scan adjoint inputs' | 'selective-scan gradients';

/** Entry points of each module, in dispatch order. */
export const SELECTIVE_SCAN_VJP_ENTRY_POINTS: Readonly<Record<SelectiveScanVjpModule, readonly string[]>> = {
  'selective-scan adjoint inputs': ['prepareRows'],
  'selective-scan gradients': ['elementGradients', 'reduceParameters', 'sumGroups'],
};

/**
 * Binding slots of each module (slot 0 is the params). Host-packed: sequences = [u | ȳ | z] (each
 * batch·dim·L), delta = delta then seqIdx's reset flags (as the forward), parameters = [A | D |
 * deltaBias], projections = [B | C]. Outputs: channelGradients = [delta | u | z] bars,
 * parameterGradients = [A | B | C | D | deltaBias] bars; contributions is f32 scratch.
 */
export const SELECTIVE_SCAN_VJP_BINDINGS: Readonly<Record<SelectiveScanVjpModule, readonly string[]>> = {
  'selective-scan adjoint inputs': ['sequences', 'delta', 'parameters', 'projections', 'decay', 'drive', 'adjointDrive'],
  'selective-scan gradients': ['sequences', 'delta', 'parameters', 'projections', 'states', 'lambdaTimesPrevious', 'lambda', 'contributions', 'channelGradients', 'parameterGradients'],
};

/** Bindings each module writes. */
export const SELECTIVE_SCAN_VJP_WRITTEN: ReadonlySet<string> = new Set(['decay', 'drive', 'adjointDrive', 'contributions', 'channelGradients', 'parameterGradients']);

/** The WGSL of one backward module for one storage type. */
export function selectiveScanVjpShader(module: SelectiveScanVjpModule, storage: StorageType): string {
  const bindings = storageBindings(SELECTIVE_SCAN_VJP_BINDINGS[module], SELECTIVE_SCAN_VJP_WRITTEN, 'contributions');
  return /* wgsl */ `${storagePrelude(storage)}
struct Params {
${CHANNEL_SCAN_PARAM_FIELDS}
  bElements: u32,
  cElements: u32,
  batch: u32,
  unused0: u32,
  unused1: u32,
  unused2: u32,
}

const WG: u32 = ${SELECTIVE_SCAN_VJP_WORKGROUP}u;
const HAS_D: u32 = ${CHANNEL_SCAN_FLAGS.D}u;
const HAS_Z: u32 = ${CHANNEL_SCAN_FLAGS.z}u;
const HAS_DELTA_BIAS: u32 = ${CHANNEL_SCAN_FLAGS.deltaBias}u;
const DELTA_SOFTPLUS: u32 = ${CHANNEL_SCAN_FLAGS.deltaSoftplus}u;
const HAS_RESETS: u32 = ${CHANNEL_SCAN_FLAGS.resets}u;
const TIME_INVARIANT: u32 = ${PROJECTION_KIND.timeInvariant}u;

@group(0) @binding(0) var<uniform> params: Params;
${bindings}
${ACTIVATIONS_WGSL}
${PROJECTION_INDEX_WGSL}
fn flag(bit: u32) -> bool { return (params.flags & bit) != 0u; }

fn foldedIndex(wg: vec3<u32>, count: vec3<u32>, lid: u32) -> u32 {
  return (wg.x + wg.y * count.x) * WG + lid;
}

// batch·dim·L: the length of each part of sequences and channelGradients.
fn sequenceCount() -> u32 { return params.channels * params.length; }

// δ = delta + deltaBias, the step before softplus.
fn shiftedStep(channel: u32, t: u32) -> f32 {
  var dt = f32(delta[channel * params.length + t]);
  if (flag(HAS_DELTA_BIAS)) { dt = dt + f32(parameters[params.dim * params.stateSize + params.dim + channel % params.dim]); }
  return dt;
}

fn step(shifted: f32) -> f32 {
  if (flag(DELTA_SOFTPLUS)) { return softplus(shifted); }
  return shifted;
}

fn isReset(b: u32, t: u32) -> bool {
  return flag(HAS_RESETS) && f32(delta[sequenceCount() + b * params.length + t]) != 0.0;
}

fn gate(i: u32) -> f32 {
  if (flag(HAS_Z)) { return silu(f32(sequences[2u * sequenceCount() + i])); }
  return 1.0;
}

fn projectionB(b: u32, d: u32, n: u32, t: u32) -> f32 {
  return f32(projections[projectionIndex(params.bKind, params.bGroups, b, d, n, t)]);
}

fn projectionC(b: u32, d: u32, n: u32, t: u32) -> f32 {
  return f32(projections[params.bElements + projectionIndex(params.cKind, params.cGroups, b, d, n, t)]);
}

${module === 'selective-scan adjoint inputs' ? PREPARE_ROWS : GRADIENTS}
`;
}

// Rows are (b, d, n) in h0's and lastState's order: row = channel·N + n, element row·L + t.
const PREPARE_ROWS = /* wgsl */ `
@compute @workgroup_size(WG)
fn prepareRows(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) count: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let e = foldedIndex(wg, count, lid);
  let L = params.length;
  let N = params.stateSize;
  if (e >= params.channels * N * L) { return; }
  let row = e / L;
  let t = e % L;
  let channel = row / N;
  let n = row % N;
  let b = channel / params.dim;
  let d = channel % params.dim;
  let i = channel * L + t;
  let dt = step(shiftedStep(channel, t));
  var a = 0.0;
  if (!isReset(b, t)) { a = exp(dt * f32(parameters[d * N + n])); }
  decay[e] = toStorage(a, params.infinityBits);
  drive[e] = toStorage(projectionB(b, d, n, t) * (dt * f32(sequences[i])), params.infinityBits);
  adjointDrive[e] = toStorage(projectionC(b, d, n, t) * (gate(i) * f32(sequences[sequenceCount() + i])), params.infinityBits);
}
`;

// contributions: [A | B | C] per state element (row·L + t, R = channels·N·L each), then [D | deltaBias]
// per channel element (channel·L + t, S each); reduceParameters sums them into parameterGradients.
const GRADIENTS = /* wgsl */ `
// softplus'(δ) as PyTorch's softplus_backward: σ(δ) = e/(e + 1) at or below the threshold 20, else 1.
fn softplusDerivative(x: f32) -> f32 {
  if (x > 20.0) { return 1.0; }
  let e = exp(x);
  return e / (e + 1.0);
}

// silu'(z) = σ·(1 + z·(1 − σ)), PyTorch's silu_backward.
fn siluDerivative(z: f32) -> f32 {
  let s = 1.0 / (1.0 + exp(-z));
  return s * (1.0 + z * (1.0 - s));
}

@compute @workgroup_size(WG)
fn elementGradients(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) count: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
  let i = foldedIndex(wg, count, lid);
  let S = sequenceCount();
  if (i >= S) { return; }
  let L = params.length;
  let N = params.stateSize;
  let R = S * N;
  let channel = i / L;
  let t = i % L;
  let b = channel / params.dim;
  let d = channel % params.dim;
  let shifted = shiftedStep(channel, t);
  let dt = step(shifted);
  let u = f32(sequences[i]);
  let yBar = f32(sequences[S + i]);
  let gy = gate(i) * yBar;
  let reset = isReset(b, t);
  var duBar = 0.0;
  var stepBar = 0.0;
  var inner = 0.0;
  for (var n = 0u; n < N; n = n + 1u) {
    let k = (channel * N + n) * L + t;
    let decayRate = f32(parameters[d * N + n]);
    let lambdaValue = f32(lambda[k]);
    let state = f32(states[k]);
    duBar = duBar + lambdaValue * projectionB(b, d, n, t);
    contributions[R + k] = lambdaValue * (dt * u);
    contributions[2u * R + k] = gy * state;
    inner = inner + projectionC(b, d, n, t) * state;
    // A reset's decay is the constant 0: nothing flows to Δ or A through it.
    var exponentBar = 0.0;
    if (!reset) { exponentBar = f32(lambdaTimesPrevious[k]) * exp(dt * decayRate); }
    stepBar = stepBar + exponentBar * decayRate;
    contributions[k] = exponentBar * dt;
  }
  stepBar = stepBar + duBar * u;
  var uBar = duBar * dt;
  if (flag(HAS_D)) {
    let skipWeight = f32(parameters[params.dim * N + d]);
    uBar = uBar + gy * skipWeight;
    inner = inner + skipWeight * u;
  }
  var deltaBar = stepBar;
  if (flag(DELTA_SOFTPLUS)) { deltaBar = stepBar * softplusDerivative(shifted); }
  contributions[3u * R + i] = gy * u;
  contributions[3u * R + S + i] = deltaBar;
  channelGradients[i] = toStorage(deltaBar, params.infinityBits);
  channelGradients[S + i] = toStorage(uBar, params.infinityBits);
  if (flag(HAS_Z)) {
    let z = f32(sequences[2u * S + i]);
    channelGradients[2u * S + i] = toStorage(yBar * inner * siluDerivative(z), params.infinityBits);
  }
}

// The contributions summed into one element of parameterGradients: term j at
// first + (j / inner)·outerStride + (j % inner)·innerStride, j < count.
struct Terms {
  first: u32,
  count: u32,
  inner: u32,
  innerStride: u32,
  outerStride: u32,
}

// A (dim, N) or a time-invariant B/C (dim, N) element (d, n): over (b, t) of the rows (b, d, n).
fn perStateTerms(source: u32, d: u32, n: u32) -> Terms {
  let L = params.length;
  let N = params.stateSize;
  return Terms(source + (d * N + n) * L, params.batch * L, L, 1u, params.dim * N * L);
}

// A B/C element of layout kind/groups: time-invariant as A; per time (b, g, n, t): over the group's channels.
fn projectionTerms(source: u32, kind: u32, groups: u32, o: u32) -> Terms {
  let L = params.length;
  let N = params.stateSize;
  if (kind == TIME_INVARIANT) { return perStateTerms(source, o / N, o % N); }
  let t = o % L;
  let n = (o / L) % N;
  let g = (o / (L * N)) % groups;
  let b = o / (L * N * groups);
  let perGroup = params.dim / groups;
  return Terms(source + ((b * params.dim + g * perGroup) * N + n) * L + t, perGroup, perGroup, N * L, 0u);
}

// D or deltaBias element d: over (b, t) of the channels (b, d).
fn perChannelTerms(source: u32, d: u32) -> Terms {
  let L = params.length;
  return Terms(source + d * L, params.batch * L, L, 1u, params.dim * L);
}

fn termsOf(o: u32) -> Terms {
  let N = params.stateSize;
  let R = sequenceCount() * N;
  let S = sequenceCount();
  let aEnd = params.dim * N;
  let bEnd = aEnd + params.bElements;
  let cEnd = bEnd + params.cElements;
  if (o < aEnd) { return perStateTerms(0u, o / N, o % N); }
  if (o < bEnd) { return projectionTerms(R, params.bKind, params.bGroups, o - aEnd); }
  if (o < cEnd) { return projectionTerms(2u * R, params.cKind, params.cGroups, o - bEnd); }
  if (o < cEnd + params.dim) { return perChannelTerms(3u * R, o - cEnd); }
  return perChannelTerms(3u * R + S, o - cEnd - params.dim);
}

// The elements summed over batch and time (A, time-invariant B and C, D, deltaBias), in
// parameterGradients' order: the w-th of them, for w < longSums().
fn longSumOutput(w: u32) -> u32 {
  var rest = w;
  let aEnd = params.dim * params.stateSize;
  if (rest < aEnd) { return rest; }
  rest = rest - aEnd;
  if (params.bKind == TIME_INVARIANT) {
    if (rest < params.bElements) { return aEnd + rest; }
    rest = rest - params.bElements;
  }
  if (params.cKind == TIME_INVARIANT) {
    if (rest < params.cElements) { return aEnd + params.bElements + rest; }
    rest = rest - params.cElements;
  }
  return aEnd + params.bElements + params.cElements + rest;
}

fn longSums() -> u32 {
  var count = params.dim * params.stateSize + 2u * params.dim;
  if (params.bKind == TIME_INVARIANT) { count = count + params.bElements; }
  if (params.cKind == TIME_INVARIANT) { count = count + params.cElements; }
  return count;
}

var<workgroup> partialSums: array<f32, WG>;

// One workgroup per element summed over batch and time (batch·L terms): strided partial sums, then a tree.
@compute @workgroup_size(WG)
fn reduceParameters(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) count: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
  let w = wg.x + wg.y * count.x;
  // Uniform per workgroup, so every invocation returns or none does (barriers below).
  if (w >= longSums()) { return; }
  let o = longSumOutput(w);
  let terms = termsOf(o);
  var sum = 0.0;
  for (var j = lid; j < terms.count; j = j + WG) {
    sum = sum + contributions[terms.first + (j / terms.inner) * terms.outerStride + (j % terms.inner) * terms.innerStride];
  }
  partialSums[lid] = sum;
  workgroupBarrier();
  for (var width = WG / 2u; width > 0u; width = width / 2u) {
    if (lid < width) { partialSums[lid] = partialSums[lid] + partialSums[lid + width]; }
    workgroupBarrier();
  }
  if (lid == 0u) { parameterGradients[o] = toStorage(partialSums[0], params.infinityBits); }
}

// One invocation per element of a per-time B or C (b, g, n, t): the few channels of its group, in order.
@compute @workgroup_size(WG)
fn sumGroups(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) count: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let e = foldedIndex(wg, count, lid);
  let aEnd = params.dim * params.stateSize;
  var o = aEnd + e;
  if (params.bKind == TIME_INVARIANT) { o = o + params.bElements; }
  let bEnd = aEnd + params.bElements;
  let cEnd = bEnd + params.cElements;
  // Past the per-time B (if any) lies C; a time-invariant C is summed by reduceParameters.
  if (o >= cEnd || (o >= bEnd && params.cKind == TIME_INVARIANT)) { return; }
  let terms = termsOf(o);
  var sum = 0.0;
  for (var j = 0u; j < terms.count; j = j + 1u) {
    sum = sum + contributions[terms.first + (j / terms.inner) * terms.outerStride + (j % terms.inner) * terms.innerStride];
  }
  parameterGradients[o] = toStorage(sum, params.infinityBits);
}
`;
