/** prefix-sum's tolerance terms: a recurrence with a ≡ 1, no decay or input error, no read-out. */
import { minLattice, plainTerms, sumAbs, type FamilyToleranceTerms } from '../../tolerance-terms.ts';

/** The tolerance terms of prefix-sum. */
export const prefixSumTolerance: FamilyToleranceTerms<'prefix-sum'> = {
  channelTerms: (_, dims) => plainTerms(dims.batch * dims.dim),
  scalingExtents(problem, dims) {
    const { x } = problem.inputs;
    const L = dims.length;
    return Array.from({ length: dims.batch * dims.dim }, (_, c) => ({ lattice: minLattice(x.data, c * L, L), magnitude: sumAbs(x.data, c * L, L) }));
  },
};
