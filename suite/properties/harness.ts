/**
 * What the properties share: the shape of a property and its cases, the judgement of two runs
 * against each other (each within its own bound), and the parameter arbitraries. Running the
 * implementation and classifying what happens is the run pipeline's (suite/pipeline.ts).
 * Exact equality is demanded only where IEEE arithmetic guarantees it in every evaluation order
 * (zero inputs, scaling by 2^k where nothing can under- or overflow: suite/exactness.ts); a
 * property comparing two runs elsewhere allows both runs' bounds.
 */
import fc from 'fast-check';
import type { AnyProblem, FamilyName } from '../../spec/families.ts';
import { directionalOptionNames, outputIsLinear, stateOutputName } from '../../spec/families/index.ts';
import type { FamilyImplementation } from '../../spec/implementation.ts';
import { UNIT_ROUNDOFF, type Precision } from '../../spec/precision.ts';
import { regimesFor, type RegimeName } from '../../spec/regimes.ts';
import type { OutputTensor, Tensor } from '../../spec/tensor.ts';
import { caseArbitrary, type CaseConstraints, type GeneratedCase } from '../arbitraries.ts';
import { distanceOf, elementBounds, judgeElement, unravel, type ExpectedOutputs } from '../compare.ts';
import { expectedOf, type CheckResult, type RunContext } from '../pipeline.ts';
import type { ArithmeticDeclaration } from '../tolerance.ts';

/** A case of a property: a generated problem plus the property's own parameters. */
export interface PropertyCase<F extends FamilyName> extends GeneratedCase<F> {
  readonly parameters: Readonly<Record<string, number | string | boolean>>;
}

/** What a check may use: the run pipeline's context and the family. */
export interface PropertyContext<F extends FamilyName> extends RunContext<F> {
  readonly family: F;
}

/** One property of the suite; N is its name, which the registry (suite/properties/index.ts) collects. */
export interface PropertyDefinition<N extends string = string> {
  readonly name: N;
  readonly description: string;
  /** Why the property does not apply to this family and implementation, or undefined. */
  notApplicable(family: FamilyName, entry: FamilyImplementation<FamilyName>): string | undefined;
  /** Cases for the family, within the cell's constraints. */
  arbitrary<F extends FamilyName>(family: F, constraints: CaseConstraints<F>): fc.Arbitrary<PropertyCase<F>>;
  check<F extends FamilyName>(context: PropertyContext<F>, testCase: PropertyCase<F>): Promise<CheckResult>;
}

/** A problem's reference and the bound of every element of it under a declaration. */
export interface Judged {
  /** The problem's family: how its outputs are compared (an angle output by circular distance). */
  readonly family: FamilyName;
  readonly expected: ExpectedOutputs;
  readonly bounds: Readonly<Record<string, Float64Array>>;
}

/** The reference and bounds of a problem: what one run of it may differ from the truth by. */
export function judged(problem: AnyProblem, declaration: ArithmeticDeclaration): Judged {
  const expected = expectedOf(problem);
  return { family: problem.family, expected, bounds: elementBounds(problem, expected, declaration) };
}

/**
 * What two runs that compute the same value may differ by: each run's bound, plus whatever their
 * references differ by (0 where the problems agree on every term reaching the element). A property
 * comparing two runs allows both: each rounds in its own way (an FFT spreads a run's rounding over
 * every output), so one run's allowance is not enough.
 */
export function pairAllowance(first: Judged, i: number, second: Judged, j: number, name: string, factor = 1): number {
  const referenceGap = distanceOf(first.family, name)(second.expected.outputs[name].data[j], factor * first.expected.outputs[name].data[i]);
  return referenceGap + Math.abs(factor) * first.bounds[name][i] + second.bounds[name][j];
}

/**
 * Whether two runs' values of one element (b against factor·a) disagree beyond both runs' bounds.
 * A non-finite value is judged per run, as conformance judges it (an overflow is allowed where the
 * value leaves the precision's range); where a reference is not finite the element is not judged.
 */
export function pairViolated(first: Judged, i: number, a: number, second: Judged, j: number, b: number, name: string, precision: Precision, factor = 1): boolean {
  if (same(a * factor, b)) return false;
  if (!Number.isFinite(a) || !Number.isFinite(b)) {
    const judge = (run: Judged, k: number, v: number) =>
      judgeElement(run.expected.outputs[name].data[k], v, run.bounds[name][k], run.expected.conditionScales[name].data[k], precision, distanceOf(run.family, name)).violated;
    return judge(first, i, a) || judge(second, j, b);
  }
  const allowance = pairAllowance(first, i, second, j, name, factor);
  return Number.isFinite(allowance) && !(distanceOf(first.family, name)(a * factor, b) <= allowance);
}

/** Whether two numbers are the same result (0 and −0 alike, NaN equal to NaN). */
export function same(a: number, b: number): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

