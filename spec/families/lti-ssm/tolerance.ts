/** lti-ssm's tolerance terms: B̄·u rounds once more, C reads the state out, and it is a convolution (normwise scale). */
import { anyMayFlush, FlushEnvelope, mayFlush } from '../../flush-envelope.ts';
import { geometricSum, l2Norm, latticeExponent, maxAbs, minLattice, sumAbs, type FamilyToleranceTerms, type ScalingExtent } from '../../tolerance-terms.ts';

/** The tolerance terms of lti-ssm. */
export const ltiSsmTolerance: FamilyToleranceTerms<'lti-ssm'> = {
  // B̄·u: u by max|B̄| (and D·u's max|D|), B̄ by max|u|.
  flushCofactors(problem) {
    const { Bbar, D, u } = problem.inputs;
    return { u: maxAbs(Bbar.data, 0, Bbar.data.length) + (D === undefined ? 0 : maxAbs(D.data, 0, D.data.length)), Bbar: maxAbs(u.data, 0, u.data.length) };
  },
  // A flushed Ā_n becomes 0 (the state keeps only its latest input), a flushed C_n or D drops its term of y.
  multiplierFlush(problem, dims, { inputs: below }) {
    const { Abar, Bbar, C, D, u } = problem.inputs;
    if (!anyMayFlush(Abar.data, below) && !anyMayFlush(C.data, below) && !anyMayFlush(D?.data, below)) return undefined;
    const { batch, dim, length: L, stateSize: N } = dims;
    const y = new Float64Array(batch * dim * L);
    const envelope = new FlushEnvelope(N);
    for (let b = 0; b < batch; b++) {
      for (let d = 0; d < dim; d++) {
        envelope.start(undefined, 0);
        const skipFactor = D?.data[d] ?? 0;
        for (let t = 0; t < L; t++) {
          const i = (b * dim + d) * L + t;
          for (let n = 0; n < N; n++) {
            const decay = Abar.data[d * N + n];
            envelope.advance(n, Math.abs(decay), mayFlush(decay, below) ? Math.abs(decay) : 0, Math.abs(Bbar.data[d * N + n] * u.data[i]), 0);
          }
          const skip = skipFactor * u.data[i];
          y[i] = envelope.readoutMove(C.data, d * N, 1, below, skip, mayFlush(skipFactor, below) ? Math.abs(skip) : 0, 1, 0);
        }
      }
    }
    return { y };
  },
  channelTerms(problem, dims, r) {
    const { Abar, Bbar, C, D, u } = problem.inputs;
    const { batch, dim, length: L, stateSize: N } = dims;
    const channels = batch * dim;
    const growth = new Float64Array(channels).fill(1);
    const readout = new Float64Array(channels);
    const convolutionScale = new Float64Array(channels);
    const inputError = new Float64Array(channels).fill(r.arithmetic + r.input);
    for (let d = 0; d < dim; d++) {
      let g = 1;
      let sumC = 0;
      let kernelNorm = 0;
      for (let n = 0; n < N; n++) {
        const a = Math.abs(Abar.data[d * N + n]);
        g = Math.max(g, a);
        sumC += Math.abs(C.data[d * N + n]);
        kernelNorm += Math.abs(C.data[d * N + n] * Bbar.data[d * N + n]) * geometricSum(a, L);
      }
      for (let b = 0; b < batch; b++) {
        const c = b * dim + d;
        growth[c] = g;
        readout[c] = sumC;
        convolutionScale[c] = kernelNorm * l2Norm(u.data, c * L, L) + Math.abs(D?.data[d] ?? 0) * maxAbs(u.data, c * L, L);
      }
    }
    return { decayError: new Float64Array(channels), inputError, growth, readout, convolutionScale };
  },
  scalingExtents(problem, dims) {
    const { batch, dim, length: L, stateSize: N } = dims;
    const out: ScalingExtent[] = [];
    for (let c = 0; c < batch * dim; c++) {
      const row = c * L;
      const { Abar, Bbar, C, D, u } = problem.inputs;
      const d = c % dim;
      // y_t = Σ_n C_n·Σ_k Ā_n^(t−k)·B̄_n·u_k + D·u_t, in any order: each term's factors' lattices add up.
      let factors = Number.POSITIVE_INFINITY;
      let gain = 0;
      for (let n = 0; n < N; n++) {
        const [ab, bb, cc] = [Abar.data[d * N + n], Bbar.data[d * N + n], C.data[d * N + n]];
        if (bb === 0 || cc === 0) continue;
        const power = ab === 0 ? 0 : L * Math.min(0, latticeExponent(ab)); // a tree may form Ā^L
        // A subset of a term's factors is an intermediate too: only exponents below 0 can lower Q.
        factors = Math.min(factors, Math.min(0, latticeExponent(bb)) + Math.min(0, latticeExponent(cc)) + power);
        gain += Math.abs(bb * cc) * Math.max(1, Math.abs(ab)) ** L;
      }
      const skip = D === undefined || D.data[d] === 0 ? 0 : Math.min(0, latticeExponent(D.data[d]));
      gain += Math.abs(D?.data[d] ?? 0);
      out.push({ lattice: minLattice(u.data, row, L) + Math.min(0, factors, skip), magnitude: sumAbs(u.data, row, L) * Math.max(1, gain) });
    }
    return out;
  },
};
