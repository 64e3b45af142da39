/**
 * The properties every implementation is held to. Each draws cases from suite/arbitraries.ts
 * (plus its own parameters) and checks one claim; the numerical ones use the tolerance model.
 * Exact equality is demanded only where IEEE arithmetic guarantees it in every evaluation order
 * (zero inputs, scaling by 2^k where nothing can under- or overflow: suite/exactness.ts); a
 * property comparing two runs elsewhere allows both runs' bounds.
 */
import fc from 'fast-check';
import seedrandom from 'seedrandom';
import type { AnyProblem, FamilyName, OptionsOf, Problem, StepOutputs } from '../spec/families.ts';
import { SpecValidationError, type SpecValidationFailure } from '../spec/errors.ts';
import { ImplementationDeclinedError, type FamilyImplementation } from '../spec/implementation.ts';
import { UNIT_ROUNDOFF, type Precision } from '../spec/precision.ts';
import { appendIdentityPadding, regimesFor, type RegimeName } from '../spec/regimes.ts';
import { dimensionsOf } from '../spec/shapes.ts';
import type { OutputTensor, Tensor } from '../spec/tensor.ts';
import { validateOutputs, validateStepOutputs } from '../spec/validate.ts';
import { reference } from '../reference/index.ts';
import { thrownMessage } from './cells.ts';
import { caseArbitrary, problemOfCase, type CaseConstraints, type GeneratedCase } from './arbitraries.ts';
import { compareWithReference, elementBounds, exactRegime, judgeElement, unravel, type Comparison, type ExpectedOutputs, type WorstElement } from './compare.ts';
import { scalingIsExact } from './exactness.ts';
import type { PropertyName } from './results.ts';
import type { ArithmeticDeclaration } from './tolerance.ts';
import {
  additiveInputNames,
  flipLastAxis,
  flipTime,
  inputsOf,
  mapAdditiveInputs,
  permuteBatch,
  permuteLeadingAxis,
  sliceLastAxis,
  sliceTime,
  timeTensorNames,
  withInputs,
} from './transforms.ts';

/** What a property check concluded for one case. */
export type CheckResult =
  | { readonly kind: 'pass'; readonly comparisons?: readonly Comparison[] }
  | {
      readonly kind: 'fail';
      readonly message: string;
      readonly worst?: WorstElement;
      /** The stack of the error the implementation threw, when it threw. */
      readonly stack?: string;
      /** Every mismatch of an answer that does not follow the spec (spec/validate.ts), when that is the failure. */
      readonly mismatches?: readonly SpecValidationFailure[];
      /** The comparison with the reference that failed, for the accuracy tables. */
      readonly comparisons?: readonly Comparison[];
    }
  | { readonly kind: 'declined'; readonly reason: string };

/** A case of a property: a generated problem plus the property's own parameters. */
export interface PropertyCase<F extends FamilyName> extends GeneratedCase<F> {
  readonly parameters: Readonly<Record<string, number | string | boolean>>;
}

/** What a check may use. */
export interface PropertyContext<F extends FamilyName> {
  readonly family: F;
  readonly entry: FamilyImplementation<F>;
  readonly declaration: ArithmeticDeclaration;
  /** Per-run time limit; a run that takes longer fails the case. */
  readonly timeoutMs: number;
}

/** One property of the suite. */
export interface PropertyDefinition {
  readonly name: PropertyName;
  readonly description: string;
  /** Why the property does not apply to this family and implementation, or undefined. */
  notApplicable(family: FamilyName, entry: FamilyImplementation<FamilyName>): string | undefined;
  /** Cases for the family, within the cell's constraints. */
  arbitrary<F extends FamilyName>(family: F, constraints: CaseConstraints<F>): fc.Arbitrary<PropertyCase<F>>;
  check<F extends FamilyName>(context: PropertyContext<F>, testCase: PropertyCase<F>): Promise<CheckResult>;
}

// ------------------------------------------------------------------ running an implementation

/** Thrown inside a check when the implementation declines the problem. */
class Declined extends Error {}

