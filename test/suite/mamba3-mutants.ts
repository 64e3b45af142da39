/**
 * A chunked mamba3-siso kernel (test-only), with one switch per wrong kernel of issue 18's "Done
 * when": the suite must fail each on a short case and pass the right one. Per (batch, head) and
 * chunk of Q tokens: the phase turned from the one carried into the chunk, q̂ and k̂ rotated by it,
 * the intra-chunk term Σ_{s ≤ l} exp(cum_l − cum_s)·(β_s·(q̂_l·k̃_{s−1})·ṽ_{s−1} + γ_s·(q̂_l·k̂_s)·v_s)
 * (the previous token of a chunk's first token is the one carried in), the carried-state term
 * exp(cum_l)·S·q̂_l, and the state, phase and previous token handed to the next chunk.
 * Computed in float64 and stored as float32 (it declares float32: it is at least that accurate).
 */
import type { Mamba3SisoOutputs, Problem } from '../../spec/families.ts';
import { mamba3SisoSizes, qkHeadOfHead } from '../../spec/families/mamba3-siso/dimensions.ts';
import { silu } from '../../spec/families/selective-scan/discretization.ts';
import type { EvaluationSettings, ScanImplementation } from '../../spec/implementation.ts';

/** The bugs, each off unless set. */
export interface Mamba3Bugs {
  /** Every chunk starts its rotary phase from the input angle state instead of the phase carried from the chunk before. */
  readonly phaseNotCarried?: boolean;
  /** β and γ swapped: the previous token weighted by λ·DT, the current one by (1 − λ)·DT·α. */
  readonly betaGammaSwapped?: boolean;
  /** The previous token's k kept before its rotation (after its bias) instead of after. */
  readonly kPrevUnrotated?: boolean;
  /** V head h reads Q/K head h % G instead of ⌊h / (H/G)⌋. */
  readonly interleavedHeads?: boolean;
  /** y = o·silu(Z) + D·v: D added after the gate. */
  readonly dAfterGate?: boolean;
}

/** The chunk size the kernel uses unless the suite asks for another. */
export const DEFAULT_CHUNK = 16;

/** x mod 2π in [0, 2π). */
function reduce(x: number): number {
  return x - 2 * Math.PI * Math.floor(x / (2 * Math.PI));
}

