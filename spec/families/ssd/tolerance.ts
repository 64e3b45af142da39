/**
 * ssd's tolerance terms (spec/tolerance.md, rule M): selective-scan's per-step terms for a decay
 * exp(Δ·A_h) shared by the head's channels, plus what the chunked matrix order of Mamba-2 adds —
 * decays exp(cum_t − cum_s) whose exponents are differences of float32 cumulative sums, so their
 * absolute error grows with the sum of |Δ·A| over the chunk, and exp(0) of zero-length segments.
 * Channel c = b·(H·P) + h·P + p; gateError and gateMagnitude follow y's (batch, L, H, P) layout.
 * Its transcendental factors keep it from any exact-scaling certificate (no scalingExtents).
 */
import { expAllowance, maxAbs, plainTerms, stepInputError, type FamilyToleranceTerms } from '../../tolerance-terms.ts';
import { groupOfHead, ssdSizes } from './dimensions.ts';
import { siluGateTerms } from '../selective-scan/tolerance.ts';
import { dtLimits, effectiveDt, silu } from './discretization.ts';
import { anyMayFlush, anyMove, decayVariants, flushVariants, FlushEnvelope, mayFlush, reachAndMove, stepUnderFlush } from '../../flush-envelope.ts';

/**
 * κ(L), the exponent error of one chunked decay per step it spans, in units of u·Σ|Δ·A| (rule M):
 * a path from s to t holds at most a within-chunk difference (two cumulative sums), a chunk's own
 * cumulative sum, the chunk totals it crosses and a difference of their cumulative sums; each sum
 * errs by ⌈log₂ L⌉ roundings per level of a tree (Blelloch: two sweeps) or, sequential, by one
 * rounding per step spanned; +4 covers the sequential orders and the final subtractions.
 */
export function chunkedExponentDepth(length: number): number {
  return 12 * Math.ceil(Math.log2(Math.max(2, length))) + 4;
}

/** The zero-length segments on one path whose exp(0) WGSL need not return as 1: the diagonal of a chunk, a state to the next chunk. */
const ZERO_LENGTH_EXPS = 2;

