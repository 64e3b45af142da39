/** lti-ssm: the S4D convolution form, y = K ∗ u (spec/families/lti-ssm/lti-ssm.md). */
import type { FamilyDescriptor } from '../../family-descriptor.ts';

/** The lti-ssm family. */
export const ltiSsm: FamilyDescriptor<'lti-ssm'> = {
  name: 'lti-ssm',
  summary: 'h_t = Ā ⊙ h_{t−1} + B̄·u_t, y_t = C·h_t + D·u_t (y = K ∗ u)',
  inputs: [
    { name: 'Abar', role: 'parameter', optional: false, additive: false, perState: true },
    { name: 'Bbar', role: 'parameter', optional: false, additive: false, perState: true },
    { name: 'C', role: 'parameter', optional: false, additive: false, perState: true },
    { name: 'D', role: 'parameter', optional: true, additive: false },
    { name: 'u', role: 'sequence', optional: false, additive: true },
  ],
  outputs: [{ name: 'y', kind: 'sequence' }],
  options: {},
  dimensionsFrom: 'u',
  stateSizeFrom: 'Abar',
  readsOut: true,
  errorModels: ['componentwise', 'normwise'],
  reducesTo: { family: 'linear-recurrence', how: 'one recurrence per state n (a = Ā_n, b = B̄_n·u), contracted with C' },
};
