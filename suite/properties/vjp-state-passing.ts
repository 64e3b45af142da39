/**
 * vjp-state-passing: chaining the backward passes of two halves through the state equals the
 * backward pass of the whole (issue 17). The problem is split at k as state-passing splits it
 * (the second half starts from the reference's state at the split, rounded to float32 as a state
 * crosses the interface, zeroed where a segment starts at k: stateAcrossSplit). The second half's
 * vjp gets the whole's cotangents of its outputs; its initial-state gradient d̂h, rounded to
 * float32 and zeroed where a segment starts at k, becomes the cotangent ĉ of the first half's final
 * state (the whole has no output there, so nothing is added to it). The combined gradients ĝ —
 * time-sliced gradients placed side by side, shared parameters summed, dh0 the first half's —
 * are compared with the whole's reference g.
 *
 * The allowance, element by element (R₁(c) the first half's reference vjp for final-state
 * cotangent c, R₂ the second half's, both placed into the whole's shape and summed where shared):
 *
 *     |ĝ − g| ≤ |ĝ₁ − R₁(ĉ)| + |ĝ₂ − R₂|            ≤ b₁ + b₂ (the two runs' rule V bounds)
 *             + |R₁(ĉ) − R₁(c*)|                      ≤ G₁(δ) (the first half's condition scale for cotangent δ)
 *             + |R₁(c*) + R₂ − g|                      the references' gap, computed
 *             + float64 roundings of the sums           4·u₆₄·(|ĝ₁| + |ĝ₂| + |g| + |R₁(c*)| + |R₂|)
 *
 * with c* = R₂'s dh0 (the exact chaining of the references) and δ = |ĉ − d̂h| + b₂(dh0) ≥ |ĉ − c*|:
 * the first half's vjp is linear in the cotangent, and its condition scale for the cotangent |δ|
 * bounds |J₁ᵀ·(ĉ − c*)| elementwise (spec/gradients.md: every gradient is at most its condition
 * scale). The gap covers the float32 rounding of the handed state and the references' own float64
 * roundings. The whole's rule V bound is not part of it: the implementation never runs the whole.
 */
import fc from 'fast-check';
import type { AnyProblem, FamilyName, Problem } from '../../spec/families.ts';
import { stateInputNames, stateOutputName, statePassing as passesState } from '../../spec/families/index.ts';
import type { Cotangents, GradientTensor } from '../../spec/gradients.ts';
import { dimensionsOf, timeAxisOf } from '../../spec/shapes.ts';
import { aroundAxis } from '../../spec/tensor-axis.ts';
import { unravelIndex, type OutputTensor } from '../../spec/tensor.ts';
import { caseArbitrary } from '../arbitraries.ts';
import { expectedOf, guarded } from '../pipeline.ts';
import { sliceOutputTime, sliceTime, stateAcrossSplit, timeTensorNames, withInputs } from '../transforms.ts';
import { cotangentsOf, judgedGradients, nothingJudged, runVjp, vjpNotApplicable, zeroCotangentsOf, type Gradients } from '../vjp-check.ts';
import { asInput, isReversed, splitArbitrary, withParameters, type PropertyDefinition } from './harness.ts';

/** float64's unit roundoff: the combined values and the references' gap are taken in float64. */
const U64 = 2 ** -53;

type Values = Readonly<Record<string, { readonly data: ArrayLike<number>; readonly shape: readonly number[] } | undefined>>;

/**
 * Places one half's per-input values into the whole's shapes: a time tensor's slice at its steps
 * (zeros elsewhere), a shared parameter as it is, the initial state only from the first half.
 */
