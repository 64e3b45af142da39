/** lti-ssm's fixtures: two channels, N = 3 (one channel, N = 2 on long sequences), every variant on the boundary lengths. */
import type { FamilyCatalogue } from '../../family-catalogue.ts';

/** The lti-ssm fixture choices. */
export const ltiSsmCatalogue: FamilyCatalogue<'lti-ssm'> = {
  dims: (length, batched) => {
    const long = length > 257;
    return { batch: batched ? 2 : 1, dim: batched ? 4 : long ? 1 : 2, length, stateSize: long ? 2 : 3 };
  },
  optionTags: {},
};
