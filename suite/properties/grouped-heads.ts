/**
 * grouped-heads: a problem whose heads share groups (ssd's B and C, mamba3-siso's Q and K, G < H)
 * equals the problem with every group repeated for the heads that read it (G = H), as mamba_ssm's
 * references expand them (`repeat(…, "b l g n -> b l (g h) n")`): head h reads group ⌊h / (H/G)⌋.
 * Catches a kernel that maps heads to groups otherwise (h mod G) or reads the wrong group's row.
 */
import type { AnyProblem, FamilyName } from '../../spec/families.ts';
import { descriptorOf } from '../../spec/families/index.ts';
import { declaredAxes, dimensionsOf } from '../../spec/shapes.ts';
import { aroundAxis } from '../../spec/tensor-axis.ts';
import type { Tensor } from '../../spec/tensor.ts';
import { caseArbitrary } from '../arbitraries.ts';
import { guarded, runChecked } from '../pipeline.ts';
import { inputsOf, withInputs } from '../transforms.ts';
import { firstDifference, judged, pairAllowance, pairViolated, withParameters, type PropertyDefinition } from './harness.ts';
import fc from 'fast-check';

/** The inputs of a family laid out with a `groups` axis. */
function groupedInputNames(family: FamilyName): string[] {
  return descriptorOf(family).inputs.filter((input) => input.axes?.includes('groups') === true).map((input) => input.name);
}

/** A tensor with its groups axis (size G) repeated in blocks to H: index h' reads group ⌊h' / (H/G)⌋. */
function repeatGroups(tensor: Tensor, axis: number, heads: number): Tensor {
  const { outer, n: groups, inner } = aroundAxis(tensor.shape, axis);
  const perGroup = heads / groups;
  const data = new Float32Array(outer * heads * inner);
  for (let o = 0; o < outer; o++) {
    for (let h = 0; h < heads; h++) {
      const g = Math.floor(h / perGroup);
      data.set(tensor.data.subarray((o * groups + g) * inner, (o * groups + g + 1) * inner), (o * heads + h) * inner);
    }
  }
  const shape = [...tensor.shape];
  shape[axis] = heads;
  return { data, shape };
}

/** The grouped-heads property. */
export const groupedHeads: PropertyDefinition<'grouped-heads'> = {
  name: 'grouped-heads',
  description: 'Heads sharing groups (G < H) equal the groups repeated in blocks for their heads (G = H), within both runs\' bounds.',
  notApplicable: (family) => (groupedInputNames(family).length === 0 ? `${family} has no groups of heads` : undefined),
  // Groups of at least two heads, so the repetition changes something (G = H would compare a problem with itself).
  arbitrary: (family, constraints) => withParameters(caseArbitrary(family, { ...constraints, minGroupSize: 2 }), fc.record({})),
  check: (context, c) =>
    guarded(async () => {
      const problem = c.problem as AnyProblem;
      const { heads = 1 } = dimensionsOf(problem);
      const inputs = inputsOf(problem);
      const repeated: Record<string, Tensor> = {};
      for (const name of groupedInputNames(problem.family)) {
        const tensor = inputs[name];
        const axes = declaredAxes(problem.family, name);
        if (tensor !== undefined && axes !== undefined) repeated[name] = repeatGroups(tensor, axes.indexOf('groups'), heads);
      }
      const expanded = withInputs(c.problem, repeated);
      const [grouped, ungrouped] = [await runChecked(context, c.problem), await runChecked(context, expanded)];
      const first = judged(problem, context.declaration);
      const second = judged(expanded as AnyProblem, context.declaration);
      const d = firstDifference(grouped, ungrouped, (name, i, a, b) => pairViolated(first, i, a, second, i, b, name, context.declaration.precision));
      if (d === undefined) return { kind: 'pass' };
      return {
        kind: 'fail',
        message: `with the groups repeated for their heads (G = H = ${heads}), ${d.name}[${d.coordinates.join(', ')}] is ${d.b}, the grouped run gives ${d.a} (allowance ${pairAllowance(first, d.index, second, d.index, d.name).toExponential(3)})`,
      };
    }),
};
