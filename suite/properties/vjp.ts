/** vjp: the implementation's gradients agree with the gradient reference within rule V. */
import fc from 'fast-check';
import type { AnyProblem } from '../../spec/families.ts';
import { caseArbitrary } from '../arbitraries.ts';
import { guarded } from '../pipeline.ts';
import { cotangentsOf, gradientComparisons, gradientFailure, judgedGradients, nothingJudged, runVjp, vjpNotApplicable } from '../vjp-check.ts';
import { withParameters, type PropertyDefinition } from './harness.ts';

/** The vjp property. */
export const vjp: PropertyDefinition<'vjp'> = {
  name: 'vjp',
  description: 'vjp(ȳ) for random float32 cotangents ȳ agrees with the gradient reference within rule V (spec/tolerance.md, "Gradients").',
  notApplicable: vjpNotApplicable,
  arbitrary: (family, constraints) => withParameters(caseArbitrary(family, constraints), fc.record({ cotangentSeed: fc.nat({ max: 2 ** 31 - 1 }) })),
  check: (context, c) =>
    guarded(async () => {
      const cotangents = cotangentsOf(c.problem, c.parameters.cotangentSeed as number);
      const gradients = await runVjp(context, c.problem, cotangents);
      const judged = judgedGradients(context, c.problem, cotangents);
      const measured = gradientComparisons(judged, gradients, context.declaration);
      const total = Object.values(gradients).reduce((n, t) => n + t.data.length, 0);
      const declined = nothingJudged(measured.reduce((n, m) => n + m.elements, 0), total);
      if (declined !== undefined) return declined;
      const failure = gradientFailure(judged, gradients, context.declaration, 'gradients differ from the reference');
      return failure === undefined ? { kind: 'pass', gradientComparisons: measured } : { ...failure, gradientComparisons: measured };
    }),
};
