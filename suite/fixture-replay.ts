/**
 * Fixture replay: every implementation runs every golden fixture of a family it accepts, and is
 * held to the same tolerance model as the generated cases (bit for bit on dyadic-exact ones).
 * A fixture of ssd's variable-length form goes through runVarlen and is judged sequence by
 * sequence as the varlen property judges it (suite/varlen-sequences.ts); an implementation without
 * runVarlen does not run it, and the cell counts it as not run, never as passed.
 */
import { nothingJudged } from './vjp-check.ts';
import type { AnyProblem, FamilyName } from '../spec/families.ts';
import type { SsdVarlenProblem } from '../spec/families/ssd/varlen.ts';
import { validateVarlenOutputs } from '../spec/families/ssd/varlen-validate.ts';
import { varlenEntryOf, type FamilyImplementation } from '../spec/implementation.ts';
import { exactRegime, type ExpectedOutputs } from './compare.ts';
import { checkAgainstReference, guarded, withTimeout, type CheckResult, type RunContext } from './pipeline.ts';
import { judgeVarlenSequences, sequenceExpected } from './varlen-sequences.ts';
import type { AccuracySample, Counterexample } from './results.ts';
import { pickComparison } from './accuracy.ts';
import { caseMatchesEntry, type CellPlan } from './cells.ts';
import type { ArithmeticDeclaration } from './tolerance.ts';
import { dimensionsOf, type Dimensions } from '../spec/shapes.ts';
import type { GradientTensor } from '../spec/gradients.ts';
import { unravelIndex, type Float64Tensor } from '../spec/tensor.ts';
import { gradientBounds, gradientUsage } from './gradient-tolerance.ts';
import { referenceFloorScales } from '../reference/vjp/index.ts';

/** One golden case as the suite reads it: ordinary, in ssd's variable-length form, or a gradient case. */
export type FixtureCase = OrdinaryFixtureCase | VarlenFixtureCase | GradientFixtureCase;

/** An ordinary golden case: a problem run through run(). */
export interface OrdinaryFixtureCase extends FixtureCaseFields {
  readonly form?: undefined;
  readonly family: FamilyName;
  readonly problem: AnyProblem;
}

/** A golden case of ssd's variable-length form (fixtures/manifest.ts#VARLEN_FORM): a packed problem run through runVarlen. */
export interface VarlenFixtureCase extends FixtureCaseFields {
  readonly form: 'varlen';
  readonly family: 'ssd';
  readonly problem: SsdVarlenProblem;
}

/**
 * A gradient case (fixtures/manifest.ts#VJP_FORM): a problem and a cotangent for every output,
 * run through vjp and judged by rule V against the reference VJP's gradients and scales.
 */
export interface GradientFixtureCase extends FixtureCaseFields {
  readonly form: 'vjp';
  readonly family: FamilyName;
  readonly problem: AnyProblem;
  readonly cotangents: Readonly<Record<string, GradientTensor>>;
  /** Per differentiable input present: the reference gradient, its condition scale and its depth scale. */
  readonly expectedGradients: {
    readonly gradients: Readonly<Record<string, Float64Tensor>>;
    readonly conditionScales: Readonly<Record<string, Float64Tensor>>;
    readonly depthScales: Readonly<Record<string, Float64Tensor>>;
  };
}

/** What every golden case has. */
interface FixtureCaseFields {
  readonly id: string;
  readonly regime: string;
  /** The reference's answer (for a varlen case: the packed y and one final state per sequence, with their scales). */
  readonly expected: ExpectedOutputs;
  /** The file it came from, for messages. */
  readonly file: string;
  /** The command-line flags that select this case again (`--fixtures <dir> --fixture <id>`, `--case <file>`); none for the committed fixtures' `--fixture <id>` alone. */
  readonly select?: readonly string[];
}

/** Fixture cases [start, end) of a family, in the order a source yields them (a sharded run splits a fixtures cell by them). */
export interface CaseRange {
  readonly start: number;
  readonly end: number;
}

/** Where fixtures come from: the committed set, or a user's folder. */
export interface FixtureSource {
  /** Every case of a family (only those in `range` when given, which a source with `sizes` honours), loaded and verified. */
  cases(family: FamilyName, range?: CaseRange): AsyncIterable<FixtureCase>;
  /** The size in bytes of every case of a family, in the order `cases` yields them, without loading them (what a sharded run balances by). */
  sizes?(family: FamilyName): Promise<readonly number[]>;
  /** The folders (or case files) the cases come from, absolute, for the report's settings. */
  readonly folders?: readonly string[];
}

