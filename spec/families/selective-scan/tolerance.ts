/**
 * selective-scan's tolerance terms: the decay exp(Δ'·A) and the input Δ'·B·u carry the errors of
 * exp, softplus and their arguments; C (any layout) reads the state out through the SiLU gate; with
 * a constant Δ' and time-invariant B, C it is a convolution. Its transcendental factors keep it from
 * any exact-scaling certificate (no scalingExtents).
 */
import { projectionIndex, projectionLayout } from '../../shapes.ts';
import type { Tensor } from '../../tensor.ts';
import { expAllowance, geometricSum, l2Norm, maxAbs, plainTerms, stepInputError, type ChannelTerms, type FamilyToleranceTerms, type Roundoffs } from '../../tolerance-terms.ts';
import { effectiveDelta, silu } from './discretization.ts';
import { anyMayFlush, anyMove, decayVariants, FlushEnvelope, mayFlush, reachAndMove, stepUnderFlush } from '../../flush-envelope.ts';

/** The gate silu(z)'s terms, per element of z: its relative error in units of u and its magnitude; both absent without z. */
export function siluGateTerms(z: Tensor | undefined, r: Roundoffs): Pick<ChannelTerms, 'gateError' | 'gateMagnitude'> {
  if (z === undefined) return { gateError: undefined, gateMagnitude: undefined };
  const gateError = new Float64Array(z.data.length);
  const gateMagnitude = new Float64Array(z.data.length);
  for (let i = 0; i < z.data.length; i++) {
    // silu(z) = z / (1 + exp(−z)): exp's allowance, the sum, the division, the product, z's storage.
    gateError[i] = expAllowance(z.data[i]) + 3 + r.input / r.arithmetic;
    gateMagnitude[i] = Math.abs(silu(z.data[i]));
  }
  return { gateError, gateMagnitude };
}