/** The chunked mamba3-siso of a validated problem with the given bugs. */
export function chunkedMamba3(problem: Problem<'mamba3-siso'>, chunk: number, bugs: Mamba3Bugs): Mamba3SisoOutputs {
  const { Q: Qm, K, V, ADT, DT, Trap, QBias, KBias, Angles, D, Z, angleState, ssmState, kState, vState } = problem.inputs;
  const { batch, length: L, heads: H, headdim: P, groups: G, stateSize: N, angles: A } = mamba3SisoSizes(V, Qm, Angles);
  const y = new Float32Array(batch * L * H * P);
  const finalAngle = new Float32Array(batch * H * A);
  const finalSsm = new Float32Array(batch * H * P * N);
  const finalK = new Float32Array(batch * H * N);
  const finalV = new Float32Array(batch * H * P);
  const theta = new Float64Array(A);
  const S = new Float64Array(P * N);
  const kPrev = new Float64Array(N);
  const vPrev = new Float64Array(P);
  // Per token of a chunk: q̂, k̂, the key kept as the next token's previous one, v, the β pair, weights, cum.
  const qHat: Float64Array[] = [];
  const kHat: Float64Array[] = [];
  const kKept: Float64Array[] = [];
  const kp: Float64Array[] = [];
  const vp: Float64Array[] = [];
  const beta = new Float64Array(chunk);
  const gamma = new Float64Array(chunk);
  const cum = new Float64Array(chunk);
  for (let l = 0; l < chunk; l++) {
    qHat.push(new Float64Array(N));
    kHat.push(new Float64Array(N));
    kKept.push(new Float64Array(N));
    kp.push(new Float64Array(N));
    vp.push(new Float64Array(P));
  }
  const dot = (x: Float64Array, z: Float64Array) => x.reduce((acc, xi, n) => acc + xi * z[n], 0);

  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < H; h++) {
      const head = b * H + h;
      const g = bugs.interleavedHeads ? h % G : qkHeadOfHead(h, H, G);
      for (let i = 0; i < A; i++) theta[i] = angleState?.data[head * A + i] ?? 0;
      for (let j = 0; j < P * N; j++) S[j] = ssmState?.data[head * P * N + j] ?? 0;
      for (let n = 0; n < N; n++) kPrev[n] = kState?.data[head * N + n] ?? 0;
      for (let p = 0; p < P; p++) vPrev[p] = vState?.data[head * P + p] ?? 0;
      for (let c0 = 0; c0 < L; c0 += chunk) {
        const len = Math.min(chunk, L - c0);
        if (bugs.phaseNotCarried) for (let i = 0; i < A; i++) theta[i] = angleState?.data[head * A + i] ?? 0;
        let sum = 0;
        for (let l = 0; l < len; l++) {
          const t = c0 + l;
          const at = head * L + t;
          const delta = DT.data[at];
          for (let i = 0; i < A; i++) theta[i] = reduce(theta[i] + Math.PI * Math.tanh(Angles.data[((b * L + t) * H + h) * A + i]) * delta);
          const qk = ((b * L + t) * G + g) * N;
          for (let j = 0; 2 * j < N; j++) {
            const angle = j < A ? theta[j] : 0;
            const [cos, sin] = [Math.cos(angle), Math.sin(angle)];
            for (const [source, bias, out, kept] of [
              [Qm.data, QBias.data, qHat[l], undefined],
              [K.data, KBias.data, kHat[l], kKept[l]],
            ] as const) {
              const x0 = source[qk + 2 * j] + bias[h * N + 2 * j];
              const x1 = source[qk + 2 * j + 1] + bias[h * N + 2 * j + 1];
              out[2 * j] = x0 * cos - x1 * sin;
              out[2 * j + 1] = x0 * sin + x1 * cos;
              if (kept !== undefined) {
                kept[2 * j] = bugs.kPrevUnrotated ? x0 : out[2 * j];
                kept[2 * j + 1] = bugs.kPrevUnrotated ? x1 : out[2 * j + 1];
              }
            }
          }
          const lambda = 1 / (1 + Math.exp(-Trap.data[at]));
          const alpha = Math.exp(ADT.data[at]);
          const [b0, g0] = [(1 - lambda) * delta * alpha, lambda * delta];
          [beta[l], gamma[l]] = bugs.betaGammaSwapped ? [g0, b0] : [b0, g0];
          kp[l].set(l === 0 ? kPrev : kKept[l - 1]);
          for (let p = 0; p < P; p++) vp[l][p] = l === 0 ? vPrev[p] : V.data[((b * L + t - 1) * H + h) * P + p];
          sum += ADT.data[at];
          cum[l] = sum;
        }
        for (let l = 0; l < len; l++) {
          const t = c0 + l;
          const vAt = ((b * L + t) * H + h) * P;
          const weights: [number, number][] = [];
          for (let s = 0; s <= l; s++) {
            const decay = Math.exp(cum[l] - cum[s]);
            weights.push([decay * beta[s] * dot(qHat[l], kp[s]), decay * gamma[s] * dot(qHat[l], kHat[s])]);
          }
          for (let p = 0; p < P; p++) {
            let o = 0;
            for (let n = 0; n < N; n++) o += S[p * N + n] * qHat[l][n];
            o *= Math.exp(cum[l]);
            for (let s = 0; s <= l; s++) o += weights[s][0] * vp[s][p] + weights[s][1] * V.data[((b * L + c0 + s) * H + h) * P + p];
            const skip = D === undefined ? 0 : D.data[h] * V.data[vAt + p];
            const gate = Z === undefined ? 1 : silu(Z.data[vAt + p]);
            y[vAt + p] = bugs.dAfterGate ? o * gate + skip : (o + skip) * gate;
          }
        }
        const last = len - 1;
        for (let p = 0; p < P; p++) {
          for (let n = 0; n < N; n++) {
            let acc = Math.exp(cum[last]) * S[p * N + n];
            for (let s = 0; s <= last; s++) {
              const v = V.data[((b * L + c0 + s) * H + h) * P + p];
              acc += Math.exp(cum[last] - cum[s]) * (beta[s] * vp[s][p] * kp[s][n] + gamma[s] * v * kHat[s][n]);
            }
            S[p * N + n] = acc;
          }
        }
        kPrev.set(kKept[last]);
        for (let p = 0; p < P; p++) vPrev[p] = V.data[((b * L + c0 + last) * H + h) * P + p];
      }
      for (let i = 0; i < A; i++) finalAngle[head * A + i] = theta[i];
      for (let j = 0; j < P * N; j++) finalSsm[head * P * N + j] = S[j];
      for (let n = 0; n < N; n++) finalK[head * N + n] = kPrev[n];
      for (let p = 0; p < P; p++) finalV[head * P + p] = vPrev[p];
    }
  }
  return {
    y: { data: y, shape: [batch, L, H, P] },
    finalAngleState: { data: finalAngle, shape: [batch, H, A] },
    finalSsmState: { data: finalSsm, shape: [batch, H, P, N] },
    finalKState: { data: finalK, shape: [batch, H, N] },
    finalVState: { data: finalV, shape: [batch, H, P] },
  };
}

/** The chunked kernel as an implementation, named after its bugs ('test/mamba3-chunked' without any). */
export function chunkedMamba3Implementation(bugs: Mamba3Bugs = {}): ScanImplementation {
  const on = Object.entries(bugs).filter(([, v]) => v === true).map(([k]) => k);
  return {
    name: on.length === 0 ? 'test/mamba3-chunked' : `test/mamba3-wrong-${on.join('-')}`,
    precision: 'float32',
    description: `Mamba-3 SISO chunked matrix form, chunk ${DEFAULT_CHUNK} by default${on.length === 0 ? '' : `, with bugs: ${on.join(', ')}`}`,
    families: {
      'mamba3-siso': {
        run: async (problem: Problem<'mamba3-siso'>, settings?: EvaluationSettings) => chunkedMamba3(problem, settings?.chunkSize ?? DEFAULT_CHUNK, bugs),
        // 48 does not divide the usual lengths; 16 is the default.
        chunkSizes: [DEFAULT_CHUNK, 48],
      },
    },
  };
}

/** The correct kernel, for `check --impl test/suite/mamba3-mutants.ts`. */
export default chunkedMamba3Implementation();