/** What replaying the fixtures of one cell found. */
export interface FixtureCellResult {
  readonly runs: number;
  readonly declined: number;
  readonly declineReason?: string;
  /** Varlen fixtures not run because the implementation has no runVarlen, gradient ones because it has no vjp (neither passed nor declined). */
  readonly notRun: number;
  readonly notRunReason?: string;
  /** The first failing fixture, as a counterexample without fast-check replay data. */
  readonly failure?: Counterexample;
  /** The case behind `failure`, when it is an ordinary one (a counterexample file holds a problem for run()). */
  readonly failedCase?: OrdinaryFixtureCase;
}

/** Replays a source's fixtures of one family on an implementation, collecting accuracy samples. */
export async function runFixtureCell(
  source: FixtureSource,
  entry: FamilyImplementation<FamilyName>,
  plan: CellPlan,
  declaration: ArithmeticDeclaration,
  timeoutMs: number,
  samples: AccuracySample[],
  replay: (flags: readonly string[]) => string,
  range?: CaseRange,
): Promise<FixtureCellResult> {
  let runs = 0;
  let declined = 0;
  let declineReason: string | undefined;
  let notRun = 0;
  const notRunReasons: string[] = [];
  let failure: Counterexample | undefined;
  let failedCase: OrdinaryFixtureCase | undefined;
  const context: RunContext<FamilyName> = { entry, declaration, timeoutMs };
  const varlenEntry = varlenEntryOf(plan.family, entry);
  for await (const fixture of source.cases(plan.family, range)) {
    const options = fixture.problem.options as unknown as Readonly<Record<string, boolean>>;
    if (plan.only !== undefined && !caseMatchesEntry(plan.only, fixture.regime, options)) continue;
    if (plan.excluding.some((e) => caseMatchesEntry(e, fixture.regime, options))) continue;
    const missing =
      fixture.form === 'varlen' && varlenEntry === undefined
        ? "the implementation's ssd has no runVarlen"
        : fixture.form === 'vjp' && entry.vjp === undefined
          ? `the implementation's ${plan.family} has no vjp`
          : undefined;
    if (missing !== undefined) {
      notRun++;
      if (!notRunReasons.includes(missing)) notRunReasons.push(missing);
      continue;
    }
    // The same pipeline as the generated cases (suite/pipeline.ts): a decline before or during the run is declined.
    const result =
      fixture.form === 'varlen'
        ? await checkVarlenFixture(varlenEntry!, fixture, declaration, timeoutMs)
        : fixture.form === 'vjp'
          ? await checkGradientFixture(entry, fixture, declaration, timeoutMs)
          : await checkAgainstReference(context, fixture.problem, {
      expected: fixture.expected,
      exact: (expected) => exactRegime(fixture.regime, declaration, fixture.problem, expected),
      failure: (comparison) => {
        const w = comparison.worst;
        return {
          kind: 'fail',
          message: `${comparison.violations} of ${comparison.elements} elements outside the tolerance (${comparison.judgedBy})${
            w ? `; worst ${w.output}[${w.coordinates.join(', ')}]: expected ${w.expected}, got ${w.got}, bound ${w.bound.toExponential(3)}${w.reason ? ` (${w.reason})` : ''}` : ''
          }`,
          ...(w && { worst: w }),
          comparisons: [comparison],
        };
      },
    });
    if (result.kind === 'declined') {
      declined++;
      declineReason ??= result.reason;
      continue;
    }
    runs++;
    const length = fixture.form === 'varlen' ? fixture.problem.inputs.x.shape[1] : dimensionsOf(fixture.problem).length;
    for (const comparison of result.comparisons ?? []) {
      samples.push({
        family: plan.family,
        length,
        regime: fixture.regime,
        source: 'fixture',
        judgedBy: comparison.judgedBy,
        comparison: pickComparison(comparison),
      });
    }
    if (result.kind === 'fail' && failure === undefined) {
      if (fixture.form === undefined) failedCase = fixture;
      const dims = fixture.form === 'varlen' ? varlenDimensions(fixture.problem) : dimensionsOf(fixture.problem);
      failure = {
        request: { family: plan.family, regime: fixture.regime as never, dims, options: fixture.problem.options },
        valueSeed: 0,
        parameters: { fixture: fixture.id, file: fixture.file },
        seed: 0,
        path: '',
        message: `fixture ${fixture.id}: ${result.message}`,
        ...(result.worst && { worst: result.worst }),
        ...(result.mismatches && { mismatches: result.mismatches }),
        ...(result.stack !== undefined && { stack: result.stack }),
        shrinks: 0,
        replay: replay(fixture.select ?? ['--property', 'fixtures', '--fixture', fixture.id]),
      };
    }
  }
  return {
    runs,
    declined,
    ...(declineReason && { declineReason }),
    notRun,
    ...(notRunReasons.length > 0 && { notRunReason: notRunReasons.join('; ') }),
    ...(failure && { failure }),
    ...(failedCase && { failedCase }),
  };
}