/** The tolerance terms of selective-scan. */
export const selectiveScanTolerance: FamilyToleranceTerms<'selective-scan'> = {
  // Δ'·B·u: u by max|Δ'|·max|B| (and D·u's max|D|), B by max|Δ'|·max|u|.
  flushCofactors(problem) {
    const { u, delta, B, D, deltaBias } = problem.inputs;
    const L = delta.shape[2];
    let maxDelta = 0;
    for (let i = 0; i < delta.data.length; i++) {
      const d = Math.floor(i / L) % delta.shape[1];
      maxDelta = Math.max(maxDelta, Math.abs(effectiveDelta(delta.data[i], deltaBias?.data[d] ?? 0, problem.options.deltaSoftplus)));
    }
    return { u: maxDelta * maxAbs(B.data, 0, B.data.length) + (D === undefined ? 0 : maxAbs(D.data, 0, D.data.length)), B: maxDelta * maxAbs(u.data, 0, u.data.length) };
  },
  // Δ' (delta, deltaBias) and A make the decay exp(Δ'·A) and Δ' the drive; C, D and z multiply the read-out.
  // A flushing arithmetic may also zero Δ', the exponent Δ'·A, the decay or the gate when they are subnormal.
  multiplierFlush(problem, dims, thresholds) {
    const { u, delta, A, B, C, D, z, deltaBias, h0, seqIdx } = problem.inputs;
    const { inputs: below, intermediates } = thresholds;
    if (intermediates === 0 && ![delta, A, C, D, z, deltaBias].some((tensor) => anyMayFlush(tensor?.data, below))) return undefined;
    const softplus = problem.options.deltaSoftplus;
    const { batch, dim, length: L, stateSize: N } = dims;
    const layoutB = projectionLayout(B.shape);
    const layoutC = projectionLayout(C.shape);
    const y = new Float64Array(batch * dim * L);
    const lastState = new Float64Array(batch * dim * N);
    const envelope = new FlushEnvelope(N);
    const stepOf = (raw: number, bias: number) => effectiveDelta(raw, bias, softplus);
    for (let b = 0; b < batch; b++) {
      for (let d = 0; d < dim; d++) {
        envelope.start(h0?.data, (b * dim + d) * N);
        for (let t = 0; t < L; t++) {
          const i = (b * dim + d) * L + t;
          const step = stepUnderFlush(delta.data[i], deltaBias?.data[d] ?? 0, below, stepOf);
          const steps = mayFlush(step.delta, intermediates) ? [...step.variants, 0] : step.variants;
          const reset = seqIdx !== undefined && t > 0 && seqIdx.data[b * L + t] !== seqIdx.data[b * L + t - 1];
          const deltaMove = reachAndMove(step.delta, steps).move;
          for (let n = 0; n < N; n++) {
            const a = A.data[d * N + n];
            const drive = Math.abs(B.data[projectionIndex(layoutB, dims, b, d, n, t)] * u.data[i]);
            const exponent = step.delta * a;
            const decay0 = reset ? 0 : Math.exp(exponent);
            // Most (t, n) have nothing to flush in their decay: no variants to weigh.
            const decay =
              reset || (steps.length === 1 && !mayFlush(a, below) && !mayFlush(exponent, intermediates) && !mayFlush(decay0, intermediates))
                ? { reach: decay0, move: 0 }
                : reachAndMove(decay0, decayVariants(steps, a, thresholds));
            envelope.advance(n, decay.reach, decay.move, Math.abs(step.delta) * drive, deltaMove * drive);
          }
          const skipFactor = D?.data[d] ?? 0;
          const skip = skipFactor * u.data[i];
          const gate = z === undefined ? 1 : silu(z.data[i]);
          const cOffset = projectionIndex(layoutC, dims, b, d, 0, t);
          const cStride = projectionIndex(layoutC, dims, b, d, 1, t) - cOffset;
          const gateMove = z !== undefined && (mayFlush(z.data[i], below) || mayFlush(gate, intermediates)) ? Math.abs(gate) : 0;
          y[i] = envelope.readoutMove(C.data, cOffset, cStride, below, skip, mayFlush(skipFactor, below) ? Math.abs(skip) : 0, gate, gateMove);
        }
        lastState.set(envelope.drift, (b * dim + d) * N);
      }
    }
    return anyMove({ y, lastState }) ? { y, lastState } : undefined;
  },
  channelTerms(problem, dims, r) {
    const { u, delta, A, B, C, D, z, deltaBias, h0 } = problem.inputs;
    const softplus = problem.options.deltaSoftplus;
    const { batch, dim, length: L, stateSize: N } = dims;
    const channels = batch * dim;
    const ua = r.arithmetic;
    const { decayError, inputError, growth, readout } = plainTerms(channels);
    const layoutB = projectionLayout(B.shape);
    const layoutC = projectionLayout(C.shape);
    const timeInvariant = layoutB.kind === 'time-invariant' && layoutC.kind === 'time-invariant' && h0 === undefined;
    const convolutionScale = timeInvariant ? new Float64Array(channels) : undefined;
    for (let b = 0; b < batch; b++) {
      for (let d = 0; d < dim; d++) {
        const c = b * dim + d;
        const bias = deltaBias?.data[d] ?? 0;
        let maxExponent = 0; // max |Δ'·A|
        let maxGrowthExponent = 0; // max Δ'·A (growth when positive)
        let deltaError = 0; // relative error of Δ' in units of u
        let deltaInputError = 2 * r.input; // relative error of Δ' from delta and deltaBias rounded into storage (each at least once)
        let maxReadout = 0;
        let constantDelta = true;
        const firstDelta = L > 0 ? effectiveDelta(delta.data[c * L], bias, softplus) : 0;
        for (let t = 0; t < L; t++) {
          const raw = delta.data[c * L + t];
          const dt = effectiveDelta(raw, bias, softplus);
          deltaInputError = Math.max(deltaInputError, stepInputError(raw, bias, softplus, dt, r.input));
          if (dt !== firstDelta) constantDelta = false;
          // Δ + bias rounds once; softplus adds its exp's allowance and log1p's few roundings.
          deltaError = Math.max(deltaError, 1 + (softplus && raw + bias <= 20 ? expAllowance(raw + bias) + 2 : 0));
          let sumC = 0;
          for (let n = 0; n < N; n++) {
            const x = dt * A.data[d * N + n];
            maxExponent = Math.max(maxExponent, Math.abs(x));
            maxGrowthExponent = Math.max(maxGrowthExponent, x);
            sumC += Math.abs(C.data[projectionIndex(layoutC, dims, b, d, n, t)]);
          }
          maxReadout = Math.max(maxReadout, sumC);
        }
        const relativeDelta = deltaError * ua + deltaInputError;
        // Ā = exp(Δ'·A): exp's own allowance plus |x| times the relative error of its argument.
        decayError[c] = expAllowance(maxExponent) * ua + maxExponent * (relativeDelta + ua + r.input);
        // Δ'·B·u: two products and the roundings of B and u into storage, on top of Δ''s error.
        inputError[c] = relativeDelta + 2 * ua + 2 * r.input;
        growth[c] = Math.exp(Math.min(700, maxGrowthExponent));
        readout[c] = maxReadout;
        if (convolutionScale !== undefined) {
          if (!constantDelta) {
            convolutionScale[c] = Number.NaN; // not a convolution: the normwise allowance does not apply
            continue;
          }
          let kernelNorm = 0;
          for (let n = 0; n < N; n++) {
            const decay = Math.exp(firstDelta * A.data[d * N + n]);
            kernelNorm += Math.abs(C.data[d * N + n] * firstDelta * B.data[d * N + n]) * geometricSum(decay, L);
          }
          convolutionScale[c] = kernelNorm * l2Norm(u.data, c * L, L) + Math.abs(D?.data[d] ?? 0) * maxAbs(u.data, c * L, L);
        }
      }
    }
    return { decayError, inputError, growth, readout, ...siluGateTerms(z, r), convolutionScale };
  },
};
