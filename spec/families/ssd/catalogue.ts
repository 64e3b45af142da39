/**
 * ssd's fixtures: four heads of two channels with N = 3, groups cycling through 1, 2 and 4 (= H)
 * with the length, so every G a kernel maps heads by appears across lengths; one head of one
 * channel, N = 2, on long sequences. Its 256 variants (6 optional inputs, D in both shapes,
 * dtSoftplus) run once each at L = 9.
 */
import type { FamilyCatalogue } from '../../family-catalogue.ts';
import type { RegimeName } from '../../regimes.ts';

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

/**
 * One varlen fixture (spec/families/ssd/varlen.ts): a regime, the sequence lengths packed into the
 * row (their running sums are cuSeqlens), and the variant by its id tags (`softplus-Dhp-z-bias-limit-h0`
 * order; '' for none; never `packed`, the varlen form has no seqIdx).
 */
export interface SsdVarlenFixture {
  readonly regime: RegimeName;
  readonly lengths: readonly number[];
  readonly tags: string;
}

/**
 * ssd's varlen fixtures: one to five sequences; empty and one-token sequences first, last and
 * between others; sequence starts on (16, 64, 128, 256) and next to (15, 17, 63, 65, 255) the
 * usual chunk sizes and inside chunks (40, 100); each option and optional input (D both shapes,
 * z, dtBias, dtLimit, dtSoftplus) several times, with and without per-sequence initialStates.
 */
export const ssdVarlenFixtures: readonly SsdVarlenFixture[] = [
  { regime: 'generic', lengths: [0], tags: 'h0' },
  { regime: 'generic', lengths: [1], tags: 'softplus-D-z' },
  { regime: 'generic', lengths: [16], tags: 'Dhp-bias-limit-h0' },
  { regime: 'generic', lengths: [16, 16], tags: 'softplus-D-bias-h0' },
  { regime: 'generic', lengths: [15, 17], tags: 'z-limit-h0' },
  { regime: 'generic', lengths: [17, 15], tags: 'softplus-Dhp-z-bias-limit' },
  { regime: 'generic', lengths: [64, 64], tags: 'D-z-bias-limit-h0' },
  { regime: 'generic', lengths: [63, 2, 64], tags: 'softplus-h0' },
  { regime: 'generic', lengths: [65, 0, 63], tags: 'Dhp-z-h0' },
  { regime: 'generic', lengths: [5, 1, 0, 9, 1], tags: 'softplus-D-z-bias-limit-h0' },
  { regime: 'generic', lengths: [0, 0, 7], tags: 'limit-h0' },
  { regime: 'generic', lengths: [7, 0, 0], tags: 'softplus-bias' },
  { regime: 'generic', lengths: [40, 88], tags: 'Dhp-h0' },
  { regime: 'generic', lengths: [100, 28, 129], tags: 'softplus-Dhp-z-bias-limit-h0' },
  { regime: 'generic', lengths: [33, 33, 33, 33, 33], tags: 'D-bias-h0' },
  { regime: 'generic', lengths: [1, 1, 1, 1, 1], tags: 'softplus-Dhp-z-limit-h0' },
  { regime: 'generic', lengths: [48, 48, 48], tags: 'softplus-z-bias-h0' },
  { regime: 'generic', lengths: [255, 2], tags: 'D-limit' },
  { regime: 'generic', lengths: [256, 1], tags: 'softplus-Dhp-bias-h0' },
  { regime: 'generic', lengths: [3, 300], tags: 'softplus-D-z-h0' },
  { regime: 'decay-near-1', lengths: [64, 64], tags: 'D-h0' },
  { regime: 'decay-near-1', lengths: [1, 190, 65], tags: 'softplus-z-bias-limit-h0' },
  { regime: 'decay-near-0', lengths: [17, 0, 47], tags: 'softplus-D-h0' },
  { regime: 'dyadic-exact', lengths: [5, 1, 0, 9, 1], tags: 'D-h0' },
  { regime: 'dyadic-exact', lengths: [63, 65], tags: 'softplus-Dhp-bias-limit-h0' },
  { regime: 'zeros', lengths: [16, 0, 17], tags: 'D-z-h0' },
  { regime: 'softplus-threshold', lengths: [31, 33], tags: 'softplus-bias-h0' },
];
