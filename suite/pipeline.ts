/**
 * The run pipeline every case goes through, whoever asks (the properties, fixture replay, hence the
 * CLI runner and describeConformance): decline → time limit → validate the answer → non-finite
 * check → compare with the reference → classify into a CheckResult. Kept in one place so that a
 * decline, a timeout, an invalid answer or a NaN means the same thing in every cell; in
 * particular a decline at run time (ImplementationDeclinedError, a process testee's decline
 * answer) is reported as declined everywhere, as spec/implementation.ts promises.
 */
import type { AnyProblem, FamilyName, Problem } from '../spec/families.ts';
import { SpecValidationError, type SpecValidationFailure } from '../spec/errors.ts';
import { ImplementationDeclinedError, isDeclinedError, type EvaluationSettings, type FamilyImplementation } from '../spec/implementation.ts';
import type { OutputTensor } from '../spec/tensor.ts';
import { validateOutputs } from '../spec/validate.ts';
import { reference } from '../reference/index.ts';
import { thrownMessage } from './cells.ts';
import { InputModifiedError } from './isolated-entry.ts';
import { compareWithReference, elementBounds, judgeElement, unravel, type Comparison, type ExpectedOutputs, type WorstElement } from './compare.ts';
import type { ArithmeticDeclaration } from './tolerance.ts';
import type { GradientComparison } from './results.ts';

/** What a check concluded for one case. */
export type CheckResult =
  | { readonly kind: 'pass'; readonly comparisons?: readonly Comparison[]; readonly gradientComparisons?: readonly GradientComparison[] }
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
      /** The gradient tensors measured against rule V (the vjp property), for the gradient accuracy table. */
      readonly gradientComparisons?: readonly GradientComparison[];
    }
  | { readonly kind: 'declined'; readonly reason: string };

/** A failing CheckResult. */
export type CheckFailure = CheckResult & { kind: 'fail' };

/** What running an implementation on a problem needs. */
export interface RunContext<F extends FamilyName> {
  readonly entry: FamilyImplementation<F>;
  readonly declaration: ArithmeticDeclaration;
  /** Per-run time limit; a run that takes longer fails the case. */
  readonly timeoutMs: number;
}

/** Thrown inside a check when an answer holds NaN or ±Inf that the tolerance model does not allow. */
class DisallowedNonFinite extends Error {
  constructor(readonly result: CheckFailure) {
    super(result.message);
  }
}

/** The reference's answer in the form the comparison reads. */
export function expectedOf(problem: AnyProblem): ExpectedOutputs {
  return reference(problem) as unknown as ExpectedOutputs;
}

/**
 * Rejects when a promise does not settle within ms. It times what runs asynchronously (a worker, a
 * GPU, a testee process); a kernel that computes synchronously inside run() has finished before the
 * timer starts, so the limit cannot cut it short (a process testee's own request timeout can).
 */
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

/**
 * The first three stages: the implementation's decline, the run within the time limit, the
 * answer validated against the spec. A decline is thrown as ImplementationDeclinedError, so a
 * decline before the run and one during it take the same road.
 */
async function runValidated<F extends FamilyName>(
  context: RunContext<F>,
  problem: Problem<F>,
  settings?: EvaluationSettings,
): Promise<Readonly<Record<string, OutputTensor>>> {
  const reason = context.entry.decline?.(problem);
  if (reason !== undefined) throw new ImplementationDeclinedError(reason);
  const outputs = await withTimeout(settings === undefined ? context.entry.run(problem) : context.entry.run(problem, settings), context.timeoutMs, 'run');
  return validateOutputs(problem, outputs) as unknown as Readonly<Record<string, OutputTensor>>;
}

/**
 * Runs the implementation on a problem (declines, time limit, answer validation) and fails the
 * case where an output is NaN or ±Inf but the reference is finite within the precision's range:
 * every property gets this check here, once, so that exact comparisons (NaN equal to NaN) cannot
 * pass an answer that is not a number. The reference (`expected`, when the caller has it) is
 * computed only when such a value appears.
 */
