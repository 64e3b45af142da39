/** prefix-sum's fixtures: two channels (one on long sequences), every variant on the boundary lengths. */
import type { FamilyCatalogue } from '../../family-catalogue.ts';

/** The prefix-sum fixture choices. */
export const prefixSumCatalogue: FamilyCatalogue<'prefix-sum'> = {
  dims: (length, batched) => ({ batch: batched ? 2 : 1, dim: batched ? 4 : length > 257 ? 1 : 2, length }),
  optionTags: { exclusive: ['exclusive', 'inclusive'], reverse: ['reverse', 'forward'] },
};
