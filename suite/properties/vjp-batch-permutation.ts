/**
 * vjp-batch-permutation: permuting the batch of the problem and of the cotangents permutes the
 * gradients of the batch tensors and leaves the shared parameters' gradients unchanged, within both
 * runs' rule V bounds plus the references' gap (the references sum shared parameters over the
 * batch in another order, so they may differ in their last float64 bit) and float64 roundings.
 */
import fc from 'fast-check';
import type { AnyProblem } from '../../spec/families.ts';
import type { Cotangents } from '../../spec/gradients.ts';
import { dimensionsOf } from '../../spec/shapes.ts';
import type { OutputTensor } from '../../spec/tensor.ts';
import { caseArbitrary } from '../arbitraries.ts';
import { guarded } from '../pipeline.ts';
import { batchTensorNames, permuteBatch, permuteLeadingAxis } from '../transforms.ts';
import { cotangentsOf, isJudged, judgedGradients, nothingJudged, runVjp, vjpNotApplicable, type Gradients } from '../vjp-check.ts';
import { shuffled } from './batch-permutation.ts';
import { firstDifference, withParameters, type PropertyDefinition } from './harness.ts';

/** float64's unit roundoff: the references are rounded once to float64. */
const U64 = 2 ** -53;

/** The vjp-batch-permutation property. */
export const vjpBatchPermutation: PropertyDefinition<'vjp-batch-permutation'> = {
  name: 'vjp-batch-permutation',
  description: 'Permuting the batch of the problem and the cotangents permutes the batch tensors\' gradients and leaves the shared parameters\' unchanged (within both runs\' rule V bounds).',
  notApplicable: vjpNotApplicable,
  arbitrary: (family, constraints) =>
    withParameters(
      caseArbitrary(family, { ...constraints, maxBatch: Math.max(3, constraints.maxBatch ?? 3) }),
      fc.record({ permutationSeed: fc.nat({ max: 2 ** 31 - 1 }), cotangentSeed: fc.nat({ max: 2 ** 31 - 1 }) }),
    ),
  check: (context, c) =>
    guarded(async () => {
      const { batch } = dimensionsOf(c.problem as AnyProblem);
      const permutation = shuffled(batch, c.parameters.permutationSeed as number);
      const cotangents = cotangentsOf(c.problem, c.parameters.cotangentSeed as number);
      const permutedProblem = permuteBatch(c.problem, permutation);
      const permutedCotangents = Object.fromEntries(
        Object.entries(cotangents as unknown as Readonly<Record<string, OutputTensor>>).map(([name, t]) => [name, permuteLeadingAxis(t, permutation)]),
      ) as unknown as Cotangents<typeof c.problem.family>;
      const original = await runVjp(context, c.problem, cotangents);
      const permuted = await runVjp(context, permutedProblem, permutedCotangents);
      const judged = judgedGradients(context, c.problem, cotangents);
      const permutedJudged = judgedGradients(context, permutedProblem, permutedCotangents);
      const batched = new Set(batchTensorNames(c.problem as AnyProblem));
      // Element i of a permuted batch tensor's gradient is element `source(i)` of the original's.
      const moved = (name: string, t: OutputTensor): OutputTensor => (batched.has(name) ? permuteLeadingAxis(t, permutation) : t);
      const expected: Gradients = Object.fromEntries(Object.entries(original).map(([name, t]) => [name, moved(name, t)]));
      const sources = Object.fromEntries(
        Object.entries(original).map(([name, t]) => [name, moved(name, { data: Float64Array.from(t.data, (_, i) => i), shape: t.shape }).data]),
      );
      const reference = (which: typeof judged, name: string, i: number) => (which.reference.gradients as unknown as Readonly<Record<string, OutputTensor>>)[name].data[i];
      let compared = 0;
      const d = firstDifference(permuted, expected, (name, i, got, want) => {
        const j = sources[name][i];
        if (!isJudged(judged, name, j) || !isJudged(permutedJudged, name, i)) return false;
        compared++;
        if (![got, want].every(Number.isFinite) && (judged.bounds.overflowPossible || permutedJudged.bounds.overflowPossible)) return false;
        const [r, rp] = [reference(judged, name, j), reference(permutedJudged, name, i)];
        const allowance = judged.bounds.bounds[name][j] + permutedJudged.bounds.bounds[name][i] + Math.abs(r - rp) + 4 * U64 * (Math.abs(r) + Math.abs(rp) + Math.abs(got) + Math.abs(want));
        return got !== want && !(Math.abs(got - want) <= allowance);
      });
      if (d === undefined) return nothingJudged(compared, Object.values(permuted).reduce((n, t) => n + t.data.length, 0)) ?? { kind: 'pass' };
      const what = batched.has(d.name) ? 'the permuted gradient row' : 'the shared parameter\'s gradient';
      return {
        kind: 'fail',
        message: `with the batch permuted as [${permutation.join(', ')}], vjp.${d.name}[${d.coordinates.join(', ')}] is ${d.a}, expected ${d.b} (${what} of the unpermuted run), beyond both runs' rule V bounds`,
      };
    }),
};
