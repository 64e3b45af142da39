/**
 * Mamba-3 SISO chunked (the Mamba-2 matrix form inside a chunk, the trapezoidal update written as
 * two key/value pairs per token), written once and parameterised by `round` as the sequential
 * loops are: the identity for float64, Math.fround for float32 rounded after every operation.
 * Cloned per rounding by ../sequential/specialise.ts, so the kernel is self-contained: only its
 * parameters, locals and the global Math.
 *
 * One head (b, h), g = ⌊h/(H/G)⌋, chunk after chunk of Q tokens (the last one ragged). The chunk
 * enters with the carried state: the phase θ⁰ (A angles), S⁰ (P×N), the previous token k̃⁰, ṽ⁰.
 * Per token l of the chunk, with a_l = ADT_l and ↓ = round:
 *   ψ_{l,i}   ← ↓(ψ_{l−1,i} + ↓(↓(↓tanh(Angles_{l,i})·↓π)·δ_l))   the phase turned inside the chunk, unreduced
 *   θ_{l,i}   ← red(↓(θ⁰_i + ψ_{l,i})), red(x) = ↓(x − ↓(↓2π·⌊↓(x/↓2π)⌋))  the rotary phase, carried
 *   q̂_l, k̂_l  ← (Q + QBias), (K + KBias) rotated pairwise by θ_l: ↓(↓(x₀·↓cos) − ↓(x₁·↓sin)), ↓(↓(x₀·↓sin) + ↓(x₁·↓cos))
 *   λ ← ↓σ(Trap_l);  β_l ← ↓(↓(↓(1 − λ)·δ_l)·↓exp(a_l));  γ_l ← ↓(λ·δ_l)
 *   keys_0 = k̃⁰, keys_{l+1} = k̂_l; values_0 = ṽ⁰, values_{l+1} = v_l   token l's β pair is (keys_l, values_l), its γ pair (keys_{l+1}, values_{l+1})
 *   Xβ_l ← ↓(β_l·values_l),  Xγ_l ← ↓(γ_l·values_{l+1})              per channel p
 *   cum_l ← ↓(cum_{l−1} + a_l);  seg_{l,s} ← ↓(seg_{l−1,s} + a_l), seg_{s,s} = 0
 *   o_l   ← ↓(↓(Σ_n ↓(S⁰_{p,n}·q̂_{l,n})) · ↓exp(cum_l))                state → output
 *   o_l   ← o_l + Σ_{s ≤ l} ↓(↓(↓(q̂_l·keys_s)·E)·Xβ_s) + ↓(↓(↓(q̂_l·keys_{s+1})·E)·Xγ_s),  E = ↓exp(seg_{l,s})
 *   y_l   ← ↓(↓(o_l + ↓(D·v_l)) · ↓silu(Z_l))                            D before the gate, as the sequential order
 *   S_{p,n} ← ↓(↓(↓exp(cum_end)·S⁰_{p,n}) + Σ_s ↓(↓(E_s·Xβ_{s,p})·keys_{s,n}) + ↓(↓(E_s·Xγ_{s,p})·keys_{s+1,n})), E_s = ↓exp(seg_{end,s})
 * and the next chunk enters with θ_end, that S, k̃ = k̂_end, ṽ = v_end. The β pair of a chunk's
 * first token is the carried previous token (kState, vState for the first chunk), never zero.
 */
import type { Round, Storage } from '../sequential/kernels.ts';

/** Scratch of one head's chunked evaluation for chunk size Q, in the precision's storage. */
export interface Mamba3ChunkScratch {
  /** S between chunks, (P, N). */
  readonly state: Storage;
  /** θ entering the chunk, then at each token; length A. */
  readonly phase: Storage;
  /** ψ, the phase turned since the chunk's start; length A. */
  readonly turned: Storage;
  /** θ⁰, the phase the chunk entered with; length A. */
  readonly entering: Storage;
  /** q̂ of the chunk's tokens, (Q, N). */
  readonly qHat: Storage;
  /** keys_0 … keys_len, (Q + 1, N). */
  readonly keys: Storage;
  /** values_0 … values_len, (Q + 1, P). */
  readonly values: Storage;
  /** Xβ and Xγ, (Q, P) each. */
  readonly betaX: Storage;
  readonly gammaX: Storage;
  /** cum_l, ↓exp(cum_l), length Q. */
  readonly cumulative: Storage;
  readonly decayOut: Storage;
  /** seg_{l,s}, (Q, Q). */
  readonly segsum: Storage;
  /** q̂_l·keys_j of one row l, length Q + 1. */
  readonly gram: Storage;
  /** The chunk's outputs before they are stored, (Q, P). */
  readonly output: Storage;
}

