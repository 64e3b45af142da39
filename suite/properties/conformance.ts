/** conformance: a run agrees with the reference within the tolerance bound (bit for bit in dyadic-exact cases). */
import type { AnyProblem } from '../../spec/families.ts';
import { exactRegime } from '../compare.ts';
import { checkAgainstReference, comparisonFailure } from '../pipeline.ts';
import { always, noParameters, type PropertyDefinition } from './harness.ts';

/** The conformance property. */
export const conformance: PropertyDefinition<'conformance'> = {
  name: 'conformance',
  description: 'Outputs agree with the reference within the tolerance bound (bit for bit in dyadic-exact cases).',
  notApplicable: always,
  arbitrary: noParameters,
  check: (context, c) =>
    checkAgainstReference(context, c.problem, {
      exact: (expected) => exactRegime(c.request.regime, context.declaration, c.problem as AnyProblem, expected),
      failure: (comparison) => comparisonFailure('outputs differ from the reference', comparison),
    }),
};
