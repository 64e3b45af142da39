/**
 * A chunked ssd kernel in Mamba-2's matrix form (test-only), with one switch per classic bug of
 * issue 16: the suite must fail each wrong kernel on a short case and pass the right one. Per
 * (batch, head) and chunk of Q steps: cumulative sums of Δ·A, the intra-chunk term
 * C_t·B_s·exp(cum_t − cum_s)·Δ_s·x_s masked causally and by seqIdx equality, the chunk's state,
 * a pass over chunks carrying the state, and the carried-state term exp(cum_t)·C_t·state.
 * Computed in float64 and stored as float32 (it declares float32: it is at least that accurate).
 */
import type { Problem, SsdOutputs } from '../../spec/families.ts';
import { groupOfHead, ssdSizes } from '../../spec/families/ssd/dimensions.ts';
import { dtLimits, effectiveDt, silu, softplus } from '../../spec/families/ssd/discretization.ts';
import type { EvaluationSettings, ScanImplementation } from '../../spec/implementation.ts';

/** The bugs, each off unless set. */
export interface SsdBugs {
  /** The state passed to the next chunk is not reset where seqIdx changes inside a chunk. */
  readonly stateNotReset?: boolean;
  /** The state entering chunk c+1 decays by chunk c−1's total Δ·A instead of chunk c's. */
  readonly previousChunkDecay?: boolean;
  /** Only ⌊L/Q⌋ chunks: the ragged tail is never computed (its outputs stay 0). */
  readonly tailDropped?: boolean;
  /** Head h reads group h % G instead of ⌊h / (H/G)⌋. */
  readonly moduloGroups?: boolean;
  /** Δ = softplus(clamp(dt + bias, lo, hi)): the clamp before softplus. */
  readonly clampBeforeSoftplus?: boolean;
  /** The run starts from zero whatever initialStates says. */
  readonly initialStatesIgnored?: boolean;
}

/** The chunk size the kernel uses unless the suite asks for another. */
export const DEFAULT_CHUNK = 16;

/** Δ of one token, as mamba_ssm computes it or with the clamp misplaced. */
function deltaOf(raw: number, bias: number, dtSoftplus: boolean, lo: number, hi: number, bugs: SsdBugs): number {
  if (!bugs.clampBeforeSoftplus || !dtSoftplus) return effectiveDt(raw, bias, dtSoftplus, lo, hi);
  return softplus(Math.min(Math.max(raw + bias, lo), hi));
}