/** The outputs of a run that are linear in the additive inputs (the descriptor's `linear`: all but mamba3-siso's angle and key states). */
export function linearOutputs(family: FamilyName, outputs: Readonly<Record<string, OutputTensor>>): string[] {
  return Object.keys(outputs).filter((name) => outputIsLinear(family, name));
}

/** The first element where two output sets differ, checked by `differs`; undefined when none. */
export function firstDifference(
  first: Readonly<Record<string, OutputTensor>>,
  second: Readonly<Record<string, OutputTensor>>,
  differs: (name: string, i: number, a: number, b: number) => boolean,
  names: readonly string[] = Object.keys(first),
): { name: string; index: number; a: number; b: number; coordinates: number[] } | undefined {
  for (const name of names) {
    const a = first[name].data;
    const b = second[name].data;
    for (let i = 0; i < a.length; i++) {
      if (differs(name, i, a[i], b[i])) return { name, index: i, a: a[i], b: b[i], coordinates: unravel(i, first[name].shape) };
    }
  }
  return undefined;
}

/** Float32 copy of an output tensor, as a state is handed back to the implementation. */
export function asInput(t: OutputTensor): Tensor {
  return { data: Float32Array.from(t.data), shape: [...t.shape] };
}

/** The coarser of two precisions (a state stored in float32 between calls caps a float64 kernel). */
export function coarser(a: Precision, b: Precision): Precision {
  return UNIT_ROUNDOFF[a] >= UNIT_ROUNDOFF[b] ? a : b;
}

/**
 * A failure when `got` lies outside the bound of element `index` of the reference's output
 * `name`, worded by `what` (given the element's coordinates); undefined when it is inside.
 */
export function outsideBound(
  whole: ExpectedOutputs,
  bounds: Readonly<Record<string, Float64Array>>,
  precision: Precision,
  name: string,
  index: number,
  got: number,
  what: (coordinates: readonly number[]) => string,
  distance: (a: number, b: number) => number = (a, b) => Math.abs(a - b),
): CheckResult | undefined {
  const want = whole.outputs[name].data[index];
  const bound = bounds[name][index];
  const verdict = judgeElement(want, got, bound, whole.conditionScales[name].data[index], precision, distance);
  if (!verdict.violated) return undefined;
  const coordinates = unravel(index, whole.outputs[name].shape);
  return {
    kind: 'fail',
    message: `${what(coordinates)} is ${got}, the reference is ${want} (bound ${bound.toExponential(3)})${verdict.reason ? `: ${verdict.reason}` : ''}`,
    worst: { output: name, index, coordinates, expected: want, got, error: distance(got, want), bound, e: Number.NaN, ...(verdict.reason && { reason: verdict.reason }) },
  };
}

/** Split points that hit chunk and workgroup boundaries, plus any point. */
export function splitArbitrary(): fc.Arbitrary<number> {
  return fc.oneof(fc.constantFrom(0, 1, 2, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257), fc.nat({ max: 1 << 16 }));
}

/** Adds property parameters to generated cases. */
export function withParameters<F extends FamilyName, P extends Record<string, number | string | boolean>>(
  cases: fc.Arbitrary<GeneratedCase<F>>,
  parameters: fc.Arbitrary<P>,
): fc.Arbitrary<PropertyCase<F>> {
  return fc.tuple(cases, parameters).map(([c, p]) => ({ ...c, parameters: p }));
}

/** Generated cases without parameters of the property's own. */
export function noParameters<F extends FamilyName>(family: F, constraints: CaseConstraints<F>): fc.Arbitrary<PropertyCase<F>> {
  return withParameters(caseArbitrary(family, constraints), fc.constant({}));
}

/** notApplicable of a property that applies everywhere. */
export const always = (): undefined => undefined;

/** Restricts a cell's regimes to a safe set (keeping a cell's own restriction when narrower). */
export function restrictRegimes<F extends FamilyName>(family: F, constraints: CaseConstraints<F>, allowed: readonly string[]): CaseConstraints<F> {
  const base = constraints.regimes ?? caseRegimes(family);
  const regimes = base.filter((r) => allowed.includes(r));
  // A cell restricted to a regime the property cannot use keeps it: the property then reports its failures honestly.
  return { ...constraints, regimes: regimes.length > 0 ? regimes : base };
}

/** Every regime that applies to a family, by name. */
function caseRegimes(family: FamilyName): RegimeName[] {
  return regimesFor(family).map((r) => r.name);
}

/** Whether a problem runs in reverse: one of its family's directional options is set (spec/families/<name>/descriptor.ts). */
export function isReversed(problem: AnyProblem): boolean {
  const options = problem.options as unknown as Readonly<Record<string, boolean>>;
  return directionalOptionNames(problem.family).some((name) => options[name] === true);
}

/** Whether an output of a family is its final state rather than a sequence (the output's kind in the descriptor). */
export function isStateOutput(family: FamilyName, name: string): boolean {
  return stateOutputName(family) === name;
}
