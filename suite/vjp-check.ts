/**
 * What the vjp properties share (issue 17): when they apply, the problems they decline, the
 * cotangents and tangents they draw from a seed, and the backward pass run through the same
 * stages as a forward run (decline, time limit, the answer validated: a gradient of the right shape
 * for every differentiable input present, none for an absent one) and judged under rule V
 * (suite/gradient-tolerance.ts).
 */
import type { AnyProblem, FamilyName, Problem } from '../spec/families.ts';
import { SpecValidationError, type SpecValidationFailure } from '../spec/errors.ts';
import { DIFFERENTIABLE_INPUTS, type Cotangents, type GradientTensor } from '../spec/gradients.ts';
import { ImplementationDeclinedError, type FamilyImplementation } from '../spec/implementation.ts';
import { dimensionsOf, outputShapes } from '../spec/shapes.ts';
import { MIN_NORMAL } from '../spec/precision.ts';
import { unravelIndex, type OutputTensor } from '../spec/tensor.ts';
import { validateOutputTensors } from '../spec/validate.ts';
import { referenceVjp, type Tangents, type VjpResult } from '../reference/vjp/index.ts';
import { uniformFromSeed } from './arbitraries.ts';
import type { WorstElement } from './compare.ts';
import type { GradientComparison } from './results.ts';
import { gradientBounds, type GradientBounds } from './gradient-tolerance.ts';
import { withTimeout, type CheckFailure, type RunContext } from './pipeline.ts';
import { roundoffsOf, type ArithmeticDeclaration } from './tolerance.ts';

/** Gradients by differentiable input name, as validated. */
export type Gradients = Readonly<Record<string, OutputTensor>>;

/** Why a vjp property does not apply: the implementation's entry has no vjp. */
export function vjpNotApplicable(_family: FamilyName, entry: FamilyImplementation<FamilyName>): string | undefined {
  return entry.vjp === undefined ? 'not applicable: the implementation has no vjp' : undefined;
}

/** Float32 values uniform in [−1, 1) of a shape, from a uniform source. */
function uniformTensor(random: () => number, shape: readonly number[]): GradientTensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return { data: Float32Array.from({ length: size }, () => 2 * random() - 1), shape: [...shape] };
}

/** A cotangent for every output of a problem, float32 values in [−1, 1) drawn from `seed` (the same seed, the same cotangents). */
export function cotangentsOf<F extends FamilyName>(problem: Problem<F>, seed: number): Cotangents<F> {
  const random = uniformFromSeed(seed);
  const shapes = outputShapes(problem.family, dimensionsOf(problem as AnyProblem)) as Readonly<Record<string, readonly number[]>>;
  return Object.fromEntries(Object.entries(shapes).map(([name, shape]) => [name, uniformTensor(random, shape)])) as unknown as Cotangents<F>;
}

/** Zero cotangents for every output of a problem. */
export function zeroCotangentsOf<F extends FamilyName>(problem: Problem<F>): Cotangents<F> {
  const shapes = outputShapes(problem.family, dimensionsOf(problem as AnyProblem)) as Readonly<Record<string, readonly number[]>>;
  return Object.fromEntries(Object.entries(shapes).map(([name, shape]) => [name, { data: new Float32Array(shape.reduce((a, b) => a * b, 1)), shape: [...shape] }])) as unknown as Cotangents<F>;
}

/** The differentiable inputs a problem has, with their shapes, in the family's order. */
export function differentiableShapes(problem: AnyProblem): Record<string, readonly number[]> {
  const inputs = problem.inputs as unknown as Record<string, { shape: readonly number[] } | undefined>;
  const names: readonly string[] = DIFFERENTIABLE_INPUTS[problem.family];
  return Object.fromEntries(names.flatMap((name) => (inputs[name] === undefined ? [] : [[name, inputs[name].shape]])));
}

/** A tangent for every differentiable input present, float32 values in [−1, 1) drawn from `seed`. */
export function tangentsOf<F extends FamilyName>(problem: Problem<F>, seed: number): Tangents<F> {
  const random = uniformFromSeed(seed);
  return Object.fromEntries(Object.entries(differentiableShapes(problem as AnyProblem)).map(([name, shape]) => [name, uniformTensor(random, shape)])) as Tangents<F>;
}

/**
 * Runs the implementation's vjp through the forward run's stages: its decline, the time limit, and
 * the answer validated (a tensor of the input's shape for every differentiable input present, none
 * for an absent input). A mismatch throws SpecValidationError, classified as an invalid output.
 */
