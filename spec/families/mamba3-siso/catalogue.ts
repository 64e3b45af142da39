/**
 * mamba3-siso's fixtures: four V heads of two channels below L = 100, Q/K heads cycling through
 * 1, 2 and 4 (= H) with the length, N = 4 with one or both pairs rotated (A = 1 or 2, alternating);
 * from L = 100 two heads of one channel (G = 1 or 2). Its cases stop at L = 257 (past four chunks
 * of 64, where a chunked kernel carries the rotary phase across three chunk boundaries): its
 * tensors are heavy (Q, K, four states), and the committed fixtures have a size cap. Its 64
 * variants (D, Z and the four states each on or off) run once each at L = 9, on two heads.
 */
import type { FamilyCatalogue } from '../../family-catalogue.ts';

/** The mamba3-siso fixture choices. */
export const mamba3SisoCatalogue: FamilyCatalogue<'mamba3-siso'> = {
  dims: (length, batched) => {
    const long = length >= 100;
    // L = 9 holds the 64 variants: two heads there keep them small.
    const heads = (long || length === 9) && !batched ? 2 : 4;
    const groups = [1, 2, heads][length % 3] > heads ? heads : [1, 2, heads][length % 3];
    return { batch: batched ? 2 : 1, heads, dim: heads * (long ? 1 : 2), length, stateSize: 4, groups, angles: 1 + (length % 2) };
  },
  everyVariantAt: [9],
  maxLength: 257,
  optionTags: {},
  inputTags: { angleState: 'a0', ssmState: 's0', kState: 'k0', vState: 'v0' },
};