/** Thrown inside a check when an answer holds NaN or ±Inf that the tolerance model does not allow. */
class DisallowedNonFinite extends Error {
  constructor(readonly result: CheckResult & { kind: 'fail' }) {
    super(result.message);
  }
}

/**
 * Runs the implementation on a problem (declines, time limit, answer validation) and fails the
 * case where an output is NaN or ±Inf but the reference is finite within the precision's range:
 * every property gets this check here, once, so that exact comparisons (NaN equal to NaN) cannot
 * pass an answer that is not a number. The reference is computed only when such a value appears.
 */
export async function runChecked<F extends FamilyName>(context: PropertyContext<F>, problem: Problem<F>): Promise<Readonly<Record<string, OutputTensor>>> {
  const reason = context.entry.decline?.(problem);
  if (reason !== undefined) throw new Declined(reason);
  const outputs = await withTimeout(context.entry.run(problem), context.timeoutMs, 'run');
  const checked = validateOutputs(problem, outputs) as unknown as Readonly<Record<string, OutputTensor>>;
  const failure = disallowedNonFinite(problem as AnyProblem, checked, context.declaration);
  if (failure !== undefined) throw new DisallowedNonFinite(failure);
  return checked;
}

/**
 * A failure naming the NaN and ±Inf elements of an answer that judgeElement does not allow (the
 * reference finite, no term past the precision's range), or undefined when there are none.
 */
export function disallowedNonFinite(
  problem: AnyProblem,
  outputs: Readonly<Record<string, OutputTensor>>,
  declaration: ArithmeticDeclaration,
): (CheckResult & { kind: 'fail' }) | undefined {
  // v - v is 0 for every finite v and NaN for NaN and ±Inf.
  if (!Object.values(outputs).some((t) => t.data.some((v) => v - v !== 0))) return undefined;
  const expected = expectedOf(problem);
  const bounds = elementBounds(problem, expected, declaration);
  let count = 0;
  let elements = 0;
  let worst: WorstElement | undefined;
  let verdictReason: string | undefined;
  for (const name of Object.keys(expected.outputs)) {
    const got = outputs[name].data;
    const want = expected.outputs[name].data;
    elements += want.length;
    for (let i = 0; i < got.length; i++) {
      if (got[i] - got[i] === 0) continue;
      const verdict = judgeElement(want[i], got[i], bounds[name][i], expected.conditionScales[name].data[i], declaration.precision);
      if (!verdict.violated) continue;
      count++;
      if (worst === undefined) {
        verdictReason = verdict.reason;
        worst = { output: name, index: i, coordinates: unravel(i, expected.outputs[name].shape), expected: want[i], got: got[i], error: Number.POSITIVE_INFINITY, bound: bounds[name][i], e: Number.NaN, ...(verdict.reason && { reason: verdict.reason }) };
      }
    }
  }
  if (worst === undefined) return undefined;
  return {
    kind: 'fail',
    message:
      `non-finite output: ${count} of ${elements} elements are NaN or ±Inf where the reference is finite; ` +
      `first ${worst.output}[${worst.coordinates.join(', ')}]: ${verdictReason ?? `${worst.got}, the reference is ${worst.expected}`}`,
    worst,
  };
}

/** Rejects when a promise does not settle within ms. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether an error says an implementation's answer (a run's or a step's) does not follow the spec. */
export function isInvalidOutputError(error: unknown): error is SpecValidationError {
  return error instanceof SpecValidationError && / outputs$/.test(error.context);
}

/** The one-line message of an answer that does not follow the spec, listing every mismatch. */
export function invalidOutputMessage(error: SpecValidationError): string {
  const n = error.failures.length;
  return `invalid output (${n} mismatch${n === 1 ? '' : 'es'}): ${error.message}`;
}

/**
 * Turns a check body into a CheckResult: declines become declined; an answer that does not
 * follow the spec, an invalid output with every mismatch; a thrown error, a failure that keeps
 * its stack for report.json.
 */