function placer(whole: AnyProblem, range: readonly [number, number], first: boolean) {
  const timed = new Set(timeTensorNames(whole));
  const [stateInput] = stateInputNames(whole.family);
  const shapes = Object.fromEntries(Object.entries(whole.inputs as unknown as Values).flatMap(([name, t]) => (t === undefined ? [] : [[name, t.shape]])));
  return (name: string, values: ArrayLike<number>): Float64Array | undefined => {
    const shape = shapes[name];
    if (shape === undefined || (name === stateInput && !first)) return undefined;
    const out = new Float64Array(shape.reduce((a, b) => a * b, 1));
    if (!timed.has(name)) {
      out.set(values);
      return out;
    }
    const { outer, n, inner } = aroundAxis(shape, timeAxisOf(whole.family, name, shape));
    const width = range[1] - range[0];
    for (let o = 0; o < outer; o++) for (let s = 0; s < width * inner; s++) out[(o * n + range[0]) * inner + s] = values[o * width * inner + s];
    return out;
  };
}

/** Cotangents of one half: the whole's, sliced at its steps, with its final state's replaced. */
function halfCotangents<F extends FamilyName>(whole: Problem<F>, cotangents: Cotangents<F>, range: readonly [number, number], finalState?: GradientTensor): Cotangents<F> {
  const stateOutput = stateOutputName(whole.family)!;
  return Object.fromEntries(
    Object.entries(cotangents as unknown as Readonly<Record<string, GradientTensor>>).map(([name, t]) => [
      name,
      name === stateOutput && finalState !== undefined ? finalState : sliceOutputTime(whole.family, name, t, range[0], range[1]),
    ]),
  ) as unknown as Cotangents<F>;
}

