/** state-passing: splitting the sequence and continuing from the returned final state equals the whole run. */
import fc from 'fast-check';
import type { AnyProblem } from '../../spec/families.ts';
import { statePassing as passesState, statesOf } from '../../spec/families/index.ts';
import { dimensionsOf } from '../../spec/shapes.ts';
import { caseArbitrary } from '../arbitraries.ts';
import { compareWithReference } from '../compare.ts';
import { comparisonFailure, expectedOf, guarded, runChecked } from '../pipeline.ts';
import { sliceTime, stateAcrossSplit, withInputs } from '../transforms.ts';
import { asInput, isReversed, splitArbitrary, withParameters, type PropertyDefinition } from './harness.ts';

/** The state-passing property. */
export const statePassing: PropertyDefinition<'state-passing'> = {
  name: 'state-passing',
  description: 'Splitting the sequence at k and continuing from the returned final state equals the whole run.',
  notApplicable: (family) => (passesState(family) ? undefined : `${family} has no state to pass`),
  arbitrary: (family, constraints) => withParameters(caseArbitrary(family, constraints), fc.record({ split: splitArbitrary() })),
  check: (context, c) =>
    guarded(async () => {
      const problem = c.problem;
      const L = dimensionsOf(problem as AnyProblem).length;
      const k = (c.parameters.split as number) % (L + 1);

      // In processing order: the first part runs from h0, the second continues from its last state.
      const [firstRange, secondRange] = isReversed(problem as AnyProblem) ? [[L - k, L], [0, L - k]] : [[0, k], [k, L]];
      const firstProblem = sliceTime(problem, firstRange[0], firstRange[1]);
      const first = await runChecked(context, firstProblem);
      // Where a segment starts at the split, the next sequence starts from zero (no directional family has segments).
      // Every state the family hands on (mamba3-siso: angle, SSM, key and value) goes to the second part.
      const handed = Object.fromEntries(statesOf(problem.family).map(({ input, output }) => [input, stateAcrossSplit(problem as AnyProblem, secondRange[0], asInput(first[output]))]));
      const continued = withInputs(sliceTime(problem, secondRange[0], secondRange[1]), handed);
      const second = await runChecked(context, continued);
      // The first part's state is judged against its reference; the continued part against the
      // reference continuing from exactly the state it was handed (a float64 state crosses the
      // interface as float32, an input like any other). Together they say the split equals the
      // whole run, without holding either run to the other's rounding.
      const firstCheck = compareWithReference(firstProblem as AnyProblem, first, expectedOf(firstProblem as AnyProblem), context.declaration);
      if (!firstCheck.passed) return comparisonFailure(`split at k = ${k}: the first part (its last state included) differs from its reference`, firstCheck);
      const secondCheck = compareWithReference(continued as AnyProblem, second, expectedOf(continued as AnyProblem), context.declaration);
      if (!secondCheck.passed) return comparisonFailure(`split at k = ${k}: continuing from the returned state differs from the reference continuing from it`, secondCheck);
      return { kind: 'pass' };
    }),
};