async function guarded(body: () => Promise<CheckResult>): Promise<CheckResult> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof Declined) return { kind: 'declined', reason: error.message };
    if (error instanceof ImplementationDeclinedError) return { kind: 'declined', reason: error.message };
    if (error instanceof DisallowedNonFinite) return error.result;
    if (isInvalidOutputError(error)) return { kind: 'fail', message: invalidOutputMessage(error), mismatches: error.failures };
    return { kind: 'fail', message: `the implementation threw: ${thrownMessage(error)}`, ...(error instanceof Error && error.stack !== undefined && { stack: error.stack }) };
  }
}

/** The reference's answer in the form the comparison reads. */
function expectedOf(problem: AnyProblem): ExpectedOutputs {
  return reference(problem) as unknown as ExpectedOutputs;
}

/** A problem's reference and the bound of every element of it under a declaration. */
interface Judged {
  readonly expected: ExpectedOutputs;
  readonly bounds: Readonly<Record<string, Float64Array>>;
}

/** The reference and bounds of a problem: what one run of it may differ from the truth by. */
function judged(problem: AnyProblem, declaration: ArithmeticDeclaration): Judged {
  const expected = expectedOf(problem);
  return { expected, bounds: elementBounds(problem, expected, declaration) };
}

/**
 * What two runs that compute the same value may differ by: each run's bound, plus whatever their
 * references differ by (0 where the problems agree on every term reaching the element). A property
 * comparing two runs allows both: each rounds in its own way (an FFT spreads a run's rounding over
 * every output), so one run's allowance is not enough.
 */
function pairAllowance(first: Judged, i: number, second: Judged, j: number, name: string, factor = 1): number {
  const referenceGap = Math.abs(second.expected.outputs[name].data[j] - factor * first.expected.outputs[name].data[i]);
  return referenceGap + Math.abs(factor) * first.bounds[name][i] + second.bounds[name][j];
}

/**
 * Whether two runs' values of one element (b against factor·a) disagree beyond both runs' bounds.
 * A non-finite value is judged per run, as conformance judges it (an overflow is allowed where the
 * value leaves the precision's range); where a reference is not finite the element is not judged.
 */
function pairViolated(first: Judged, i: number, a: number, second: Judged, j: number, b: number, name: string, precision: Precision, factor = 1): boolean {
  if (same(a * factor, b)) return false;
  if (!Number.isFinite(a) || !Number.isFinite(b)) {
    const judge = (run: Judged, k: number, v: number) =>
      judgeElement(run.expected.outputs[name].data[k], v, run.bounds[name][k], run.expected.conditionScales[name].data[k], precision).violated;
    return judge(first, i, a) || judge(second, j, b);
  }
  const allowance = pairAllowance(first, i, second, j, name, factor);
  return Number.isFinite(allowance) && !(Math.abs(a * factor - b) <= allowance);
}

/** A failure from a comparison, with its worst element. */
function comparisonFailure(what: string, comparison: Comparison): CheckResult {
  const w = comparison.worst;
  const detail =
    w === undefined
      ? ''
      : ` worst ${w.output}[${w.coordinates.join(', ')}]: expected ${w.expected}, got ${w.got}, |error| ${w.error.toExponential(3)} > bound ${w.bound.toExponential(3)} (e = ${w.e.toFixed(2)})${w.reason ? `; ${w.reason}` : ''}`;
  return { kind: 'fail', message: `${what}: ${comparison.violations} of ${comparison.elements} elements outside the tolerance (${comparison.judgedBy}).${detail}`, ...(w && { worst: w }), comparisons: [comparison] };
}

/** Whether two numbers are the same result (0 and −0 alike, NaN equal to NaN). */
function same(a: number, b: number): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

