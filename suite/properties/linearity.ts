/** linearity: run(b₁ + b₂) = run(b₁) + run(b₂) in the additive inputs. */
import fc from 'fast-check';
import type { AnyProblem } from '../../spec/families.ts';
import { UNIT_ROUNDOFF } from '../../spec/precision.ts';
import { caseArbitrary, problemOfCase } from '../arbitraries.ts';
import { elementBounds } from '../compare.ts';
import { expectedOf, guarded, runChecked } from '../pipeline.ts';
import { inputsOf, mapAdditiveInputs } from '../transforms.ts';
import { always, firstDifference, linearOutputs, restrictRegimes, withParameters, type PropertyDefinition } from './harness.ts';

/** The linearity property. */
export const linearity: PropertyDefinition<'linearity'> = {
  name: 'linearity',
  description: 'run(b₁ + b₂) = run(b₁) + run(b₂) within the sum of the three bounds (plus the float32 rounding of b₁ + b₂).',
  notApplicable: always,
  arbitrary: (family, constraints) =>
    withParameters(
      caseArbitrary(family, restrictRegimes(family, constraints, ['generic', 'decay-near-1', 'decay-near-0', 'zeros', 'oscillating', 'softplus-threshold'])),
      fc.record({ secondSeed: fc.nat({ max: 2 ** 31 - 1 }) }),
    ),
  check: (context, c) =>
    guarded(async () => {
      const p1 = c.problem;
      const other = problemOfCase(c.request, c.parameters.secondSeed as number, c.timeInvariant);
      const otherInputs = inputsOf(other);
      const p2 = mapAdditiveInputs(p1, (_, name, i) => otherInputs[name]!.data[i]);
      const p3 = mapAdditiveInputs(p1, (v, name, i) => Math.fround(v + otherInputs[name]!.data[i]));
      const [o1, o2, o3] = [await runChecked(context, p1), await runChecked(context, p2), await runChecked(context, p3)];
      const bounds = [p1, p2, p3].map((p) => {
        const expected = expectedOf(p as AnyProblem);
        return { expected, bounds: elementBounds(p as AnyProblem, expected, context.declaration) };
      });
      const sumRounding = UNIT_ROUNDOFF.float32;
      const d = firstDifference(o3, o1, (name, i, v3, v1) => {
        const v2 = o2[name].data[i];
        const allowance =
          bounds[0].bounds[name][i] + bounds[1].bounds[name][i] + bounds[2].bounds[name][i] + sumRounding * bounds[2].expected.conditionScales[name].data[i];
        return !(Math.abs(v3 - (v1 + v2)) <= allowance);
      }, linearOutputs(p1.family, o1));
      if (d === undefined) return { kind: 'pass' };
      return {
        kind: 'fail',
        message: `run(b₁ + b₂) − run(b₁) − run(b₂) at ${d.name}[${d.coordinates.join(', ')}] is ${d.a - d.b - o2[d.name].data[d.index]}, beyond the three bounds`,
      };
    }),
};
