/** reverse-flip: a reverse scan equals flip ∘ forward scan ∘ flip. */
import type { AnyProblem, OptionsOf } from '../../spec/families.ts';
import { directionalOptionNames } from '../../spec/families/index.ts';
import { dimensionsOf } from '../../spec/shapes.ts';
import type { OutputTensor } from '../../spec/tensor.ts';
import { guarded, runChecked } from '../pipeline.ts';
import { flipOutputTime, flipTime, mirroredTimeIndex } from '../transforms.ts';
import { firstDifference, isStateOutput, judged, noParameters, pairViolated, type PropertyDefinition } from './harness.ts';

/** Every directional option of a family set to a value (spec/families/<name>/descriptor.ts). */
function directional(family: AnyProblem['family'], value: boolean): Record<string, boolean> {
  return Object.fromEntries(directionalOptionNames(family).map((name) => [name, value]));
}

/** The reverse-flip property. */
export const reverseFlip: PropertyDefinition<'reverse-flip'> = {
  name: 'reverse-flip',
  description: 'A reverse scan equals flip ∘ forward scan ∘ flip (within both runs\' bounds).',
  notApplicable: (family) => (directionalOptionNames(family).length > 0 ? undefined : `${family} has no reverse option`),
  arbitrary: (family, constraints) => noParameters(family, { ...constraints, options: { ...constraints.options, ...directional(family, true) } as Partial<OptionsOf<typeof family>> }),
  check: (context, c) =>
    guarded(async () => {
      const family = c.problem.family;
      const reversed = await runChecked(context, c.problem);
      const forwardOptions = { ...c.problem.options, ...directional(family, false) };
      const forwardProblem = flipTime(c.problem, forwardOptions);
      const forward = await runChecked(context, forwardProblem);
      // Both runs' bounds, the forward one read at the mirrored element.
      const reverseJudged = judged(c.problem as AnyProblem, context.declaration);
      const forwardJudged = judged(forwardProblem as AnyProblem, context.declaration);
      const mirror = (name: string, i: number) => mirroredTimeIndex(family, name, forward[name].shape, i);
      const flipped: Record<string, OutputTensor> = {};
      for (const name of Object.keys(forward)) flipped[name] = flipOutputTime(family, name, forward[name]);
      const d = firstDifference(
        reversed,
        flipped,
        (name, i, a, b) => pairViolated(reverseJudged, i, a, forwardJudged, mirror(name, i), b, name, context.declaration.precision),
      );
      if (d === undefined) return { kind: 'pass' };
      return { kind: 'fail', message: `reverse scan ${d.name}[${d.coordinates.join(', ')}] is ${d.a}, flip∘scan∘flip gives ${d.b}` };
    }),
};