/** The first element where two output sets differ, checked by `differs`; undefined when none. */
function firstDifference(
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
function asInput(t: OutputTensor): Tensor {
  return { data: Float32Array.from(t.data), shape: [...t.shape] };
}

/** The coarser of two precisions (a state stored in float32 between calls caps a float64 kernel). */
function coarser(a: Precision, b: Precision): Precision {
  return UNIT_ROUNDOFF[a] >= UNIT_ROUNDOFF[b] ? a : b;
}

/**
 * A failure when `got` lies outside the bound of element `index` of the reference's output
 * `name`, worded by `what` (given the element's coordinates); undefined when it is inside.
 */
function outsideBound(
  whole: ExpectedOutputs,
  bounds: Readonly<Record<string, Float64Array>>,
  precision: Precision,
  name: string,
  index: number,
  got: number,
  what: (coordinates: readonly number[]) => string,
): CheckResult | undefined {
  const want = whole.outputs[name].data[index];
  const bound = bounds[name][index];
  const verdict = judgeElement(want, got, bound, whole.conditionScales[name].data[index], precision);
  if (!verdict.violated) return undefined;
  const coordinates = unravel(index, whole.outputs[name].shape);
  return {
    kind: 'fail',
    message: `${what(coordinates)} is ${got}, the reference is ${want} (bound ${bound.toExponential(3)})${verdict.reason ? `: ${verdict.reason}` : ''}`,
    worst: { output: name, index, coordinates, expected: want, got, error: Math.abs(got - want), bound, e: Number.NaN, ...(verdict.reason && { reason: verdict.reason }) },
  };
}

// ------------------------------------------------------------------ parameters

/** Split points that hit chunk and workgroup boundaries, plus any point. */
function splitArbitrary(): fc.Arbitrary<number> {
  return fc.oneof(fc.constantFrom(0, 1, 2, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257), fc.nat({ max: 1 << 16 }));
}

/** Adds property parameters to generated cases. */
function withParameters<F extends FamilyName, P extends Record<string, number | string | boolean>>(
  cases: fc.Arbitrary<GeneratedCase<F>>,
  parameters: fc.Arbitrary<P>,
): fc.Arbitrary<PropertyCase<F>> {
  return fc.tuple(cases, parameters).map(([c, p]) => ({ ...c, parameters: p }));
}

const noParameters = <F extends FamilyName>(family: F, constraints: CaseConstraints<F>) =>
  withParameters(caseArbitrary(family, constraints), fc.constant({}));

const always = () => undefined;

// ------------------------------------------------------------------ the properties

const conformance: PropertyDefinition = {
  name: 'conformance',
  description: 'Outputs agree with the reference within the tolerance bound (bit for bit in dyadic-exact cases).',
  notApplicable: always,
  arbitrary: noParameters,
  check: (context, c) =>
    guarded(async () => {
      const outputs = await runChecked(context, c.problem);
      const problem = c.problem as AnyProblem;
      const expected = expectedOf(problem);
      const comparison = compareWithReference(problem, outputs, expected, context.declaration, {
        exact: exactRegime(c.request.regime, context.declaration, problem, expected),
      });
      return comparison.passed ? { kind: 'pass', comparisons: [comparison] } : comparisonFailure('outputs differ from the reference', comparison);
    }),
};

const statePassing: PropertyDefinition = {
  name: 'state-passing',
  description: 'Splitting the sequence at k and continuing from the returned final state equals the whole run.',
  notApplicable: (family) => (family === 'linear-recurrence' || family === 'selective-scan' ? undefined : `${family} has no state to pass`),
  arbitrary: (family, constraints) => withParameters(caseArbitrary(family, constraints), fc.record({ split: splitArbitrary() })),
  check: (context, c) =>
    guarded(async () => {
      const problem = c.problem;
      const L = dimensionsOf(problem as AnyProblem).length;
      const k = (c.parameters.split as number) % (L + 1);
      const reverse = (problem.options as Readonly<Record<string, boolean>>).reverse === true;
      // In processing order: the first part runs from h0, the second continues from its last state.
      const [firstRange, secondRange] = reverse ? [[L - k, L], [0, L - k]] : [[0, k], [k, L]];
      const firstProblem = sliceTime(problem, firstRange[0], firstRange[1]);
      const first = await runChecked(context, firstProblem);
      const continued = withInputs(sliceTime(problem, secondRange[0], secondRange[1]), { h0: asInput(first.lastState) });
      const second = await runChecked(context, continued);
      // The first part's state is judged against its reference; the continued part against the
      // reference continuing from exactly the state it was handed (a float64 state crosses the
      // interface as float32, an input like any other). Together they say the split equals the
      // whole run, without holding either run to the other's rounding.
      const firstCheck = compareWithReference(firstProblem as AnyProblem, first, expectedOf(firstProblem as AnyProblem), context.declaration);
      if (!firstCheck.passed) return comparisonFailure(`split at k = ${k}: the first part (its last state included) differs from its reference`, firstCheck);
      const secondCheck = compareWithReference(continued as AnyProblem, second, expectedOf(continued as AnyProblem), context.declaration);
      if (!secondCheck.passed) return comparisonFailure(`split at k = ${k}: continuing from the returned state differs from the reference continuing from it`, secondCheck);
      return { kind: 'pass' };
    }),
};

/** Step inputs of token t of a problem (time tensors at t, without their time axis) with a state. */
function stepInputsAt(problem: AnyProblem, t: number, state: Tensor): Record<string, Tensor> {
  const inputs = inputsOf(problem);
  const out: Record<string, Tensor> = {};
  const timeNames = new Set(timeTensorNames(problem));
  for (const [name, tensor] of Object.entries(inputs)) {
    if (tensor === undefined || name === 'h0') continue;
    if (timeNames.has(name)) {
      const slice = sliceLastAxis(tensor, t, t + 1);
      // A time-varying B or C keeps its time axis with L = 1 (spec/selective-scan.md#step).
      out[name] = name === 'B' || name === 'C' ? slice : { data: slice.data, shape: slice.shape.slice(0, -1) };
    } else out[name] = tensor;
  }
  out.state = state;
  return out;
}

/** The initial state of a step sequence: h0, or zeros of the state's shape. */
function initialState(problem: AnyProblem): Tensor {
  const h0 = inputsOf(problem).h0;
  if (h0 !== undefined) return h0;
  const { batch, dim, stateSize } = dimensionsOf(problem);
  const shape = problem.family === 'selective-scan' || problem.family === 'lti-ssm' ? [batch, dim, stateSize] : [batch, dim];
  return { data: new Float32Array(shape.reduce((p, s) => p * s, 1)), shape };
}

const step: PropertyDefinition = {
  name: 'step',
  description: 'The one-token step applied L times equals the scan (forward, from h0).',
  notApplicable: (family, entry) => (entry.step === undefined ? 'the implementation has no step' : undefined),
  arbitrary: (family, constraints) =>
    noParameters(family, {
      ...constraints,
      options: { ...constraints.options, ...(family === 'prefix-sum' ? { exclusive: false, reverse: false } : family === 'linear-recurrence' ? { reverse: false } : {}) } as Partial<OptionsOf<typeof family>>,
      maxLength: Math.min(constraints.maxLength ?? 300, 64),
    }),
  check: (context, c) =>
    guarded(async () => {
      const problem = c.problem as AnyProblem;
      const stepFn = context.entry.step!;
      const dims = dimensionsOf(problem);
      const whole = expectedOf(problem);
      // The state crosses the interface after every step, stored in the declared precision (and as
      // float32): a wider accumulator does not carry across steps, so the arithmetic is that precision.
      const { accumulation: _accumulation, ...stored } = context.declaration;
      const declaration: ArithmeticDeclaration = { ...stored, precision: coarser(context.declaration.precision, 'float32') };
      const bounds = elementBounds(problem, whole, declaration);
      const sequenceName = problem.family === 'linear-recurrence' ? 'h' : 'y';
      let state = initialState(problem);
      let answer: StepOutputs | undefined;
      for (let t = 0; t < dims.length; t++) {
        const inputs = stepInputsAt(problem, t, state);
        const raw = await withTimeout(stepFn(inputs as never, problem.options as never), context.timeoutMs, 'step');
        answer = validateStepOutputs(problem.family, inputs as never, raw);
        for (let row = 0; row < dims.batch * dims.dim; row++) {
          const failure = outsideBound(whole, bounds, declaration.precision, sequenceName, row * dims.length + t, answer.y.data[row], (at) => `step ${t}: y[${at.join(', ')}]`);
          if (failure !== undefined) return failure;
        }
        state = asInput(answer.state);
      }
      if ('lastState' in whole.outputs && answer !== undefined) {
        for (let i = 0; i < whole.outputs.lastState.data.length; i++) {
          const failure = outsideBound(whole, bounds, declaration.precision, 'lastState', i, answer.state.data[i], (at) => `after ${dims.length} steps, state[${at.join(', ')}]`);
          if (failure !== undefined) return failure;
        }
      }
      return { kind: 'pass' };
    }),
};

/** Regimes where scaling by 2^k stays clear of underflow and overflow. */
const SCALE_SAFE_REGIMES = ['generic', 'decay-near-1', 'zeros', 'oscillating', 'dyadic-exact', 'softplus-threshold', 'identity-padding'] as const;

/** Restricts a cell's regimes to a safe set (keeping a cell's own restriction when narrower). */
function restrictRegimes<F extends FamilyName>(family: F, constraints: CaseConstraints<F>, allowed: readonly string[]): CaseConstraints<F> {
  const base = constraints.regimes ?? caseRegimes(family);
  const regimes = base.filter((r) => allowed.includes(r));
  // A cell restricted to a regime the property cannot use keeps it: the property then reports its failures honestly.
  return { ...constraints, regimes: regimes.length > 0 ? regimes : base };
}

/** Every regime that applies to a family, by name. */
function caseRegimes(family: FamilyName): RegimeName[] {
  return regimesFor(family).map((r) => r.name);
}

const scaling: PropertyDefinition = {
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
        // No operation of either run can under- or overflow: IEEE scaling by 2^k is exact in every order.
        const d = firstDifference(original, scaled, (_, __, a, b) => !same(a * factor, b));
        if (d === undefined) return { kind: 'pass' };
        return {
          kind: 'fail',
          message: `scaling the additive inputs by 2^${exponent}: ${d.name}[${d.coordinates.join(', ')}] became ${d.b}, expected exactly ${d.a} × ${factor} = ${d.a * factor}`,
        };
      }
      // Something may under- or overflow (or the arithmetic has transcendental factors): each run
      // is held to its own bound, around references that differ by exactly 2^k (up to their rounding).
      const before = judged(problem, context.declaration);
      const after = judged(scaledProblem as AnyProblem, context.declaration);
      const d = firstDifference(original, scaled, (name, i, a, b) => pairViolated(before, i, a, after, i, b, name, context.declaration.precision, factor));
      if (d === undefined) return { kind: 'pass' };
      const allowance = pairAllowance(before, d.index, after, d.index, d.name, factor);
      return {
        kind: 'fail',
        message: `scaling the additive inputs by 2^${exponent}: ${d.name}[${d.coordinates.join(', ')}] became ${d.b}, expected ${d.a} × ${factor} = ${d.a * factor} within both runs' bounds (allowance ${allowance.toExponential(3)}; exactness is not guaranteed here: an intermediate may under- or overflow)`,
      };
    }),
};

