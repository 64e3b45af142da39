/**
 * linear-recurrence's fixtures: two channels (one on long sequences), every variant on the boundary
 * lengths, and one 65536-long case of decays near 1 (long-memory accumulation).
 */
import type { FamilyCatalogue } from '../../family-catalogue.ts';

/** The linear-recurrence fixture choices. */
export const linearRecurrenceCatalogue: FamilyCatalogue<'linear-recurrence'> = {
  dims: (length, batched) => ({ batch: batched ? 2 : 1, dim: batched ? 4 : length > 257 ? 1 : 2, length }),
  optionTags: { reverse: ['reverse', 'forward'] },
  longCases: [{ regime: 'decay-near-1', dims: { batch: 1, dim: 1 }, variant: (v) => !v.options.reverse && v.optionalInputs.h0 === true }],
};