export async function runChecked<F extends FamilyName>(context: RunContext<F>, problem: Problem<F>, expected?: ExpectedOutputs): Promise<Readonly<Record<string, OutputTensor>>> {
  const checked = await runValidated(context, problem);
  const failure = disallowedNonFinite(problem as AnyProblem, checked, context.declaration, expected);
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
  known?: ExpectedOutputs,
): CheckFailure | undefined {
  // v - v is 0 for every finite v and NaN for NaN and ±Inf.
  if (!Object.values(outputs).some((t) => t.data.some((v) => v - v !== 0))) return undefined;
  const expected = known ?? expectedOf(problem);
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
 * The last stage: what an error thrown while checking a case means. A decline (before or during
 * the run) is declined; a disallowed NaN or ±Inf, the failure naming it; a call that wrote to its
 * inputs, the failure naming the tensor; an answer that does not follow the spec, an invalid output
 * with every mismatch; anything else, a failure that keeps the
 * thrown error's stack for report.json.
 */
export function classify(error: unknown): CheckResult {
  if (isDeclinedError(error)) return { kind: 'declined', reason: error.message };
  if (error instanceof DisallowedNonFinite) return error.result;
  if (error instanceof InputModifiedError) return { kind: 'fail', message: error.message };
  if (isInvalidOutputError(error)) return { kind: 'fail', message: invalidOutputMessage(error), mismatches: error.failures };
  return { kind: 'fail', message: `the implementation threw: ${thrownMessage(error)}`, ...(error instanceof Error && error.stack !== undefined && { stack: error.stack }) };
}

/** Runs a check body and classifies whatever it throws (classify). */
export async function guarded(body: () => Promise<CheckResult>): Promise<CheckResult> {
  try {
    return await body();
  } catch (error) {
    return classify(error);
  }
}

/** A failure from a comparison, with its worst element, worded by `what`. */
export function comparisonFailure(what: string, comparison: Comparison): CheckFailure {
  const w = comparison.worst;
  const detail =
    w === undefined
      ? ''
      : ` worst ${w.output}[${w.coordinates.join(', ')}]: expected ${w.expected}, got ${w.got}, |error| ${w.error.toExponential(3)} > bound ${w.bound.toExponential(3)} (e = ${w.e.toFixed(2)})${w.reason ? `; ${w.reason}` : ''}`;
  return { kind: 'fail', message: `${what}: ${comparison.violations} of ${comparison.elements} elements outside the tolerance (${comparison.judgedBy}).${detail}`, ...(w && { worst: w }), comparisons: [comparison] };
}

/** How checkAgainstReference compares and words a failure. */
export interface ReferenceCheck {
  /** The reference's answer (computed from the problem when absent). */
  readonly expected?: ExpectedOutputs;
  /** Compare bit for bit (a dyadic-exact case), given the expected answer. */
  readonly exact?: (expected: ExpectedOutputs) => boolean;
  /** The failure of a comparison, in the caller's words. */
  readonly failure: (comparison: Comparison) => CheckFailure;
  /** How run() is asked to evaluate (a chunk size); absent: its defaults. */
  readonly settings?: EvaluationSettings;
}

/**
 * One case through the whole pipeline: run (decline, time limit, validation, non-finite check),
 * compare with the reference, classify. A result carries its comparison (passing or failing, a
 * non-finite failure included) for the accuracy tables.
 */
export async function checkAgainstReference<F extends FamilyName>(context: RunContext<F>, problem: Problem<F>, check: ReferenceCheck): Promise<CheckResult> {
  return guarded(async () => {
    const outputs = await runValidated(context, problem, check.settings);
    const any = problem as AnyProblem;
    const expected = check.expected ?? expectedOf(any);
    const comparison = compareWithReference(any, outputs, expected, context.declaration, { exact: check.exact?.(expected) ?? false });
    const nonFinite = disallowedNonFinite(any, outputs, context.declaration, expected);
    if (nonFinite !== undefined) return { ...nonFinite, comparisons: [comparison] };
    return comparison.passed ? { kind: 'pass', comparisons: [comparison] } : check.failure(comparison);
  });
}
