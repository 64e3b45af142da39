/**
 * vjp-dot-product: ⟨ȳ, J·v⟩ = ⟨vjp(ȳ), v⟩ for random tangents v, J·v from the forward-mode
 * reference (referenceJvp): a check of the implementation's vjp that does not go through the
 * reverse-mode reference, and that a gradient computed with the wrong transpose fails.
 */
import fc from 'fast-check';
import type { AnyProblem } from '../../spec/families.ts';
import { referenceJvp } from '../../reference/vjp/index.ts';
import { caseArbitrary } from '../arbitraries.ts';
import { guarded } from '../pipeline.ts';
import { cotangentsOf, isJudged, judgedGradients, nothingJudged, runVjp, tangentsOf, vjpNotApplicable } from '../vjp-check.ts';
import { withParameters, type PropertyDefinition } from './harness.ts';

/** float64's unit roundoff: the two inner products are summed in float64 from float64-rounded references. */
const U64 = 2 ** -53;

/** The vjp-dot-product property. */
export const vjpDotProduct: PropertyDefinition<'vjp-dot-product'> = {
  name: 'vjp-dot-product',
  description: '⟨ȳ, J·v⟩ (forward-mode reference) equals ⟨vjp(ȳ), v⟩ for random cotangents ȳ and tangents v, within Σ|v|·bound (rule V): catches a wrong transpose.',
  notApplicable: vjpNotApplicable,
  arbitrary: (family, constraints) =>
    withParameters(caseArbitrary(family, constraints), fc.record({ cotangentSeed: fc.nat({ max: 2 ** 31 - 1 }), tangentSeed: fc.nat({ max: 2 ** 31 - 1 }) })),
  check: (context, c) =>
    guarded(async () => {
      const problem = c.problem as AnyProblem;
      const cotangents = cotangentsOf(c.problem, c.parameters.cotangentSeed as number);
      const gradients = await runVjp(context, c.problem, cotangents);
      const judged = judgedGradients(context, c.problem, cotangents);
      // Elements rule V does not judge (a non-finite reference, an ambiguous clamp) and gradients
      // allowed to overflow take no part: their tangent is 0, on both sides of the identity.
      const tangents = tangentsOf(c.problem, c.parameters.tangentSeed as number) as Readonly<Record<string, { data: Float32Array; shape: readonly number[] }>>;
      let vjpSide = 0;
      let magnitude = 0;
      let allowance = 0;
      let terms = 0;
      let elements = 0;
      for (const [name, tangent] of Object.entries(tangents)) {
        const got = gradients[name].data;
        elements += tangent.data.length;
        for (let i = 0; i < tangent.data.length; i++) {
          const skip = !isJudged(judged, name, i) || (!Number.isFinite(got[i]) && judged.bounds.overflowPossible);
          if (skip) {
            tangent.data[i] = 0;
            continue;
          }
          const v = tangent.data[i];
          vjpSide += got[i] * v;
          magnitude += Math.abs(got[i] * v);
          allowance += Math.abs(v) * judged.bounds.bounds[name][i];
          terms++;
        }
      }
      // Nothing to judge is a pass only when there is nothing at all (L = 0 without other inputs).
      const declined = nothingJudged(terms, elements);
      if (declined !== undefined) return declined;
      const jvp = referenceJvp(c.problem, tangents as never) as unknown as Readonly<Record<string, { data: Float64Array }>>;
      let jvpSide = 0;
      for (const [name, cotangent] of Object.entries(cotangents as unknown as Readonly<Record<string, { data: Float32Array }>>)) {
        const tangent = jvp[name].data;
        for (let i = 0; i < tangent.length; i++) {
          jvpSide += cotangent.data[i] * tangent[i];
          magnitude += Math.abs(cotangent.data[i] * tangent[i]);
        }
      }
      const size = Object.values(cotangents as unknown as Readonly<Record<string, { data: Float32Array }>>).reduce((n, t) => n + t.data.length, 0) + terms;
      // The references are each rounded once to float64; the sums round once per term.
      const total = allowance + 4 * (size + 2) * U64 * magnitude;
      const gap = Math.abs(jvpSide - vjpSide);
      if (gap <= total) return { kind: 'pass' };
      if (!Number.isFinite(jvpSide)) return { kind: 'declined', reason: `⟨ȳ, J·v⟩ is ${jvpSide}: the forward-mode reference leaves float64's range` };
      return {
        kind: 'fail',
        message: `⟨ȳ, J·v⟩ = ${jvpSide} but ⟨vjp(ȳ), v⟩ = ${vjpSide}: they differ by ${gap.toExponential(3)} > Σ|v|·bound + float64 sums = ${total.toExponential(3)} (a gradient transposed or misplaced?)`,
      };
    }),
};
