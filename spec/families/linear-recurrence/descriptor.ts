/** linear-recurrence: h_t = a_t·h_{t−1} + b_t (spec/families/linear-recurrence/linear-recurrence.md). */
import type { FamilyDescriptor } from '../../family-descriptor.ts';

/** The linear-recurrence family. */
export const linearRecurrence: FamilyDescriptor<'linear-recurrence'> = {
  name: 'linear-recurrence',
  summary: 'h_t = a_t·h_{t−1} + b_t, h_{−1} = h0',
  inputs: [
    { name: 'a', role: 'sequence', optional: false, additive: false },
    { name: 'b', role: 'sequence', optional: false, additive: true },
    { name: 'h0', role: 'state', optional: true, additive: true },
  ],
  outputs: [
    { name: 'h', kind: 'sequence' },
    { name: 'lastState', kind: 'state' },
  ],
  options: {
    reverse: { default: false, directional: true, inStep: false, description: 'runs the recurrence from t = L−1 down to 0' },
  },
  dimensionsFrom: 'a',
  readsOut: false,
  errorModels: ['componentwise'],
};
