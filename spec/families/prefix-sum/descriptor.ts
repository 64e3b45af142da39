/** prefix-sum: y_t = Σ_{k≤t} x_k (spec/families/prefix-sum/prefix-sum.md). */
import type { FamilyDescriptor } from '../../family-descriptor.ts';

/** The prefix-sum family. */
export const prefixSum: FamilyDescriptor<'prefix-sum'> = {
  name: 'prefix-sum',
  summary: 'y_t = Σ_{k≤t} x_k',
  inputs: [{ name: 'x', role: 'sequence', optional: false, additive: true }],
  outputs: [{ name: 'y', kind: 'sequence' }],
  options: {
    exclusive: { default: false, inStep: false, description: 'y_t sums x_k for k < t (y_0 = 0)' },
    reverse: { default: false, directional: true, inStep: false, description: 'sums from the end: y_t = Σ_{k≥t} x_k' },
  },
  dimensionsFrom: 'x',
  readsOut: false,
  errorModels: ['componentwise'],
  reducesTo: { family: 'linear-recurrence', how: 'a ≡ 1, b = x (exclusive: shifted by one)' },
};
