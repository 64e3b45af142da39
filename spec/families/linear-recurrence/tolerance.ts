/** linear-recurrence's tolerance terms: the decays a_t are inputs (no error beyond storage); growth max|a|. */
import { latticeExponent, minLattice, plainTerms, sumAbs, type FamilyToleranceTerms, type ScalingExtent } from '../../tolerance-terms.ts';

/** The tolerance terms of linear-recurrence. */
export const linearRecurrenceTolerance: FamilyToleranceTerms<'linear-recurrence'> = {
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
