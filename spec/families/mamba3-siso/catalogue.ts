/**
 * mamba3-siso's fixtures: four V heads of two channels, Q/K heads cycling through 1, 2 and 4 (= H)
 * with the length, N = 4 with one or both pairs rotated (A = 1 or 2, alternating); one V head of
 * one channel on long sequences. Its 64 variants (D, Z and the four states each on or off) run
 * once each at L = 9.
 */
import type { FamilyCatalogue } from '../../family-catalogue.ts';

/** The mamba3-siso fixture choices. */
export const mamba3SisoCatalogue: FamilyCatalogue<'mamba3-siso'> = {
  dims: (length, batched) => {
    const long = length > 257;
    const heads = long && !batched ? 1 : 4;
    const groups = long && !batched ? 1 : [1, 2, heads][length % 3];
    return { batch: batched ? 2 : 1, heads, dim: heads * (long ? 1 : 2), length, stateSize: 4, groups, angles: 1 + (length % 2) };
  },
  everyVariantAt: [9],
  optionTags: {},
  inputTags: { angleState: 'a0', ssmState: 's0', kState: 'k0', vState: 'v0' },
};