export async function runVjp<F extends FamilyName>(context: RunContext<F>, problem: Problem<F>, cotangents: Cotangents<F>): Promise<Gradients> {
  const reason = context.entry.decline?.(problem);
  if (reason !== undefined) throw new ImplementationDeclinedError(reason);
  const vjp = context.entry.vjp;
  if (vjp === undefined) throw new ImplementationDeclinedError('the implementation has no vjp');
  const answer: unknown = await withTimeout(vjp.call(context.entry, problem, cotangents), context.timeoutMs, 'vjp');
  return validateGradients(problem as AnyProblem, answer);
}

/** Checks a vjp's answer: every mismatch, an extra gradient (of an absent or non-differentiable input) included. */
export function validateGradients(problem: AnyProblem, answer: unknown): Gradients {
  // The context ends in ' outputs' so that the pipeline classifies a mismatch as an invalid output.
  const context = `${problem.family} vjp gradient outputs`;
  const shapes = differentiableShapes(problem);
  const names = Object.keys(shapes);
  const differentiable: readonly string[] = DIFFERENTIABLE_INPUTS[problem.family];
  if (typeof answer === 'object' && answer !== null && !Array.isArray(answer)) {
    const extra: SpecValidationFailure[] = [];
    for (const [key, value] of Object.entries(answer)) {
      if (names.includes(key) || value === undefined) continue;
      const why = differentiable.includes(key) ? `absent: the problem has no ${key}` : `absent: ${key} is not a differentiable input of ${problem.family} (${differentiable.join(', ')})`;
      extra.push({ context, field: key, expected: why, actual: 'a gradient' });
    }
    if (extra.length > 0) throw new SpecValidationError(extra as [SpecValidationFailure, ...SpecValidationFailure[]]);
    // An absent input's key holding undefined is no gradient: drop it before the strict check.
    const present = Object.fromEntries(Object.entries(answer).filter(([, v]) => v !== undefined));
    return validateOutputTensors(context, names, shapes, present);
  }
  return validateOutputTensors(context, names, shapes, answer);
}

/** The reference's gradients of a problem and rule V's bound of every element under the context's declaration. */
export interface JudgedGradients {
  readonly reference: VjpResult<FamilyName>;
  readonly bounds: GradientBounds;
}

/** The reference VJP of a problem and its rule V bounds. */
export function judgedGradients<F extends FamilyName>(context: RunContext<F>, problem: Problem<F>, cotangents: Cotangents<F>): JudgedGradients {
  const reference = referenceVjp(problem, cotangents) as unknown as VjpResult<FamilyName>;
  const bounds = gradientBounds(
    problem as AnyProblem,
    reference.conditionScales as Readonly<Record<string, OutputTensor | undefined>>,
    reference.depthScales as Readonly<Record<string, OutputTensor | undefined>>,
    cotangents as unknown as Readonly<Record<string, GradientTensor>>,
    context.declaration,
    reference.floorScales as Readonly<Record<string, OutputTensor | undefined>>,
  );
  return { reference, bounds };
}

/**
 * The decline of a case in which rule V judges none of the gradient elements there are (`judged`
 * of `total`): a pass would have checked nothing. Undefined when some element was judged.
 */
export function nothingJudged(judged: number, total: number): { kind: 'declined'; reason: string } | undefined {
  return judged === 0 && total > 0 ? { kind: 'declined', reason: `none of the ${total} gradient elements is judged by rule V (non-finite reference, no finite bound, or ambiguous clamp)` } : undefined;
}

/** Whether an element is judged: a finite reference and a finite bound (rule V leaves ambiguous clamps out). */
export function isJudged(judged: JudgedGradients, name: string, i: number): boolean {
  const g = (judged.reference.gradients as Readonly<Record<string, OutputTensor | undefined>>)[name];
  return g !== undefined && Number.isFinite(g.data[i]) && judged.bounds.bounds[name][i] !== Number.POSITIVE_INFINITY;
}

/**
 * The first gradient element outside its rule V bound, as a failure naming the tensor and the
 * element (`vjp.A[0, 1]`), e in units of u·G (u of the declared storage); undefined when every judged element is inside. A non-finite gradient
 * passes only where an intermediate may leave the precision's range.
 */