/** The chunked ssd of a validated problem with the given bugs. */
export function chunkedSsd(problem: Problem<'ssd'>, chunk: number, bugs: SsdBugs): SsdOutputs {
  const { x, dt, A, B, C, D, z, dtBias, dtLimit, initialStates, seqIdx } = problem.inputs;
  const { batch, length: L, heads: H, headdim: P, groups: G, stateSize: N } = ssdSizes(x, B);
  const { lo, hi } = dtLimits(dtLimit?.data);
  const dPerChannel = D?.shape.length === 2;
  const y = new Float32Array(batch * L * H * P);
  const finalStates = new Float32Array(batch * H * P * N);
  const chunks = bugs.tailDropped ? Math.floor(L / chunk) : Math.ceil(L / chunk);
  const delta = new Float64Array(L);
  const cum = new Float64Array(L); // Σ Δ·A from the chunk's first step to t, inclusive
  const state = new Float64Array(P * N); // the state entering the current chunk
  const chunkState = new Float64Array(P * N);
  const ids = (b: number, t: number) => seqIdx?.data[b * L + t] ?? 0;
  const xAt = (b: number, t: number, h: number, p: number) => ((b * L + t) * H + h) * P + p;

  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < H; h++) {
      const g = bugs.moduloGroups ? h % G : groupOfHead(h, H, G);
      const bc = (t: number) => ((b * L + t) * G + g) * N;
      for (let t = 0; t < L; t++) {
        delta[t] = deltaOf(dt.data[(b * L + t) * H + h], dtBias?.data[h] ?? 0, problem.options.dtSoftplus, lo, hi, bugs);
        const a = delta[t] * A.data[h];
        cum[t] = t % chunk === 0 ? a : cum[t - 1] + a;
      }
      const stateOffset = (b * H + h) * P * N;
      for (let i = 0; i < P * N; i++) state[i] = bugs.initialStatesIgnored ? 0 : (initialStates?.data[stateOffset + i] ?? 0);

      for (let c = 0; c < chunks; c++) {
        const start = c * chunk;
        const end = Math.min(L, start + chunk);
        // The carried state reaches step t only if no reset lies between the chunk's start and t.
        const entering = start === 0 ? ids(b, 0) : ids(b, start - 1);
        for (let t = start; t < end; t++) {
          for (let p = 0; p < P; p++) {
            let out = 0;
            for (let s = start; s <= t; s++) {
              if (ids(b, s) !== ids(b, t)) continue;
              let cb = 0;
              for (let n = 0; n < N; n++) cb += C.data[bc(t) + n] * B.data[bc(s) + n];
              out += cb * Math.exp(cum[t] - cum[s]) * delta[s] * x.data[xAt(b, s, h, p)];
            }
            if (ids(b, t) === entering) {
              let cs = 0;
              for (let n = 0; n < N; n++) cs += C.data[bc(t) + n] * state[p * N + n];
              out += Math.exp(cum[t]) * cs;
            }
            const u = x.data[xAt(b, t, h, p)];
            if (D !== undefined) out += D.data[dPerChannel ? h * P + p : h] * u;
            if (z !== undefined) out *= silu(z.data[xAt(b, t, h, p)]);
            y[xAt(b, t, h, p)] = out;
          }
        }
        // The chunk's own state: the steps of the sequence its last step belongs to.
        const last = end - 1;
        chunkState.fill(0);
        for (let s = start; s <= last; s++) {
          if (ids(b, s) !== ids(b, last)) continue;
          const w = Math.exp(cum[last] - cum[s]) * delta[s];
          for (let p = 0; p < P; p++) {
            const wx = w * x.data[xAt(b, s, h, p)];
            for (let n = 0; n < N; n++) chunkState[p * N + n] += wx * B.data[bc(s) + n];
          }
        }
        const carried = bugs.stateNotReset || ids(b, last) === entering;
        const decayChunk = bugs.previousChunkDecay && c > 0 ? c - 1 : c;
        const decay = Math.exp(cum[Math.min(L, (decayChunk + 1) * chunk) - 1]);
        // 0, not 0·decay: an overflowed decay times a reset would be NaN.
        for (let i = 0; i < P * N; i++) state[i] = (carried ? decay * state[i] : 0) + chunkState[i];
      }
      for (let i = 0; i < P * N; i++) finalStates[stateOffset + i] = state[i];
    }
  }
  return { y: { data: y, shape: [batch, L, H, P] }, finalStates: { data: finalStates, shape: [batch, H, P, N] } };
}

/** The chunked kernel as an implementation, named after its bugs ('test/ssd-chunked' without any). */
export function chunkedSsdImplementation(bugs: SsdBugs = {}): ScanImplementation {
  const on = Object.entries(bugs).filter(([, v]) => v === true).map(([k]) => k);
  return {
    name: on.length === 0 ? 'test/ssd-chunked' : `test/ssd-wrong-${on.join('-')}`,
    precision: 'float32',
    description: `Mamba-2 chunked matrix form, chunk ${DEFAULT_CHUNK} by default${on.length === 0 ? '' : `, with bugs: ${on.join(', ')}`}`,
    families: {
      ssd: {
        run: async (problem: Problem<'ssd'>, settings?: EvaluationSettings) => chunkedSsd(problem, settings?.chunkSize ?? DEFAULT_CHUNK, bugs),
        // 48 does not divide the usual lengths; 16 is the default; 256 is mamba_ssm's.
        chunkSizes: [DEFAULT_CHUNK, 48, 256],
      },
    },
  };
}

/** The correct kernel, for `check --impl test/suite/ssd-mutants.ts`. */
export default chunkedSsdImplementation();