/**
 * One varlen fixture through runVarlen (time limit, answer validated), judged sequence by
 * sequence against the fixture's packed expected answer exactly as the varlen property's check (a).
 */
async function checkVarlenFixture(
  entry: NonNullable<ReturnType<typeof varlenEntryOf>>,
  fixture: VarlenFixtureCase,
  declaration: ArithmeticDeclaration,
  timeoutMs: number,
): Promise<CheckResult> {
  return guarded(async () => {
    const { problem, expected } = fixture;
    const answer = await withTimeout(entry.runVarlen(problem), timeoutMs, 'runVarlen');
    const outputs = validateVarlenOutputs(problem, answer);
    const bounds = Array.from(problem.inputs.cuSeqlens.data).join(', ');
    const judgement = judgeVarlenSequences(problem, outputs, declaration, fixture.regime, (_own, s) => sequenceExpected(problem, expected, s), `varlen (cuSeqlens [${bounds}])`);
    return judgement.failure ?? { kind: 'pass', comparisons: judgement.comparisons };
  });
}

/**
 * One gradient fixture through vjp (decline honoured, time limit): every gradient present and
 * shaped like its input, none for an input without one, each element within rule V's bound
 * (suite/gradient-tolerance.ts) of the reference gradient; the worst element is named.
 */
async function checkGradientFixture(
  entry: FamilyImplementation<FamilyName>,
  fixture: GradientFixtureCase,
  declaration: ArithmeticDeclaration,
  timeoutMs: number,
): Promise<CheckResult> {
  return guarded(async () => {
    const { problem, cotangents, expectedGradients: expected } = fixture;
    const reason = entry.decline?.(problem as never);
    if (reason !== undefined) return { kind: 'declined', reason };
    const answer = (await withTimeout(entry.vjp!(problem as never, cotangents as never), timeoutMs, 'vjp')) as Readonly<Record<string, GradientTensor | undefined>>;
    const got = Object.fromEntries(Object.entries(answer ?? {}).filter(([, t]) => t !== undefined)) as Record<string, GradientTensor>;
    for (const [name, reference] of Object.entries(expected.gradients)) {
      const t = got[name];
      if (t === undefined) return { kind: 'fail', message: `vjp: gradients.${name}: expected a tensor of shape [${reference.shape.join(', ')}], got none` };
      if (t.shape.join() !== reference.shape.join() || t.data.length !== reference.data.length) {
        return { kind: 'fail', message: `vjp: gradients.${name}: expected shape [${reference.shape.join(', ')}], got [${t.shape.join(', ')}] with ${t.data.length} values` };
      }
    }
    const extra = Object.keys(got).filter((name) => !(name in expected.gradients));
    if (extra.length > 0) return { kind: 'fail', message: `vjp: gradients: expected only ${Object.keys(expected.gradients).join(', ')} (the differentiable inputs present), got also ${extra.join(', ')}` };
    // The file holds the condition and depth scales; the floor scale is the reference's, recomputed.
    const floors = referenceFloorScales(problem as never, cotangents as never) as Readonly<Record<string, GradientTensor | undefined>>;
    const bounds = gradientBounds(problem, expected.conditionScales, expected.depthScales, cotangents, declaration, floors);
    const usage = gradientUsage(expected.gradients, got, bounds);
    // As the vjp property does: a case in which rule V judges none of its elements checked nothing.
    const none = nothingJudged(usage.judged, Object.values(expected.gradients).reduce((n, t) => n + t.data.length, 0));
    if (none !== undefined && usage.worst === undefined) return none;
    if (usage.max <= 1 || usage.worst === undefined) return { kind: 'pass' };
    const { input, index } = usage.worst;
    const reference = expected.gradients[input];
    const at = unravelIndex(index, reference.shape).join(', ');
    return {
      kind: 'fail',
      message: `vjp: gradient ${input}[${at}]: expected ${reference.data[index]}, got ${got[input].data[index]}, bound ${bounds.bounds[input][index].toExponential(3)} (rule V, ${usage.max.toPrecision(3)}× the bound; ${usage.judged} elements judged)`,
    };
  });
}

/** The dimensions of a varlen problem's packed row (batch 1, length T), for a counterexample's request. */
function varlenDimensions(problem: SsdVarlenProblem): Dimensions {
  const [batch, length, H, P] = problem.inputs.x.shape;
  return { batch, dim: H * P, length, stateSize: problem.inputs.B.shape[3] };
}