const linearity: PropertyDefinition = {
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
      });
      if (d === undefined) return { kind: 'pass' };
      return {
        kind: 'fail',
        message: `run(b₁ + b₂) − run(b₁) − run(b₂) at ${d.name}[${d.coordinates.join(', ')}] is ${d.a - d.b - o2[d.name].data[d.index]}, beyond the three bounds`,
      };
    }),
};

const identityPadding: PropertyDefinition = {
  name: 'identity-padding',
  description: 'Appending identity steps (a = 1, b = 0; Δ\' = 0, u = 0) changes no original output and not the last state.',
  notApplicable: always,
  arbitrary: (family, constraints) =>
    withParameters(
      caseArbitrary(family, { ...constraints, ...(family === 'selective-scan' ? { options: { ...constraints.options, deltaSoftplus: false } } : {}) } as CaseConstraints<typeof family>),
      fc.record({ padding: fc.integer({ min: 1, max: 70 }) }),
    ),
  check: (context, c) =>
    guarded(async () => {
      const count = c.parameters.padding as number;
      const padded = appendIdentityPadding(c.problem, count);
      const original = await runChecked(context, c.problem);
      const longer = await runChecked(context, padded);
      // Both runs' bounds: the padded run is a longer problem (an FFT's transform grows with it).
      const short = judged(c.problem as AnyProblem, context.declaration);
      const long = judged(padded as AnyProblem, context.declaration);
      const L = dimensionsOf(c.problem as AnyProblem).length;
      const atStart = (c.problem.options as Readonly<Record<string, boolean>>).reverse === true;
      for (const name of Object.keys(original)) {
        const isSequence = name !== 'lastState';
        const a = original[name].data;
        const b = longer[name].data;
        for (let i = 0; i < a.length; i++) {
          const j = isSequence ? Math.floor(i / Math.max(1, L)) * (L + count) + (i % Math.max(1, L)) + (atStart ? count : 0) : i;
          if (pairViolated(short, i, a[i], long, j, b[j], name, context.declaration.precision)) {
            const allowance = pairAllowance(short, i, long, j, name);
            const coordinates = unravel(i, original[name].shape);
            return { kind: 'fail', message: `after ${count} identity steps, ${name}[${coordinates.join(', ')}] changed from ${a[i]} to ${b[j]} (allowance ${allowance.toExponential(3)})` };
          }
        }
      }
      return { kind: 'pass' };
    }),
};

