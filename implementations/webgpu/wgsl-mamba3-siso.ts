/**
 * WGSL for mamba3-siso (Mamba-3 SISO), sequential in time: one workgroup per (batch, head, p)
 * lane and one invocation per state channel n, each carrying S[p][n], the previous token's
 * rotated key k̃[n] and the angle θ of its pair ⌊n/2⌋ through the L steps, as the channel scan of
 * selective-scan does (wgsl-channel-scan.ts): time runs in chunks of CHUNK steps; invocation j
 * first computes the chunk's per-step values every channel of the lane needs (α, β·ṽ_{t−1}[p],
 * γ·v_t[p], DT); each invocation then updates its channel over the chunk and writes S·q̂ into
 * workgroup memory, and invocation j sums the N contributions of step t0 + j into an f32
 * accumulator. States beyond WG are further passes over time adding into the same accumulator
 * (each pass recomputes its channels' angles and keys; nothing crosses channels but the sum).
 * A last loop adds D·v, applies the gate silu(Z) and stores y.
 *
 * The angle state is kept as a 32-bit fixed-point fraction of a turn: θ = turns·2π/2³², so the
 * reduction mod 2π is the u32 wrap-around and accumulating it is exact; each step adds
 * tanh(Angles)·DT/2 turns (π·tanh·DT radians) rounded to the nearest 2⁻³² turn (1.5·10⁻⁹ rad).
 * Its only float32 errors are tanh's and the product's, relative to each step's own term, which
 * the family's rotary tolerance term allows (a float32 angle summed and reduced step by step loses
 * up to u·2π per step whatever the step's size, and compensated sums depend on the compiler keeping
 * float additions unreassociated). cos, sin and tanh are polynomials here:
 * WGSL's built-ins are allowed 2⁻¹¹ absolute error, far beyond the tolerance's few units of u.
 */
import { storageBindings, storagePrelude, type StorageType } from './storage-type.ts';
import { ACTIVATIONS_WGSL } from './wgsl-channel-scan.ts';

/** Invocations per workgroup (state channels handled at once) and time steps per chunk; equal by design. */
export const MAMBA3_SISO_WORKGROUP = 32;

/** Flag bits of the params' flags word (the input states are always bound, zeros when absent). */
export const MAMBA3_SISO_FLAGS = { D: 1, Z: 2 } as const;

/**
 * Uniform layout (u32 each): batch, length, heads, headdim, groups, stateSize, angles, flags,
 * infinityBits, lanes (batch·H·max(P, 1)), lanesPerHead (max(P, 1)), one unused word.
 */
export const MAMBA3_SISO_PARAM_WORDS = 12;

/**
 * A storage binding of the mamba3-siso module. gates packs ADT, DT, Trap (each batch·H·L);
 * headTerms packs QBias (H·N), KBias (H·N), D (H); states and finalStates pack the angle
 * (batch·H·A), SSM (batch·H·P·N), key (batch·H·N) and value (batch·H·P) states, in that order.
 */
export type Mamba3SisoBinding = 'Q' | 'K' | 'V' | 'gates' | 'Angles' | 'headTerms' | 'Z' | 'states' | 'yAccumulator' | 'y' | 'finalStates';

/** Binding slots of the mamba3-siso module, in order; slot 0 is the uniform params. */
export const MAMBA3_SISO_BINDINGS: readonly Mamba3SisoBinding[] = ['Q', 'K', 'V', 'gates', 'Angles', 'headTerms', 'Z', 'states', 'yAccumulator', 'y', 'finalStates'];

/** Bindings the kernel writes. */
export const MAMBA3_SISO_WRITTEN: ReadonlySet<Mamba3SisoBinding> = new Set(['yAccumulator', 'y', 'finalStates']);

/** The entry point. */
export const MAMBA3_SISO_ENTRY_POINTS = ['scanLanes'] as const;

/** Taylor coefficients of tanh(x)/x in x² (through x²¹); below TANH_SERIES_LIMIT the series' rest is under 10⁻⁹ relative. */
const TANH_SERIES = [1, -1 / 3, 2 / 15, -17 / 315, 62 / 2835, -1382 / 155925, 21844 / 6081075, -929569 / 638512875, 6404582 / 10854718875, -443861162 / 1856156927625, 18888466084 / 194896477400625];
const TANH_SERIES_LIMIT = 0.55;

