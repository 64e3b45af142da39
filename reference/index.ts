/**
 * The reference: sequential double-double evaluation of every family, rounded once to float64,
 * with the condition and depth scales of each output element. The one source of truth the
 * fixtures and the suite compare implementations against.
 */
import type { FamilyName, Problem } from '../spec/families.ts';
import { validateProblem } from '../spec/validate.ts';
import { linearRecurrence } from './linear-recurrence.ts';
import { ltiSsm } from './lti-ssm.ts';
import { prefixSum } from './prefix-sum.ts';
import type { ReferenceResult } from './result.ts';
import { selectiveScan } from './selective-scan.ts';
import { ssd } from './ssd.ts';
import { mamba3Siso } from './mamba3-siso.ts';

/** The reference answer to a problem of any family: validates it (spec/validate.ts), then evaluates it sequentially in double-double. */
export function reference<F extends FamilyName>(problem: Problem<F>): ReferenceResult<F> {
  const checked = validateProblem(problem);
  switch (checked.family) {
    case 'prefix-sum':
      return prefixSum(checked.inputs, checked.options) as ReferenceResult<F>;
    case 'linear-recurrence':
      return linearRecurrence(checked.inputs, checked.options) as ReferenceResult<F>;
    case 'selective-scan':
      return selectiveScan(checked.inputs, checked.options) as ReferenceResult<F>;
    case 'lti-ssm':
      return ltiSsm(checked.inputs, checked.options) as ReferenceResult<F>;
    case 'ssd':
      return ssd(checked.inputs, checked.options) as ReferenceResult<F>;
    case 'mamba3-siso':
      return mamba3Siso(checked.inputs) as ReferenceResult<F>;
  }
}

export { referenceStep } from './step.ts';
export { prefixSum } from './prefix-sum.ts';
export { linearRecurrence } from './linear-recurrence.ts';
export { selectiveScan } from './selective-scan.ts';
export { effectiveDelta, silu, softplus } from '../spec/families/selective-scan/discretization.ts';
export { ltiSsm } from './lti-ssm.ts';
export { ssd } from './ssd.ts';
export { mamba3Siso, mamba3SisoStep } from './mamba3-siso.ts';
export type { ReferenceResult, ReferenceStepResult, ReferenceTensors } from './result.ts';