/** The vjp-state-passing property. */
export const vjpStatePassing: PropertyDefinition<'vjp-state-passing'> = {
  name: 'vjp-state-passing',
  description: 'Chaining the vjp of two halves through the state (the second\'s dh0 as the first\'s final-state cotangent) equals the whole\'s gradients within both runs\' rule V bounds and the propagated dh0 bound.',
  notApplicable: (family, entry) => (passesState(family) ? vjpNotApplicable(family, entry) : `${family} has no state to pass`),
  arbitrary: (family, constraints) => withParameters(caseArbitrary(family, constraints), fc.record({ split: splitArbitrary(), cotangentSeed: fc.nat({ max: 2 ** 31 - 1 }) })),
  check: (context, c) =>
    guarded(async () => {
      const problem = c.problem;
      const whole = problem as AnyProblem;
      const L = dimensionsOf(whole).length;
      const k = (c.parameters.split as number) % (L + 1);
      const [stateInput] = stateInputNames(problem.family);
      const stateOutput = stateOutputName(problem.family)!;
      const [firstRange, secondRange] = (isReversed(whole) ? [[L - k, L], [0, L - k]] : [[0, k], [k, L]]) as [[number, number], [number, number]];
      const cotangents = cotangentsOf(problem, c.parameters.cotangentSeed as number);

      const firstProblem = sliceTime(problem, firstRange[0], firstRange[1]);
      const handedState = stateAcrossSplit(whole, secondRange[0], asInput(expectedOf(firstProblem as AnyProblem).outputs[stateOutput]));
      const secondProblem = withInputs(sliceTime(problem, secondRange[0], secondRange[1]), { [stateInput]: handedState });
      const secondCotangents = halfCotangents(problem, cotangents, secondRange);
      const second = await runVjp(context, secondProblem, secondCotangents);
      const secondJudged = judgedGradients(context, secondProblem, secondCotangents);

      // The cotangent handed back crosses the interface as float32, like a state; a reset at k cuts it.
      const dh = second[stateInput];
      const handed = stateAcrossSplit(whole, secondRange[0], asInput(dh));
      const kept = stateAcrossSplit(whole, secondRange[0], { data: new Float32Array(dh.data.length).fill(1), shape: [...dh.shape] }).data;
      const exactDh = (secondJudged.reference.gradients as unknown as Readonly<Record<string, OutputTensor>>)[stateInput].data;
      const exact: GradientTensor = { data: Float64Array.from(exactDh, (v, j) => v * kept[j]), shape: dh.shape };
      const dhBound = secondJudged.bounds.bounds[stateInput];
      const delta = Float64Array.from(handed.data, (v, j) => (kept[j] === 0 ? 0 : Math.abs(v - dh.data[j]) + dhBound[j]));
      const firstCotangents = halfCotangents(problem, cotangents, firstRange, handed);
      const first = await runVjp(context, firstProblem, firstCotangents);
      const firstJudged = judgedGradients(context, firstProblem, firstCotangents);
      const chained = judgedGradients(context, firstProblem, halfCotangents(problem, cotangents, firstRange, exact));
      // G₁(δ): the first half's condition scale for the cotangent δ at its final state alone.
      const propagated = delta.every(Number.isFinite)
        ? (judgedGradients(context, firstProblem, halfCotangents(problem, zeroCotangentsOf(problem), firstRange, { data: delta, shape: dh.shape })).reference.conditionScales as unknown as Values)
        : undefined;
      const wholeJudged = judgedGradients(context, problem, cotangents);

      const placeFirst = placer(whole, firstRange, true);
      const placeSecond = placer(whole, secondRange, false);
      const part = (place: ReturnType<typeof placer>, name: string, values: Values | Gradients | undefined, fill = 0): Float64Array => {
        const t = values?.[name];
        const size = (wholeJudged.reference.gradients as unknown as Values)[name]!.data.length;
        return (t === undefined ? undefined : place(name, t.data)) ?? new Float64Array(size).fill(fill);
      };
      const wrap = (b: Readonly<Record<string, Float64Array>>): Values => Object.fromEntries(Object.entries(b).map(([name, data]) => [name, { data, shape: [] }]));
      let total = 0;
      let compared = 0;
      for (const [name, reference] of Object.entries(wholeJudged.reference.gradients as unknown as Readonly<Record<string, OutputTensor>>)) {
        const g1 = part(placeFirst, name, first);
        const g2 = part(placeSecond, name, second);
        const r1 = part(placeFirst, name, chained.reference.gradients as unknown as Values);
        const r2 = part(placeSecond, name, secondJudged.reference.gradients as unknown as Values);
        const b1 = part(placeFirst, name, wrap(firstJudged.bounds.bounds));
        const b2 = part(placeSecond, name, wrap(secondJudged.bounds.bounds));
        const p1 = propagated === undefined ? new Float64Array(reference.data.length).fill(Number.POSITIVE_INFINITY) : part(placeFirst, name, propagated);
        for (let i = 0; i < reference.data.length; i++) {
          const g = reference.data[i];
          const got = g1[i] + g2[i];
          const allowance = b1[i] + b2[i] + p1[i] + Math.abs(r1[i] + r2[i] - g) + 4 * U64 * (Math.abs(g1[i]) + Math.abs(g2[i]) + Math.abs(g) + Math.abs(r1[i]) + Math.abs(r2[i]));
          total++;
          // No finite allowance (a bound rule V leaves unjudged, or a propagated term of one): not judged.
          if (!Number.isFinite(g) || !(allowance < Number.POSITIVE_INFINITY)) continue;
          if (!Number.isFinite(got) && [firstJudged, secondJudged].some((j) => j.bounds.overflowPossible)) continue;
          compared++;
          if (got === g || Math.abs(got - g) <= allowance) continue;
          return {
            kind: 'fail',
            message: `split at k = ${k}: the chained gradient vjp.${name}[${unravelIndex(i, reference.shape).join(', ')}] is ${got} (${g1[i]} + ${g2[i]}), the whole's reference ${g}, |error| ${Math.abs(got - g).toExponential(3)} > allowance ${allowance.toExponential(3)} (both halves' rule V bounds, the handed dh0's bound propagated, the references' gap)`,
          };
        }
      }
      return nothingJudged(compared, total) ?? { kind: 'pass' };
    }),
};

