/**
 * The registry of families: adding a family is its folder, its reference and one line here. The
 * mapped type makes the compiler name any family of spec/families.ts that has no descriptor.
 */
import type { FamilyName } from '../families.ts';
import type { FamilyDescriptor } from '../family-descriptor.ts';
import { linearRecurrence } from './linear-recurrence/descriptor.ts';
import { ltiSsm } from './lti-ssm/descriptor.ts';
import { prefixSum } from './prefix-sum/descriptor.ts';
import { selectiveScan } from './selective-scan/descriptor.ts';

/** Every family's descriptor, by name. */
export const FAMILIES: { readonly [F in FamilyName]: FamilyDescriptor<F> } = {
  'prefix-sum': prefixSum,
  'linear-recurrence': linearRecurrence,
  'selective-scan': selectiveScan,
  'lti-ssm': ltiSsm,
};

/** The descriptor of a family. */
export function descriptorOf<F extends FamilyName>(family: F): FamilyDescriptor<F> {
  return FAMILIES[family] as FamilyDescriptor<F>;
}
