/** batch-permutation: permuting the batch permutes the outputs. */
import fc from 'fast-check';
import seedrandom from 'seedrandom';
import type { AnyProblem } from '../../spec/families.ts';
import { dimensionsOf } from '../../spec/shapes.ts';
import type { OutputTensor } from '../../spec/tensor.ts';
import { caseArbitrary } from '../arbitraries.ts';
import { guarded, runChecked } from '../pipeline.ts';
import { permuteBatch, permuteLeadingAxis } from '../transforms.ts';
import { always, firstDifference, judged, pairAllowance, pairViolated, withParameters, type PropertyDefinition } from './harness.ts';

/** A permutation of 0…n−1 from a seed (Fisher–Yates); the vjp-batch-permutation property draws the same. */
export function shuffled(n: number, seed: number): number[] {
  const random = seedrandom(`permutation:${seed}`);
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

/** The batch-permutation property. */
export const batchPermutation: PropertyDefinition<'batch-permutation'> = {
  name: 'batch-permutation',
  description: 'Permuting the batch permutes the outputs (within both runs\' bounds).',
  notApplicable: always,
  arbitrary: (family, constraints) =>
    withParameters(caseArbitrary(family, { ...constraints, maxBatch: Math.max(3, constraints.maxBatch ?? 3) }), fc.record({ permutationSeed: fc.nat({ max: 2 ** 31 - 1 }) })),
  check: (context, c) =>
    guarded(async () => {
      const { batch } = dimensionsOf(c.problem as AnyProblem);
      const permutation = shuffled(batch, c.parameters.permutationSeed as number);
      const original = await runChecked(context, c.problem);
      const permutedProblem = permuteBatch(c.problem, permutation);
      const permuted = await runChecked(context, permutedProblem);
      const expected: Record<string, OutputTensor> = {};
      for (const name of Object.keys(original)) expected[name] = permuteLeadingAxis(original[name], permutation);
      // Nothing in IEEE arithmetic makes a row's rounding independent of where the row sits (a
      // kernel may tile the flattened batch): both runs' bounds, which move with their rows, so
      // the permuted problem's bound at each element serves for both.
      const permutedJudged = judged(permutedProblem as AnyProblem, context.declaration);
      const d = firstDifference(expected, permuted, (name, i, a, b) => pairViolated(permutedJudged, i, a, permutedJudged, i, b, name, context.declaration.precision));
      if (d === undefined) return { kind: 'pass' };
      return { kind: 'fail', message: `with the batch permuted as [${permutation.join(', ')}], ${d.name}[${d.coordinates.join(', ')}] is ${d.b}, expected ${d.a} (within both runs' bounds, ${pairAllowance(permutedJudged, d.index, permutedJudged, d.index, d.name).toExponential(3)})` };
    }),
};