/** Where one head's tensors start and how sizes lay them out (mamba_ssm's layouts; ../../spec/families/mamba3-siso/mamba3-siso.md). */
export interface Mamba3HeadSizes {
  readonly L: number;
  readonly H: number;
  readonly G: number;
  readonly P: number;
  readonly N: number;
  readonly A: number;
}

/**
 * One head (b, h) of the chunked mamba3-siso, chunk size Q: y at its (b, t, h, ·) positions and
 * the four final states at (b, h) of finalAngle, finalSsm, finalK, finalV. Absent inputs are null
 * (an absent state is zero).
 */
export function mamba3ChunkedHead(
  round: Round,
  sizes: Mamba3HeadSizes,
  Q: number,
  b: number,
  h: number,
  g: number,
  Qm: Float32Array,
  Km: Float32Array,
  V: Float32Array,
  ADT: Float32Array,
  DT: Float32Array,
  Trap: Float32Array,
  QBias: Float32Array,
  KBias: Float32Array,
  Angles: Float32Array,
  D: Float32Array | null,
  Z: Float32Array | null,
  angleState: Float32Array | null,
  ssmState: Float32Array | null,
  kState: Float32Array | null,
  vState: Float32Array | null,
  scratch: Mamba3ChunkScratch,
  y: Storage,
  finalAngle: Storage,
  finalSsm: Storage,
  finalK: Storage,
  finalV: Storage,
): void {
  const { L, H, G, P, N, A } = sizes;
  const { state, phase, turned, entering, qHat, keys, values, betaX, gammaX, cumulative, decayOut, segsum, gram, output } = scratch;
  const head = b * H + h;
  const PI = round(Math.PI);
  const TWO_PI = round(2 * Math.PI);
  for (let i = 0; i < A; i++) phase[i] = angleState === null ? 0 : angleState[head * A + i];
  for (let j = 0; j < P * N; j++) state[j] = ssmState === null ? 0 : ssmState[head * P * N + j];
  // The previous token entering the first chunk: keys_0, values_0 are carried from chunk to chunk.
  for (let n = 0; n < N; n++) keys[n] = kState === null ? 0 : kState[head * N + n];
  for (let p = 0; p < P; p++) values[p] = vState === null ? 0 : vState[head * P + p];
  for (let c0 = 0; c0 < L; c0 += Q) {
    const len = Math.min(Q, L - c0);
    for (let i = 0; i < A; i++) {
      entering[i] = phase[i];
      turned[i] = 0;
    }
    let cum = 0;
    for (let l = 0; l < len; l++) {
      const t = c0 + l;
      const timeAt = head * L + t;
      const delta = DT[timeAt];
      const a = ADT[timeAt];
      // The phase: turned from the chunk's start, added to the carried phase, reduced mod 2π.
      for (let i = 0; i < A; i++) {
        const increment = round(round(round(Math.tanh(Angles[((b * L + t) * H + h) * A + i])) * PI) * delta);
        turned[i] = round(turned[i] + increment);
        const x = round(entering[i] + turned[i]);
        phase[i] = round(x - round(TWO_PI * Math.floor(round(x / TWO_PI))));
      }
      const qkAt = ((b * L + t) * G + g) * N;
      const qRow = l * N;
      const kRow = (l + 1) * N;
      for (let j = 0; 2 * j < N; j++) {
        const n0 = 2 * j;
        const q0 = round(Qm[qkAt + n0] + QBias[h * N + n0]);
        const q1 = round(Qm[qkAt + n0 + 1] + QBias[h * N + n0 + 1]);
        const k0 = round(Km[qkAt + n0] + KBias[h * N + n0]);
        const k1 = round(Km[qkAt + n0 + 1] + KBias[h * N + n0 + 1]);
        if (j < A) {
          const cos = round(Math.cos(phase[j]));
          const sin = round(Math.sin(phase[j]));
          qHat[qRow + n0] = round(round(q0 * cos) - round(q1 * sin));
          qHat[qRow + n0 + 1] = round(round(q0 * sin) + round(q1 * cos));
          keys[kRow + n0] = round(round(k0 * cos) - round(k1 * sin));
          keys[kRow + n0 + 1] = round(round(k0 * sin) + round(k1 * cos));
        } else {
          qHat[qRow + n0] = q0;
          qHat[qRow + n0 + 1] = q1;
          keys[kRow + n0] = k0;
          keys[kRow + n0 + 1] = k1;
        }
      }
      const trap = Trap[timeAt];
      const lambda = trap >= 0 ? round(1 / round(1 + round(Math.exp(-trap)))) : round(round(Math.exp(trap)) / round(1 + round(Math.exp(trap))));
      const beta = round(round(round(1 - lambda) * delta) * round(Math.exp(a)));
      const gamma = round(lambda * delta);
      const vAt = ((b * L + t) * H + h) * P;
      for (let p = 0; p < P; p++) {
        const v = V[vAt + p];
        values[(l + 1) * P + p] = v;
        betaX[l * P + p] = round(beta * values[l * P + p]);
        gammaX[l * P + p] = round(gamma * v);
      }
      cum = round(cum + a);
      cumulative[l] = cum;
      decayOut[l] = round(Math.exp(cum));
      const row = l * Q;
      for (let s = 0; s < l; s++) segsum[row + s] = round(segsum[row - Q + s] + a);
      segsum[row + l] = 0;
    }

    // State → output, then the quadratic block over both pairs of every token s ≤ l.
    for (let l = 0; l < len; l++) {
      const qRow = l * N;
      const e = decayOut[l];
      for (let p = 0; p < P; p++) {
        let acc = 0;
        for (let n = 0; n < N; n++) acc = round(acc + round(state[p * N + n] * qHat[qRow + n]));
        output[l * P + p] = round(acc * e);
      }
      for (let j = 0; j <= l + 1; j++) {
        let acc = 0;
        for (let n = 0; n < N; n++) acc = round(acc + round(qHat[qRow + n] * keys[j * N + n]));
        gram[j] = acc;
      }
      for (let s = 0; s <= l; s++) {
        const E = round(Math.exp(segsum[l * Q + s]));
        const mb = round(gram[s] * E);
        const mg = round(gram[s + 1] * E);
        for (let p = 0; p < P; p++) {
          let o = output[l * P + p];
          o = round(o + round(mb * betaX[s * P + p]));
          o = round(o + round(mg * gammaX[s * P + p]));
          output[l * P + p] = o;
        }
      }
    }

    // D before the gate, then the chunk's outputs are stored.
    for (let l = 0; l < len; l++) {
      const vAt = ((b * L + c0 + l) * H + h) * P;
      for (let p = 0; p < P; p++) {
        let acc = output[l * P + p];
        if (D !== null) acc = round(acc + round(D[h] * V[vAt + p]));
        if (Z !== null) {
          const z = Z[vAt + p];
          acc = round(acc * round(z / round(1 + round(Math.exp(-z)))));
        }
        y[vAt + p] = acc;
      }
    }

    // The state carried into the next chunk: S⁰ decayed over the chunk plus the chunk's own pairs
    // (L's last row), summed in token order, β pair before γ pair.
    const endRow = (len - 1) * Q;
    const chunkDecay = decayOut[len - 1];
    for (let s = 0; s < len; s++) {
      const E = round(Math.exp(segsum[endRow + s]));
      for (let p = 0; p < P; p++) {
        betaX[s * P + p] = round(E * betaX[s * P + p]);
        gammaX[s * P + p] = round(E * gammaX[s * P + p]);
      }
    }
    for (let p = 0; p < P; p++) {
      for (let n = 0; n < N; n++) {
        let acc = round(chunkDecay * state[p * N + n]);
        for (let s = 0; s < len; s++) {
          acc = round(acc + round(betaX[s * P + p] * keys[s * N + n]));
          acc = round(acc + round(gammaX[s * P + p] * keys[(s + 1) * N + n]));
        }
        state[p * N + n] = acc;
      }
    }
    // The chunk's last token is the next chunk's previous token.
    for (let n = 0; n < N; n++) keys[n] = keys[len * N + n];
    for (let p = 0; p < P; p++) values[p] = values[len * P + p];
  }
  for (let i = 0; i < A; i++) finalAngle[head * A + i] = phase[i];
  for (let j = 0; j < P * N; j++) finalSsm[head * P * N + j] = state[j];
  for (let n = 0; n < N; n++) finalK[head * N + n] = keys[n];
  for (let p = 0; p < P; p++) finalV[head * P + p] = values[p];
}