/** Horner's form of Σ c_k·y^k with the coefficients as WGSL f32 literals. */
function horner(coefficients: readonly number[], variable: string): string {
  return coefficients.reduceRight((inner, c, k) => (k === coefficients.length - 1 ? `${c.toPrecision(17)}` : `${c.toPrecision(17)} + ${variable} * (${inner})`), '');
}

/** Reciprocal factorials 1/k! for k = 0 … n. */
function inverseFactorials(n: number): number[] {
  const out = [1];
  for (let k = 1; k <= n; k++) out.push(out[k - 1] / k);
  return out;
}

const SIN_SERIES = inverseFactorials(11).filter((_, k) => k % 2 === 1).map((c, i) => (i % 2 === 0 ? c : -c)); // sin(r)/r in r²
const COS_SERIES = inverseFactorials(12).filter((_, k) => k % 2 === 0).map((c, i) => (i % 2 === 0 ? c : -c)); // cos(r) in r²

/** WGSL of the accurate tanh, the turn arithmetic, and cos and sin of a turn count. */
const ROTARY_WGSL = /* wgsl */ `
// 2π / 2³²: radians per unit of the fixed-point angle.
const RADIANS_PER_UNIT: f32 = ${((2 * Math.PI) / 2 ** 32).toPrecision(17)};
const INVERSE_TWO_PI: f32 = ${(1 / (2 * Math.PI)).toPrecision(17)};

// tanh to a few units of u: the Taylor series below ${TANH_SERIES_LIMIT}, (1 − e)/(1 + e) with e = exp(−2|x|) ≤ 0.34 above (no cancellation).
fn accurateTanh(x: f32) -> f32 {
  let m = abs(x);
  if (m < ${TANH_SERIES_LIMIT}) {
    let y = m * m;
    return x * (${horner(TANH_SERIES, 'y')});
  }
  let e = exp(-2.0 * m);
  return sign(x) * ((1.0 - e) / (1.0 + e));
}

fn sigmoid(x: f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }

// A signed number of turns as the nearest multiple of 2⁻³² turn, mod 1 turn. Its fraction
// m − floor(m) is exact in float32 and, times 2³², an integer unless below 2⁻⁸ turn.
fn turnsOf(x: f32) -> u32 {
  let m = abs(x);
  let fixed = u32(round((m - floor(m)) * 4294967296.0));
  return select(fixed, 0u - fixed, x < 0.0);
}

fn radiansOf(turns: u32) -> f32 { return f32(turns) * RADIANS_PER_UNIT; }

// (cos θ, sin θ) of θ = turns·2π/2³²: the quadrant q from the top bits, the rest r ∈ [−π/4, π/4)
// from an exact integer difference, then Taylor polynomials of r (rest under 10⁻⁹).
fn cosSinOf(turns: u32) -> vec2<f32> {
  let q = ((turns + 0x20000000u) >> 30u) & 3u;
  let r = f32(bitcast<i32>(turns - (q << 30u))) * RADIANS_PER_UNIT;
  let r2 = r * r;
  let s = r * (${horner(SIN_SERIES, 'r2')});
  let c = 1.0 - r2 * (0.5 - r2 * (${horner(COS_SERIES.slice(2).map((v) => v), 'r2')}));
  switch q {
    case 0u: { return vec2<f32>(c, s); }
    case 1u: { return vec2<f32>(-s, c); }
    case 2u: { return vec2<f32>(-c, -s); }
    default: { return vec2<f32>(s, -c); }
  }
}
`;