export function gradientFailure(judged: JudgedGradients, gradients: Gradients, declaration: ArithmeticDeclaration, what: string): CheckFailure | undefined {
  const unit = roundoffsOf(declaration).storage;
  const expected = judged.reference.gradients as Readonly<Record<string, OutputTensor | undefined>>;
  const scales = judged.reference.conditionScales as Readonly<Record<string, OutputTensor | undefined>>;
  let violations = 0;
  let elements = 0;
  let worst: WorstElement | undefined;
  let worstUsage = -1;
  for (const [name, reference] of Object.entries(expected)) {
    if (reference === undefined) continue;
    const got = gradients[name].data;
    const bound = judged.bounds.bounds[name];
    for (let i = 0; i < reference.data.length; i++) {
      const want = reference.data[i];
      const have = got[i];
      if (!isJudged(judged, name, i) || (!Number.isFinite(have) && judged.bounds.overflowPossible)) continue;
      elements++;
      const error = Math.abs(have - want);
      const usage = Number.isNaN(error) ? Number.POSITIVE_INFINITY : error === 0 ? 0 : error / bound[i];
      if (!(usage <= 1)) violations++;
      if (usage > worstUsage) {
        worstUsage = usage;
        const G = scales[name]?.data[i] ?? Number.NaN;
        worst = {
          output: `vjp.${name}`,
          index: i,
          coordinates: unravelIndex(i, reference.shape),
          expected: want,
          got: have,
          error,
          bound: bound[i],
          e: G > 0 ? error / (unit * G) : Number.NaN,
          ...(!Number.isFinite(have) && { reason: `${have} where the reference gradient is ${want} and no intermediate can leave the range` }),
        };
      }
    }
  }
  if (violations === 0 || worst === undefined) return undefined;
  return {
    kind: 'fail',
    message: `${what}: ${violations} of ${elements} gradient elements outside rule V; worst ${worst.output}[${worst.coordinates.join(', ')}]: expected ${worst.expected}, got ${worst.got}, |error| ${worst.error.toExponential(3)} > bound ${worst.bound.toExponential(3)}${worst.reason ? `; ${worst.reason}` : ''}`,
    worst,
  };
}

/**
 * Per gradient tensor, how a vjp's gradients measured against rule V (for the gradient accuracy
 * table): the elements judged as gradientFailure judges them, max e in units of u·G, max bound usage,
 * and how many of them the bound leaves unresolved (bound ≥ |g|).
 */
export function gradientComparisons(judged: JudgedGradients, gradients: Gradients, declaration: ArithmeticDeclaration): GradientComparison[] {
  const unit = roundoffsOf(declaration).storage;
  // Under the storage's smallest normal number a gradient's allowance is absolute by design (rule V's floor).
  const minNormal = MIN_NORMAL[declaration.precision];
  const expected = judged.reference.gradients as Readonly<Record<string, OutputTensor | undefined>>;
  const scales = judged.reference.conditionScales as Readonly<Record<string, OutputTensor | undefined>>;
  const out: GradientComparison[] = [];
  for (const [name, reference] of Object.entries(expected)) {
    if (reference === undefined) continue;
    const got = gradients[name].data;
    const bound = judged.bounds.bounds[name];
    let elements = 0;
    let nonzeroElements = 0;
    let unresolvedElements = 0;
    let maxE = 0;
    let maxBoundUsage = 0;
    for (let i = 0; i < reference.data.length; i++) {
      if (!isJudged(judged, name, i) || (!Number.isFinite(got[i]) && judged.bounds.overflowPossible)) continue;
      elements++;
      const magnitude = Math.abs(reference.data[i]);
      if (magnitude >= minNormal) {
        nonzeroElements++;
        if (bound[i] >= magnitude) unresolvedElements++;
      }
      const error = Math.abs(got[i] - reference.data[i]);
      const usage = Number.isNaN(error) ? Number.POSITIVE_INFINITY : error === 0 ? 0 : error / bound[i];
      maxBoundUsage = Math.max(maxBoundUsage, usage);
      const G = scales[name]?.data[i] ?? 0;
      const e = error === 0 ? 0 : G > 0 ? error / (unit * G) : Number.POSITIVE_INFINITY;
      maxE = Math.max(maxE, Number.isNaN(e) ? Number.POSITIVE_INFINITY : e);
    }
    out.push({ tensor: name, elements, maxE, maxBoundUsage, nonzeroElements, unresolvedElements, passed: maxBoundUsage <= 1 });
  }
  return out;
}