const zeroInput: PropertyDefinition = {
  name: 'zero-input',
  description: 'Zero additive inputs (b, h0, x, u) give exact zeros everywhere.',
  notApplicable: always,
  arbitrary: noParameters,
  check: (context, c) =>
    guarded(async () => {
      const problem = mapAdditiveInputs(c.problem, () => 0);
      const outputs = await runChecked(context, problem);
      const d = firstDifference(outputs, outputs, (_, __, a) => a !== 0);
      if (d === undefined) return { kind: 'pass' };
      return { kind: 'fail', message: `with every additive input zero, ${d.name}[${d.coordinates.join(', ')}] is ${d.a}, not 0` };
    }),
};

const reverseFlip: PropertyDefinition = {
  name: 'reverse-flip',
  description: 'A reverse scan equals flip ∘ forward scan ∘ flip (within both runs\' bounds).',
  notApplicable: (family) => (family === 'prefix-sum' || family === 'linear-recurrence' ? undefined : `${family} has no reverse option`),
  arbitrary: (family, constraints) => noParameters(family, { ...constraints, options: { ...constraints.options, reverse: true } as Partial<OptionsOf<typeof family>> }),
  check: (context, c) =>
    guarded(async () => {
      const reversed = await runChecked(context, c.problem);
      const forwardOptions = { ...c.problem.options, reverse: false };
      const forwardProblem = flipTime(c.problem, forwardOptions);
      const forward = await runChecked(context, forwardProblem);
      // Both runs' bounds, the forward one read at the mirrored element.
      const reverseJudged = judged(c.problem as AnyProblem, context.declaration);
      const forwardJudged = judged(forwardProblem as AnyProblem, context.declaration);
      const L = dimensionsOf(c.problem as AnyProblem).length;
      const mirror = (name: string, i: number) => (name === 'lastState' ? i : i - (i % L) + (L - 1 - (i % L)));
      const flipped: Record<string, OutputTensor> = {};
      for (const name of Object.keys(forward)) flipped[name] = name === 'lastState' ? forward[name] : flipLastAxis(forward[name]);
      const d = firstDifference(
        reversed,
        flipped,
        (name, i, a, b) => pairViolated(reverseJudged, i, a, forwardJudged, mirror(name, i), b, name, context.declaration.precision),
      );
      if (d === undefined) return { kind: 'pass' };
      return { kind: 'fail', message: `reverse scan ${d.name}[${d.coordinates.join(', ')}] is ${d.a}, flip∘scan∘flip gives ${d.b}` };
    }),
};

