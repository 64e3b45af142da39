/** chunk-size: an implementation that takes a chunk size gives the reference's answer with every size it accepts. */
import type { AnyProblem } from '../../spec/families.ts';
import { exactRegime } from '../compare.ts';
import { checkAgainstReference, comparisonFailure, type CheckResult } from '../pipeline.ts';
import { noParameters, type PropertyDefinition } from './harness.ts';

/** The chunk-size property. */
export const chunkSize: PropertyDefinition<'chunk-size'> = {
  name: 'chunk-size',
  description: 'Every chunk size the implementation accepts gives outputs within the tolerance of the reference, so none changes the result.',
  notApplicable: (family, entry) =>
    (entry.chunkSizes?.length ?? 0) < 2 ? `the implementation's ${family} takes ${entry.chunkSizes?.length === 1 ? 'one chunk size' : 'no chunk size'}` : undefined,
  arbitrary: noParameters,
  check: async (context, c) => {
    const comparisons = [];
    for (const size of context.entry.chunkSizes ?? []) {
      const result: CheckResult = await checkAgainstReference(context, c.problem, {
        settings: { chunkSize: size },
        exact: (expected) => exactRegime(c.request.regime, context.declaration, c.problem as AnyProblem, expected),
        failure: (comparison) => comparisonFailure(`with chunk size ${size} the outputs differ from the reference`, comparison),
      });
      if (result.kind !== 'pass') return result.kind === 'fail' && !result.message.includes(`chunk size ${size}`) ? { ...result, message: `with chunk size ${size}: ${result.message}` } : result;
      comparisons.push(...(result.comparisons ?? []));
    }
    return { kind: 'pass', comparisons };
  },
};
