/**
 * The sequential loop of mamba3-siso for one head (b, h): mamba_ssm's mamba3_siso_step_ref token
 * after token (spec/families/mamba3-siso/mamba3-siso.md), every operation rounded by `round`
 * (Math.fround in float32, identity in float64). Self-contained (no outer references) because
 * specialise.ts compiles a copy of its source text per rounding.
 */
import type { Round, Storage } from './kernels.ts';

/** The read-only tensors a head reads (a run's, or a step's with L = 1) and its initial states (null: zero). */
export interface Mamba3HeadInputs {
  readonly Q: Float32Array;
  readonly K: Float32Array;
  readonly V: Float32Array;
  readonly ADT: Float32Array;
  readonly DT: Float32Array;
  readonly Trap: Float32Array;
  readonly QBias: Float32Array;
  readonly KBias: Float32Array;
  readonly Angles: Float32Array;
  readonly D: Float32Array | null;
  readonly Z: Float32Array | null;
  readonly angleState: Float32Array | null;
  readonly ssmState: Float32Array | null;
  readonly kState: Float32Array | null;
  readonly vState: Float32Array | null;
}

/** Where a head writes: y (batch, L, H, P) and the four states (batch, H, …). */
export interface Mamba3HeadOutputs {
  readonly y: Storage;
  readonly angle: Storage;
  readonly ssm: Storage;
  readonly k: Storage;
  readonly v: Storage;
}

/**
 * Head (b, h) of a problem of sizes (L, H, G, P, N, A): θ ← (θ + tanh(a)·π·δ) mod 2π, q̂ and k̂
 * rotated pairwise, S ← α·S + β·ṽ⊗k̃ + γ·v⊗k̂, y = (S·q̂ + D·v)·z·σ(z), k̃ ← k̂, ṽ ← v.
 */
export function mamba3SisoHead(
  round: Round,
  L: number,
  H: number,
  G: number,
  P: number,
  N: number,
  A: number,
  b: number,
  h: number,
  inputs: Mamba3HeadInputs,
  outputs: Mamba3HeadOutputs,
): void {
  const { Q, K, V, ADT, DT, Trap, QBias, KBias, Angles, D, Z } = inputs;
  const head = b * H + h;
  const g = Math.floor(h / (H / G));
  const twoPi = round(2 * Math.PI);
  const pi = round(Math.PI);
  const theta = new Float64Array(A);
  const S = new Float64Array(P * N);
  const kPrev = new Float64Array(N);
  const vPrev = new Float64Array(P);
  const qHat = new Float64Array(N);
  const kHat = new Float64Array(N);
  for (let i = 0; i < A; i++) theta[i] = inputs.angleState === null ? 0 : inputs.angleState[head * A + i];
  for (let j = 0; j < P * N; j++) S[j] = inputs.ssmState === null ? 0 : inputs.ssmState[head * P * N + j];
  for (let n = 0; n < N; n++) kPrev[n] = inputs.kState === null ? 0 : inputs.kState[head * N + n];
  for (let p = 0; p < P; p++) vPrev[p] = inputs.vState === null ? 0 : inputs.vState[head * P + p];
  for (let t = 0; t < L; t++) {
    const at = head * L + t;
    const delta = DT[at];
    const alpha = round(Math.exp(ADT[at]));
    const lambda = round(1 / round(1 + round(Math.exp(-Trap[at]))));
    const beta = round(round(round(1 - lambda) * delta) * alpha);
    const gamma = round(lambda * delta);
    for (let i = 0; i < A; i++) {
      const increment = round(round(round(Math.tanh(Angles[((b * L + t) * H + h) * A + i])) * pi) * delta);
      const sum = round(theta[i] + increment);
      theta[i] = round(sum - round(twoPi * Math.floor(round(sum / twoPi))));
    }
    const qk = ((b * L + t) * G + g) * N;
    for (let j = 0; j < N / 2; j++) {
      const cos = j < A ? round(Math.cos(theta[j])) : 1;
      const sin = j < A ? round(Math.sin(theta[j])) : 0;
      const q0 = round(Q[qk + 2 * j] + QBias[h * N + 2 * j]);
      const q1 = round(Q[qk + 2 * j + 1] + QBias[h * N + 2 * j + 1]);
      const k0 = round(K[qk + 2 * j] + KBias[h * N + 2 * j]);
      const k1 = round(K[qk + 2 * j + 1] + KBias[h * N + 2 * j + 1]);
      qHat[2 * j] = round(round(q0 * cos) - round(q1 * sin));
      qHat[2 * j + 1] = round(round(q0 * sin) + round(q1 * cos));
      kHat[2 * j] = round(round(k0 * cos) - round(k1 * sin));
      kHat[2 * j + 1] = round(round(k0 * sin) + round(k1 * cos));
    }
    const vt = ((b * L + t) * H + h) * P;
    for (let p = 0; p < P; p++) {
      const v = V[vt + p];
      const previous = round(beta * vPrev[p]);
      const current = round(gamma * v);
      let o = 0;
      for (let n = 0; n < N; n++) {
        const j = p * N + n;
        S[j] = round(round(round(alpha * S[j]) + round(previous * kPrev[n])) + round(current * kHat[n]));
        o = round(o + round(S[j] * qHat[n]));
      }
      if (D !== null) o = round(o + round(D[h] * v));
      if (Z !== null) {
        const z = Z[vt + p];
        o = round(o * round(z * round(1 / round(1 + round(Math.exp(-z))))));
      }
      outputs.y[vt + p] = o;
    }
    for (let n = 0; n < N; n++) kPrev[n] = kHat[n];
    for (let p = 0; p < P; p++) vPrev[p] = V[vt + p];
  }
  for (let i = 0; i < A; i++) outputs.angle[head * A + i] = theta[i];
  for (let j = 0; j < P * N; j++) outputs.ssm[head * P * N + j] = S[j];
  for (let n = 0; n < N; n++) outputs.k[head * N + n] = kPrev[n];
  for (let p = 0; p < P; p++) outputs.v[head * P + p] = vPrev[p];
}
