/**
 * selective-scan's fixtures: four channels in two groups, N = 3 (one channel, N = 2 on long
 * sequences); its 288 variants (B form × C form × D × z × deltaBias × softplus × h0) each once at
 * L = 9, and one 65536-long full scan (softplus, D) where chunking and carries over many levels show.
 * seqIdx varies on its own (separateInputs: with every other optional input off, its 18 variants of
 * B form × C form × softplus), so packed rows add tens of cases rather than doubling the 288.
 */
import type { FamilyCatalogue } from '../../family-catalogue.ts';

/** The selective-scan fixture choices. */
export const selectiveScanCatalogue: FamilyCatalogue<'selective-scan'> = {
  dims: (length, batched) => {
    const long = length > 257;
    return { batch: batched ? 2 : 1, dim: batched ? 4 : long ? 1 : 4, length, stateSize: long ? 2 : 3, groups: long && !batched ? 1 : 2 };
  },
  everyVariantAt: [9],
  separateInputs: ['seqIdx'],
  optionTags: { deltaSoftplus: ['softplus', ''] },
  inputTags: { deltaBias: 'bias', seqIdx: 'packed' },
  longCases: [
    {
      regime: 'generic',
      dims: { batch: 1, dim: 1, stateSize: 2 },
      variant: (v) =>
        v.projections?.B === 'time-invariant' &&
        v.projections.C === 'time-invariant' &&
        v.options.deltaSoftplus &&
        v.optionalInputs.D === true &&
        !v.optionalInputs.z &&
        !v.optionalInputs.deltaBias &&
        !v.optionalInputs.h0,
    },
  ],
};