/** The WGSL of rotatedQ or rotatedK: element n of Q or K at a step, with its head's bias, rotated by the angle cs of its pair. */
function rotatedReader(tensor: 'Q' | 'K'): string {
  return /* wgsl */ `fn rotated${tensor}(row: u32, bias: u32, n: u32, rotated: bool, cs: vec2<f32>) -> f32 {
  if (!rotated) { return f32(${tensor}[row + n]) + f32(headTerms[bias + n]); }
  let pair = n & ~1u;
  let x0 = f32(${tensor}[row + pair]) + f32(headTerms[bias + pair]);
  let x1 = f32(${tensor}[row + pair + 1u]) + f32(headTerms[bias + pair + 1u]);
  return select(x0 * cs.y + x1 * cs.x, x0 * cs.x - x1 * cs.y, n == pair);
}
`;
}

/** The WGSL module of mamba3-siso for one storage type (entry point `scanLanes`). */
export function mamba3SisoShader(storage: StorageType): string {
  const bindings = storageBindings(MAMBA3_SISO_BINDINGS, MAMBA3_SISO_WRITTEN, 'yAccumulator');
  return /* wgsl */ `${storagePrelude(storage)}
struct Params {
  batch: u32,
  length: u32,
  heads: u32,
  headdim: u32,
  groups: u32,
  stateSize: u32,
  angles: u32,
  flags: u32,
  infinityBits: u32,
  lanes: u32,
  lanesPerHead: u32,
  unused0: u32,
}

const WG: u32 = ${MAMBA3_SISO_WORKGROUP}u;
const CHUNK: u32 = WG;
const HAS_D: u32 = ${MAMBA3_SISO_FLAGS.D}u;
const HAS_Z: u32 = ${MAMBA3_SISO_FLAGS.Z}u;

@group(0) @binding(0) var<uniform> params: Params;
${bindings}

// contributions[k * CHUNK + j]: S[p][n]·q̂[n] of the channel n = base + k at step t0 + j.
var<workgroup> contributions: array<f32, WG * CHUNK>;
// Per-step values of the lane at t0 + j, computed once by invocation j.
var<workgroup> stepAlpha: array<f32, CHUNK>;
var<workgroup> stepBetaV: array<f32, CHUNK>;
var<workgroup> stepGammaV: array<f32, CHUNK>;
var<workgroup> stepDt: array<f32, CHUNK>;

${ACTIVATIONS_WGSL}
${ROTARY_WGSL}

fn flag(bit: u32) -> bool { return (params.flags & bit) != 0u; }

fn valueIndex(b: u32, t: u32, h: u32, p: u32) -> u32 {
  return ((b * params.length + t) * params.heads + h) * params.headdim + p;
}

// Offsets of the four states inside states and finalStates.
fn ssmStatesOffset() -> u32 { return params.batch * params.heads * params.angles; }
fn keyStatesOffset() -> u32 { return ssmStatesOffset() + params.batch * params.heads * params.headdim * params.stateSize; }
fn valueStatesOffset() -> u32 { return keyStatesOffset() + params.batch * params.heads * params.stateSize; }

// Element n of Q or K (with its head's bias) at step t, rotated by the angle cs of its pair.
${rotatedReader('Q')}
${rotatedReader('K')}
@compute @workgroup_size(WG)
fn scanLanes(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) count: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let lane = wg.x + wg.y * count.x;
  if (lane >= params.lanes) { return; }
  let H = params.heads;
  let P = params.headdim;
  let N = params.stateSize;
  let A = params.angles;
  let L = params.length;
  let p = lane % params.lanesPerHead;
  let h = (lane / params.lanesPerHead) % H;
  let b = lane / (params.lanesPerHead * H);
  // With P = 0 the lane still carries the angle and key states (p = 0), with no value channel.
  let pLive = p < P;
  let g = h / (H / params.groups);
  let head = b * H + h;
  let stepRow = head * L;
  let stepsLength = params.batch * H * L;
  let qBias = h * N;
  let kBias = H * N + h * N;
  for (var base = 0u; base < N; base = base + WG) {
    let n = base + lid;
    let live = n < N;
    let nClamped = min(n, N - 1u);
    let pair = nClamped / 2u;
    let rotated = pair < A;
    var state = 0.0;
    var keyPrevious = f32(states[keyStatesOffset() + head * N + nClamped]);
    var turns = 0u;
    if (rotated) { turns = turnsOf(f32(states[head * A + pair]) * INVERSE_TWO_PI); }
    if (pLive) { state = f32(states[ssmStatesOffset() + (head * P + p) * N + nClamped]); }
    for (var t0 = 0u; t0 < L; t0 = t0 + CHUNK) {
      let steps = min(CHUNK, L - t0);
      if (lid < steps) {
        let t = t0 + lid;
        let adt = f32(gates[stepRow + t]);
        let dt = f32(gates[stepsLength + stepRow + t]);
        let trap = f32(gates[2u * stepsLength + stepRow + t]);
        var v = 0.0;
        var vPrevious = 0.0;
        if (pLive) {
          v = f32(V[valueIndex(b, t, h, p)]);
          if (t == 0u) { vPrevious = f32(states[valueStatesOffset() + head * P + p]); } else { vPrevious = f32(V[valueIndex(b, t - 1u, h, p)]); }
        }
        let alpha = exp(adt);
        // 1 − λ as sigmoid(−Trap): no cancellation when λ is near 1.
        stepAlpha[lid] = alpha;
        stepBetaV[lid] = sigmoid(-trap) * dt * alpha * vPrevious;
        stepGammaV[lid] = sigmoid(trap) * dt * v;
        stepDt[lid] = dt;
      }
      workgroupBarrier();
      for (var j = 0u; j < steps; j = j + 1u) {
        let t = t0 + j;
        var contribution = 0.0;
        if (live) {
          var cs = vec2<f32>(1.0, 0.0);
          if (rotated) {
            // π·tanh·DT radians are tanh·DT/2 turns.
            let angle = f32(Angles[((b * L + t) * H + h) * A + pair]);
            turns = turns + turnsOf(accurateTanh(angle) * stepDt[j] * 0.5);
            cs = cosSinOf(turns);
          }
          let row = ((b * L + t) * params.groups + g) * N;
          let keyNow = rotatedK(row, kBias, n, rotated, cs);
          let query = rotatedQ(row, qBias, n, rotated, cs);
          state = stepAlpha[j] * state + stepBetaV[j] * keyPrevious + stepGammaV[j] * keyNow;
          keyPrevious = keyNow;
          contribution = state * query;
        }
        contributions[lid * CHUNK + j] = contribution;
      }
      workgroupBarrier();
      if (lid < steps && pLive) {
        var sum = 0.0;
        for (var k = 0u; k < WG; k = k + 1u) { sum = sum + contributions[k * CHUNK + lid]; }
        let i = valueIndex(b, t0 + lid, h, p);
        if (base == 0u) { yAccumulator[i] = sum; } else { yAccumulator[i] = yAccumulator[i] + sum; }
      }
      workgroupBarrier();
    }
    if (live) {
      if (pLive) { finalStates[ssmStatesOffset() + (head * P + p) * N + n] = toStorage(state, params.infinityBits); }
      if (p == 0u) {
        finalStates[keyStatesOffset() + head * N + n] = toStorage(keyPrevious, params.infinityBits);
        // With no step the angle state is returned as given, unreduced (the spec allows either).
        if (rotated && n == 2u * pair) {
          var angle = f32(states[head * A + pair]);
          if (L > 0u) { angle = radiansOf(turns); }
          finalStates[head * A + pair] = toStorage(angle, params.infinityBits);
        }
      }
    }
  }
  if (!pLive) { return; }
  if (lid == 0u) {
    var vLast = f32(states[valueStatesOffset() + head * P + p]);
    if (L > 0u) { vLast = f32(V[valueIndex(b, L - 1u, h, p)]); }
    finalStates[valueStatesOffset() + head * P + p] = toStorage(vLast, params.infinityBits);
  }
  // Invocation lid wrote yAccumulator at steps ≡ lid (mod CHUNK) itself, so no barrier is needed here.
  for (var t = lid; t < L; t = t + WG) {
    let i = valueIndex(b, t, h, p);
    var out = yAccumulator[i];
    if (flag(HAS_D)) { out = out + f32(headTerms[2u * H * N + h]) * f32(V[i]); }
    if (flag(HAS_Z)) { out = out * silu(f32(Z[i])); }
    y[i] = toStorage(out, params.infinityBits);
  }
}
`;
}
