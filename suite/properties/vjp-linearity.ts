/** vjp-linearity: vjp(ȳ₁ + ȳ₂) = vjp(ȳ₁) + vjp(ȳ₂), each run within its rule V bound. */
import fc from 'fast-check';
import type { AnyProblem } from '../../spec/families.ts';
import type { Cotangents } from '../../spec/gradients.ts';
import type { OutputTensor } from '../../spec/tensor.ts';
import { caseArbitrary } from '../arbitraries.ts';
import { guarded } from '../pipeline.ts';
import { cotangentsOf, isJudged, judgedGradients, nothingJudged, runVjp, vjpNotApplicable, type Gradients } from '../vjp-check.ts';
import { firstDifference, withParameters, type PropertyDefinition } from './harness.ts';

/** float64's unit roundoff: the references are rounded once to float64 and the gap is taken in float64. */
const U64 = 2 ** -53;

/** The vjp-linearity property. */
export const vjpLinearity: PropertyDefinition<'vjp-linearity'> = {
  name: 'vjp-linearity',
  description: 'vjp(ȳ₁ + ȳ₂) = vjp(ȳ₁) + vjp(ȳ₂) within the three runs\' rule V bounds plus the references\' gap.',
  notApplicable: vjpNotApplicable,
  arbitrary: (family, constraints) =>
    withParameters(caseArbitrary(family, constraints), fc.record({ cotangentSeed: fc.nat({ max: 2 ** 31 - 1 }), secondSeed: fc.nat({ max: 2 ** 31 - 1 }) })),
  check: (context, c) =>
    guarded(async () => {
      const first = cotangentsOf(c.problem, c.parameters.cotangentSeed as number);
      const second = cotangentsOf(c.problem, c.parameters.secondSeed as number);
      const sum = Object.fromEntries(
        Object.entries(first as unknown as Readonly<Record<string, OutputTensor>>).map(([name, t]) => {
          const other = (second as unknown as Readonly<Record<string, OutputTensor>>)[name].data;
          return [name, { data: Float32Array.from(t.data, (v, i) => v + other[i]), shape: t.shape }];
        }),
      ) as unknown as Cotangents<typeof c.problem.family>;
      const runs = [first, second, sum];
      const gradients: Gradients[] = [];
      for (const cotangents of runs) gradients.push(await runVjp(context, c.problem, cotangents));
      const judged = runs.map((cotangents) => judgedGradients(context, c.problem, cotangents));
      const reference = (k: number, name: string, i: number) => (judged[k].reference.gradients as Readonly<Record<string, OutputTensor>>)[name].data[i];
      let compared = 0;
      const d = firstDifference(gradients[2], gradients[0], (name, i, g3, g1) => {
        if (![0, 1, 2].every((k) => isJudged(judged[k], name, i))) return false;
        compared++;
        const g2 = gradients[1][name].data[i];
        if (![g1, g2, g3].every(Number.isFinite) && judged.some((j) => j.bounds.overflowPossible)) return false;
        const [r1, r2, r3] = [reference(0, name, i), reference(1, name, i), reference(2, name, i)];
        const allowance =
          judged.reduce((s, j) => s + j.bounds.bounds[name][i], 0) + Math.abs(r3 - r1 - r2) + 4 * U64 * (Math.abs(r1) + Math.abs(r2) + Math.abs(r3) + Math.abs(g1) + Math.abs(g2) + Math.abs(g3));
        return !(Math.abs(g3 - (g1 + g2)) <= allowance);
      });
      if (d === undefined) return nothingJudged(compared, Object.values(gradients[0]).reduce((n, t) => n + t.data.length, 0)) ?? { kind: 'pass' };
      const g2 = gradients[1][d.name].data[d.index];
      return {
        kind: 'fail',
        message: `vjp(ȳ₁ + ȳ₂) − vjp(ȳ₁) − vjp(ȳ₂) at vjp.${d.name}[${d.coordinates.join(', ')}] is ${d.a - d.b - g2} (${d.a} against ${d.b} + ${g2}), beyond the three rule V bounds`,
      };
    }),
};