const causality: PropertyDefinition = {
  name: 'causality',
  description: 'Changing the inputs at time t leaves every output before t unchanged (within both runs\' bounds; exactly where both are 0).',
  notApplicable: always,
  arbitrary: (family, constraints) =>
    withParameters(caseArbitrary(family, constraints), fc.record({ at: fc.nat({ max: 1 << 16 }), changeSeed: fc.nat({ max: 2 ** 31 - 1 }) })),
  check: (context, c) =>
    guarded(async () => {
      const problem = c.problem;
      const L = dimensionsOf(problem as AnyProblem).length;
      if (L === 0) return { kind: 'pass' };
      const t = (c.parameters.at as number) % L;
      const other = inputsOf(problemOfCase(c.request, c.parameters.changeSeed as number, c.timeInvariant));
      const replaced: Record<string, Tensor> = {};
      for (const name of timeTensorNames(problem as AnyProblem)) {
        const tensor = inputsOf(problem)[name]!;
        const data = tensor.data.slice();
        const length = tensor.shape[tensor.shape.length - 1];
        for (let i = t; i < data.length; i += length) data[i] = other[name]!.data[i];
        replaced[name] = { data, shape: tensor.shape };
      }
      const changed = withInputs(problem, replaced);
      const before = await runChecked(context, problem);
      const after = await runChecked(context, changed);
      const reverse = (problem.options as Readonly<Record<string, boolean>>).reverse === true;
      const precedes = (i: number) => (reverse ? i % L > t : i % L < t);
      // Outputs before t have the same reference in both runs; each run may round them its own way
      // within its own bound (an FFT spreads the rounding of the changed inputs over every time),
      // so the two may differ by both bounds, and by nothing where both are 0.
      const beforeJudged = judged(problem as AnyProblem, context.declaration);
      const afterJudged = judged(changed as AnyProblem, context.declaration);
      const names = Object.keys(before).filter((n) => n !== 'lastState');
      const d = firstDifference(
        before,
        after,
        (name, i, a, b) => precedes(i) && pairViolated(beforeJudged, i, a, afterJudged, i, b, name, context.declaration.precision),
        names,
      );
      if (d === undefined) return { kind: 'pass' };
      const allowance = pairAllowance(beforeJudged, d.index, afterJudged, d.index, d.name);
      return {
        kind: 'fail',
        message: `changing the inputs at t = ${t} changed ${d.name}[${d.coordinates.join(', ')}], which comes before t, from ${d.a} to ${d.b} (allowance of both runs ${allowance.toExponential(3)})`,
      };
    }),
};

