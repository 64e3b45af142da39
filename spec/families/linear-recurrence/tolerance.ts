/** linear-recurrence's tolerance terms: the decays a_t are inputs (no error beyond storage); growth max|a|. */
import { anyMayFlush, FlushEnvelope, mayFlush } from '../../flush-envelope.ts';
import { latticeExponent, minLattice, plainTerms, sumAbs, type FamilyToleranceTerms, type ScalingExtent } from '../../tolerance-terms.ts';

/** The tolerance terms of linear-recurrence. */
export const linearRecurrenceTolerance: FamilyToleranceTerms<'linear-recurrence'> = {
  // A flushed decay a_t becomes 0: the state loses a_t·h_{t−1} from that step on.
  // The decays are inputs; a product a·h the arithmetic flushes loses under its smallest normal (η).
  multiplierFlush(problem, dims, { inputs: below }) {
    const { a, b, h0 } = problem.inputs;
    if (!anyMayFlush(a.data, below)) return undefined;
    const { batch, dim, length: L } = dims;
    const h = new Float64Array(batch * dim * L);
    const lastState = new Float64Array(batch * dim);
    const envelope = new FlushEnvelope(1);
    for (let c = 0; c < batch * dim; c++) {
      envelope.start(h0?.data, c);
      for (let step = 0; step < L; step++) {
        const i = c * L + (problem.options.reverse ? L - 1 - step : step);
        const decay = a.data[i];
        envelope.advance(0, Math.abs(decay), mayFlush(decay, below) ? Math.abs(decay) : 0, Math.abs(b.data[i]), 0);
        h[i] = envelope.drift[0];
      }
      lastState[c] = envelope.drift[0];
    }
    return { h, lastState };
  },
  channelTerms(problem, dims) {
    const channels = dims.batch * dims.dim;
    const growth = new Float64Array(channels).fill(1);
    const a = problem.inputs.a.data;
    for (let c = 0; c < channels; c++) {
      for (let t = 0; t < dims.length; t++) growth[c] = Math.max(growth[c], Math.abs(a[c * dims.length + t]));
    }
    return plainTerms(channels, growth);
  },
  scalingExtents(problem, dims) {
    const { batch, dim, length: L } = dims;
    const out: ScalingExtent[] = [];
    for (let c = 0; c < batch * dim; c++) {
      const row = c * L;
      const { a, b, h0 } = problem.inputs;
      // A term is a_{k+1}···a_t·b_k: its lattice adds the decays' exponents (a zero decay ends it).
      let decays = 0;
      let growth = 1;
      for (let t = 0; t < L; t++) {
        const v = a.data[row + t];
        if (v !== 0) decays += Math.min(0, latticeExponent(v));
        growth = Math.max(growth, Math.abs(v));
      }
      const additive = Math.min(minLattice(b.data, row, L), h0 === undefined ? Number.POSITIVE_INFINITY : minLattice(h0.data, c, 1));
      const total = sumAbs(b.data, row, L) + (h0 === undefined ? 0 : Math.abs(h0.data[c]));
      out.push({ lattice: additive + decays, magnitude: total * growth ** L });
    }
    return out;
  },
};
