/**
 * ssd's fixtures: four heads of two channels with N = 3, groups cycling through 1, 2 and 4 (= H)
 * with the length, so every G a kernel maps heads by appears across lengths; one head of one
 * channel, N = 2, on long sequences. Its 256 variants (6 optional inputs, D in both shapes,
 * dtSoftplus) run once each at L = 9.
 */
import type { FamilyCatalogue } from '../../family-catalogue.ts';

/** The ssd fixture choices. */
export const ssdCatalogue: FamilyCatalogue<'ssd'> = {
  dims: (length, batched) => {
    const long = length > 257;
    const heads = long && !batched ? 2 : 4;
    const groups = [1, 2, heads][length % 3];
    return { batch: batched ? 2 : 1, heads, dim: heads * (long ? 1 : 2), length, stateSize: long ? 2 : 3, groups };
  },
  everyVariantAt: [9],
  optionTags: { dtSoftplus: ['softplus', ''] },
  inputTags: { dtBias: 'bias', dtLimit: 'limit', initialStates: 'h0', seqIdx: 'packed' },
  alternateTags: { D: 'Dhp' },
};