/** The tolerance terms of ssd. */
export const ssdTolerance: FamilyToleranceTerms<'ssd'> = {
  // Δ·B·x: x by max|Δ|·max|B| (and D·x's max|D|), B by max|Δ|·max|x|.
  flushCofactors(problem) {
    const { x, dt, B, D, dtBias, dtLimit } = problem.inputs;
    const { lo, hi } = dtLimits(dtLimit?.data);
    const H = dt.shape[2];
    let maxDelta = 0;
    for (let i = 0; i < dt.data.length; i++) {
      maxDelta = Math.max(maxDelta, Math.abs(effectiveDt(dt.data[i], dtBias?.data[i % H] ?? 0, problem.options.dtSoftplus, lo, hi)));
    }
    return { x: maxDelta * maxAbs(B.data, 0, B.data.length) + (D === undefined ? 0 : maxAbs(D.data, 0, D.data.length)), B: maxDelta * maxAbs(x.data, 0, x.data.length) };
  },
  // Δ (dt, dtBias, dtLimit) and A_h make the decay exp(Δ·A_h) and Δ the drive; C, D and z multiply the read-out.
  // A flushing arithmetic may also zero Δ, the exponent Δ·A_h, the decay or the gate when they are subnormal.
  multiplierFlush(problem, _dims, thresholds) {
    const { x, dt, A, B, C, D, z, dtBias, dtLimit, initialStates, seqIdx } = problem.inputs;
    const { inputs: below, intermediates } = thresholds;
    if (intermediates === 0 && ![dt, A, C, D, z, dtBias, dtLimit].some((tensor) => anyMayFlush(tensor?.data, below))) return undefined;
    const softplus = problem.options.dtSoftplus;
    const { batch, length: L, heads: H, headdim: P, groups: G, stateSize: N } = ssdSizes(x, B);
    const { lo, hi } = dtLimits(dtLimit?.data);
    // Each clamp bound flushed or not: the steps of every variant of (dt, dtBias, lo, hi).
    const limits = flushVariants(lo, below).flatMap((l) => flushVariants(hi, below).map((h) => [l, h] as const));
    const dPerChannel = D?.shape.length === 2;
    const y = new Float64Array(batch * L * H * P);
    const finalStates = new Float64Array(batch * H * P * N);
    const envelope = new FlushEnvelope(N);
    const reach = new Float64Array(L);
    const decayMove = new Float64Array(L);
    const steps = new Float64Array(L);
    const stepMove = new Float64Array(L);
    for (let b = 0; b < batch; b++) {
      for (let h = 0; h < H; h++) {
        const bias = dtBias?.data[h] ?? 0;
        for (let t = 0; t < L; t++) {
          const raw = dt.data[(b * L + t) * H + h];
          steps[t] = effectiveDt(raw, bias, softplus, lo, hi);
          const variants = limits.flatMap(([l, u]) => stepUnderFlush(raw, bias, below, (v, w) => effectiveDt(v, w, softplus, l, u)).variants);
          if (mayFlush(steps[t], intermediates)) variants.push(0);
          stepMove[t] = reachAndMove(steps[t], variants).move;
          const reset = seqIdx !== undefined && t > 0 && seqIdx.data[b * L + t] !== seqIdx.data[b * L + t - 1];
          const decay = reachAndMove(reset ? 0 : Math.exp(steps[t] * A.data[h]), reset ? [] : decayVariants(variants, A.data[h], thresholds));
          reach[t] = decay.reach;
          decayMove[t] = decay.move;
        }
        const g = groupOfHead(h, H, G);
        for (let p = 0; p < P; p++) {
          const stateOffset = ((b * H + h) * P + p) * N;
          envelope.start(initialStates?.data, stateOffset);
          for (let t = 0; t < L; t++) {
            const xIndex = ((b * L + t) * H + h) * P + p;
            const bcOffset = ((b * L + t) * G + g) * N;
            for (let n = 0; n < N; n++) {
              const drive = Math.abs(B.data[bcOffset + n] * x.data[xIndex]);
              envelope.advance(n, reach[t], decayMove[t], Math.abs(steps[t]) * drive, stepMove[t] * drive);
            }
            const skipFactor = D === undefined ? 0 : D.data[dPerChannel ? h * P + p : h];
            const skip = skipFactor * x.data[xIndex];
            const gate = z === undefined ? 1 : silu(z.data[xIndex]);
            const gateMove = z !== undefined && (mayFlush(z.data[xIndex], below) || mayFlush(gate, intermediates)) ? Math.abs(gate) : 0;
            y[xIndex] = envelope.readoutMove(C.data, bcOffset, 1, below, skip, mayFlush(skipFactor, below) ? Math.abs(skip) : 0, gate, gateMove);
          }
          finalStates.set(envelope.drift, stateOffset);
        }
      }
    }
    return anyMove({ y, finalStates }) ? { y, finalStates } : undefined;
  },
  channelTerms(problem, _dims, r) {
    const { x, dt, A, B, C, z, dtBias, dtLimit } = problem.inputs;
    const softplus = problem.options.dtSoftplus;
    const { batch, length: L, heads: H, headdim: P, groups: G, stateSize: N } = ssdSizes(x, B);
    const { lo, hi } = dtLimits(dtLimit?.data);
    const channels = batch * H * P;
    const ua = r.arithmetic;
    const kappa = chunkedExponentDepth(L);
    const { decayError, inputError, growth, readout } = plainTerms(channels);
    for (let b = 0; b < batch; b++) {
      for (let h = 0; h < H; h++) {
        const bias = dtBias?.data[h] ?? 0;
        const g = groupOfHead(h, H, G);
        let maxExponent = 0; // max |Δ·A_h|
        let maxGrowthExponent = 0; // max Δ·A_h (growth when positive)
        let rowExponent = 0; // Σ_t |Δ·A_h|: bounds every cumulative sum of any chunk of the row
        let deltaError = 0; // relative error of Δ in units of u
        let deltaInputError = 2 * r.input; // relative error of Δ from dt and dtBias rounded into storage (each at least once)
        let maxReadout = 0;
        for (let t = 0; t < L; t++) {
          const raw = dt.data[(b * L + t) * H + h];
          const delta = effectiveDt(raw, bias, softplus, lo, hi);
          const exponent = delta * A.data[h];
          deltaInputError = Math.max(deltaInputError, stepInputError(raw, bias, softplus, delta, r.input));
          // dt + bias rounds once; softplus adds its exp's allowance and log1p's few roundings; the clamp is exact.
          deltaError = Math.max(deltaError, 1 + (softplus && raw + bias <= 20 ? expAllowance(raw + bias) + 2 : 0));
          maxExponent = Math.max(maxExponent, Math.abs(exponent));
          maxGrowthExponent = Math.max(maxGrowthExponent, exponent);
          rowExponent += Math.abs(exponent);
          let sumC = 0;
          const offset = ((b * L + t) * G + g) * N;
          for (let n = 0; n < N; n++) sumC += Math.abs(C.data[offset + n]);
          maxReadout = Math.max(maxReadout, sumC);
        }
        const relativeDelta = deltaError * ua + deltaInputError;
        // Per step as in selective-scan (exp's allowance, |Δ·A| times its argument's error), the
        // subtraction cum_t − cum_s (one more rounding of the exponent), and the chunked exponent's
        // accumulated error κ·u·Σ|Δ·A| per step spanned (rule M).
        const decay =
          expAllowance(maxExponent) * ua + maxExponent * (relativeDelta + 2 * ua + r.input) + kappa * ua * rowExponent;
        // Δ·B·x: two products on Δ's error and the roundings of B and x into storage; exp(0) of the
        // zero-length segments a chunked path may hold.
        const input = relativeDelta + 2 * ua + 2 * r.input + ZERO_LENGTH_EXPS * expAllowance(0) * ua;
        const rowGrowth = Math.exp(Math.min(700, maxGrowthExponent));
        for (let p = 0; p < P; p++) {
          const c = (b * H + h) * P + p;
          decayError[c] = decay;
          inputError[c] = input;
          growth[c] = rowGrowth;
          readout[c] = maxReadout;
        }
      }
    }
    return { decayError, inputError, growth, readout, ...siluGateTerms(z, r) };
  },
};
