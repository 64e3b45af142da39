/** causality: changing the inputs at time t leaves every output before t unchanged. */
import fc from 'fast-check';
import type { AnyProblem } from '../../spec/families.ts';
import { dimensionsOf } from '../../spec/shapes.ts';
import { descriptorOf } from '../../spec/families/index.ts';
import { caseArbitrary, problemOfCase } from '../arbitraries.ts';
import { guarded, runChecked } from '../pipeline.ts';
import { outputTimeIndex, replaceAtTime } from '../transforms.ts';
import { always, firstDifference, isReversed, isStateOutput, judged, pairAllowance, pairViolated, withParameters, type PropertyDefinition } from './harness.ts';

/** The causality property. */
export const causality: PropertyDefinition<'causality'> = {
  name: 'causality',
  description: 'Changing the inputs at time t leaves every output before t unchanged (within both runs\' bounds; exactly where both are 0).',
  notApplicable: always,
  arbitrary: (family, constraints) =>
    withParameters(caseArbitrary(family, constraints), fc.record({ at: fc.nat({ max: 1 << 16 }), changeSeed: fc.nat({ max: 2 ** 31 - 1 }) })),
  check: (context, c) =>
    guarded(async () => {
      const problem = c.problem;
      const L = dimensionsOf(problem as AnyProblem).length;
      if (L === 0) return { kind: 'pass' };
      const t = (c.parameters.at as number) % L;
      const other = problemOfCase(c.request, c.parameters.changeSeed as number, c.timeInvariant);
      // A case drawn as a convolution (constant Δ) stays one: the inputs held constant keep their
      // values, so a convolution kernel (FFT) computes the changed problem instead of declining it.
      const heldConstant: readonly string[] = c.timeInvariant ? (descriptorOf(problem.family).convolutionWhenConstant ?? []) : [];
      const changed = replaceAtTime(problem, other, t, heldConstant);
      const before = await runChecked(context, problem);
      const after = await runChecked(context, changed);
      const reverse = isReversed(problem as AnyProblem);
      const precedes = (name: string, i: number) => {
        const at = outputTimeIndex(problem.family, name, before[name].shape, i);
        return reverse ? at > t : at < t;
      };
      // Outputs before t have the same reference in both runs; each run may round them its own way
      // within its own bound (an FFT spreads the rounding of the changed inputs over every time),
      // so the two may differ by both bounds, and by nothing where both are 0.
      const beforeJudged = judged(problem as AnyProblem, context.declaration);
      const afterJudged = judged(changed as AnyProblem, context.declaration);
      const names = Object.keys(before).filter((n) => !isStateOutput(problem.family, n));
      const d = firstDifference(
        before,
        after,
        (name, i, a, b) => precedes(name, i) && pairViolated(beforeJudged, i, a, afterJudged, i, b, name, context.declaration.precision),
        names,
      );
      if (d === undefined) return { kind: 'pass' };
      const allowance = pairAllowance(beforeJudged, d.index, afterJudged, d.index, d.name);
      return {
        kind: 'fail',
        message: `changing the inputs at t = ${t} changed ${d.name}[${d.coordinates.join(', ')}], which comes before t, from ${d.a} to ${d.b} (allowance of both runs ${allowance.toExponential(3)})`,
      };
    }),
};