const batchPermutation: PropertyDefinition = {
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

/** A permutation of 0…n−1 from a seed (Fisher–Yates). */
function shuffled(n: number, seed: number): number[] {
  const random = seedrandom(`permutation:${seed}`);
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

const determinism: PropertyDefinition = {
  name: 'determinism',
  description: 'Two runs on the same input are bit-identical (reported, not required).',
  notApplicable: always,
  arbitrary: noParameters,
  check: (context, c) =>
    guarded(async () => {
      const first = await runChecked(context, c.problem);
      const second = await runChecked(context, c.problem);
      const d = firstDifference(first, second, (_, __, a, b) => !same(a, b));
      if (d === undefined) return { kind: 'pass' };
      return { kind: 'fail', message: `two runs differ at ${d.name}[${d.coordinates.join(', ')}]: ${d.a} then ${d.b}` };
    }),
};

/** Every generated-case property, in report order. */
export const PROPERTIES: readonly PropertyDefinition[] = [
  conformance,
  statePassing,
  step,
  scaling,
  linearity,
  identityPadding,
  zeroInput,
  reverseFlip,
  causality,
  batchPermutation,
  determinism,
];

/** The property of a name. */
export function propertyByName(name: PropertyName): PropertyDefinition | undefined {
  return PROPERTIES.find((p) => p.name === name);
}
