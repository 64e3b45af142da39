/** scaling: scaling the additive inputs by 2^k scales every output by 2^k. */
import fc from 'fast-check';
import type { AnyProblem } from '../../spec/families.ts';
import { caseArbitrary } from '../arbitraries.ts';
import { scalingIsExact } from '../exactness.ts';
import { guarded, runChecked } from '../pipeline.ts';
import { mapAdditiveInputs } from '../transforms.ts';
import { always, firstDifference, linearOutputs, judged, pairAllowance, pairViolated, restrictRegimes, same, withParameters, type PropertyDefinition } from './harness.ts';

/** Regimes where scaling by 2^k stays clear of underflow and overflow. */
const SCALE_SAFE_REGIMES = ['generic', 'decay-near-1', 'zeros', 'oscillating', 'dyadic-exact', 'softplus-threshold', 'identity-padding'] as const;

/** The scaling property. */
export const scaling: PropertyDefinition<'scaling'> = {
  name: 'scaling',
  description: 'Scaling the additive inputs (b, h0, x, u) by 2^k scales every output by 2^k: exactly where no intermediate can under- or overflow, else within both runs\' bounds.',
  notApplicable: always,
  arbitrary: (family, constraints) =>
    withParameters(
      caseArbitrary(family, restrictRegimes(family, constraints, SCALE_SAFE_REGIMES)),
      fc.record({ exponent: fc.integer({ min: -6, max: 6 }).filter((k) => k !== 0) }),
    ),
  check: (context, c) =>
    guarded(async () => {
      const exponent = c.parameters.exponent as number;
      const factor = 2 ** exponent;
      const problem = c.problem as AnyProblem;
      const scaledProblem = mapAdditiveInputs(c.problem, (v) => v * factor);
      const original = await runChecked(context, c.problem);
      const scaled = await runChecked(context, scaledProblem);
      if (scalingIsExact(problem, context.declaration, exponent)) {
        // No operation of either run can under- or overflow: IEEE scaling by 2^k is exact in every
        // order, provided both runs take the same order. A kernel whose order varies from call to
        // call (determinism is not required) shows it when the scaled problem, run again, differs
        // from its first run; it is then held to the bounds.
        const d = firstDifference(original, scaled, (_, __, a, b) => !same(a * factor, b), linearOutputs(problem.family, original));
        if (d === undefined) return { kind: 'pass' };
        const again = await runChecked(context, scaledProblem);
        if (firstDifference(scaled, again, (_, __, a, b) => !same(a, b)) === undefined) {
          return {
            kind: 'fail',
            message: `scaling the additive inputs by 2^${exponent}: ${d.name}[${d.coordinates.join(', ')}] became ${d.b}, expected exactly ${d.a} × ${factor} = ${d.a * factor}`,
          };
        }
      }
      // Something may under- or overflow (or the arithmetic has transcendental factors): each run
      // is held to its own bound, around references that differ by exactly 2^k (up to their rounding).
      const before = judged(problem, context.declaration);
      const after = judged(scaledProblem as AnyProblem, context.declaration);
      const d = firstDifference(original, scaled, (name, i, a, b) => pairViolated(before, i, a, after, i, b, name, context.declaration.precision, factor), linearOutputs(problem.family, original));
      if (d === undefined) return { kind: 'pass' };
      const allowance = pairAllowance(before, d.index, after, d.index, d.name, factor);
      return {
        kind: 'fail',
        message: `scaling the additive inputs by 2^${exponent}: ${d.name}[${d.coordinates.join(', ')}] became ${d.b}, expected ${d.a} × ${factor} = ${d.a * factor} within both runs' bounds (allowance ${allowance.toExponential(3)}; exactness is not guaranteed here: an intermediate may under- or overflow)`,
      };
    }),
};
