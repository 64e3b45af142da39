/**
 * Fixture replay: every implementation runs every golden fixture of a family it accepts, and is
 * held to the same tolerance model as the generated cases (bit for bit on dyadic-exact ones).
 */
import type { AnyProblem, FamilyName } from '../spec/families.ts';
import { ImplementationDeclinedError, type FamilyImplementation } from '../spec/implementation.ts';
import { compareWithReference, exactRegime, type ExpectedOutputs } from './compare.ts';
import { invalidOutputMessage, isInvalidOutputError, withTimeout } from './properties.ts';
import type { AccuracySample, Counterexample } from './results.ts';
import { pickComparison } from './accuracy.ts';
import { caseMatchesEntry, thrownMessage, type CellPlan } from './cells.ts';
import type { ArithmeticDeclaration } from './tolerance.ts';
import { dimensionsOf } from '../spec/shapes.ts';
import { validateOutputs } from '../spec/validate.ts';
import type { OutputTensor } from '../spec/tensor.ts';

/** One golden case as the suite reads it. */
export interface FixtureCase {
  readonly id: string;
  readonly family: FamilyName;
  readonly regime: string;
  readonly problem: AnyProblem;
  readonly expected: ExpectedOutputs;
  /** The file it came from, for messages. */
  readonly file: string;
  /** The command-line flags that select this case again (`--fixtures <dir> --fixture <id>`, `--case <file>`); none for the committed fixtures' `--fixture <id>` alone. */
  readonly select?: readonly string[];
}

/** Where fixtures come from: the committed set, or a user's folder. */
export interface FixtureSource {
  /** Every case of a family, loaded and verified. */
  cases(family: FamilyName): AsyncIterable<FixtureCase>;
  /** The folders (or case files) the cases come from, absolute, for the report's settings. */
  readonly folders?: readonly string[];
}

/** What replaying the fixtures of one cell found. */
export interface FixtureCellResult {
  readonly runs: number;
  readonly declined: number;
  readonly declineReason?: string;
  /** The first failing fixture, as a counterexample without fast-check replay data. */
  readonly failure?: Counterexample;
  /** The case behind `failure`. */
  readonly failedCase?: FixtureCase;
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
): Promise<FixtureCellResult> {
  let runs = 0;
  let declined = 0;
  let declineReason: string | undefined;
  let failure: Counterexample | undefined;
  let failedCase: FixtureCase | undefined;
  for await (const fixture of source.cases(plan.family)) {
    const options = fixture.problem.options as unknown as Readonly<Record<string, boolean>>;
    if (plan.only !== undefined && !caseMatchesEntry(plan.only, fixture.regime, options)) continue;
    if (plan.excluding.some((e) => caseMatchesEntry(e, fixture.regime, options))) continue;
    const reason = entry.decline?.(fixture.problem);
    if (reason !== undefined) {
      declined++;
      declineReason ??= reason;
      continue;
    }
    runs++;
    let message: string | undefined;
    let worst: Counterexample['worst'];
    let mismatches: Counterexample['mismatches'];
    let stack: string | undefined;
    try {
      const outputs = validateOutputs(fixture.problem, await withTimeout(entry.run(fixture.problem), timeoutMs, 'run'));
      const comparison = compareWithReference(
        fixture.problem,
        outputs as unknown as Readonly<Record<string, OutputTensor>>,
        fixture.expected,
        declaration,
        { exact: exactRegime(fixture.regime, declaration, fixture.problem, fixture.expected) },
      );
      samples.push({
        family: plan.family,
        length: dimensionsOf(fixture.problem).length,
        regime: fixture.regime,
        source: 'fixture',
        judgedBy: comparison.judgedBy,
        comparison: pickComparison(comparison),
      });
      if (!comparison.passed) {
        const w = comparison.worst;
        worst = w;
        message = `fixture ${fixture.id}: ${comparison.violations} of ${comparison.elements} elements outside the tolerance (${comparison.judgedBy})${
          w ? `; worst ${w.output}[${w.coordinates.join(', ')}]: expected ${w.expected}, got ${w.got}, bound ${w.bound.toExponential(3)}${w.reason ? ` (${w.reason})` : ''}` : ''
        }`;
      }
    } catch (error) {
      // The same accounts as the generated cases give (suite/properties.ts#guarded).
      if (error instanceof ImplementationDeclinedError) {
        runs--;
        declined++;
        declineReason ??= error.message;
        continue;
      }
      if (isInvalidOutputError(error)) {
        message = `fixture ${fixture.id}: ${invalidOutputMessage(error)}`;
        mismatches = error.failures;
      } else {
        message = `fixture ${fixture.id}: the implementation threw: ${thrownMessage(error)}`;
        if (error instanceof Error && error.stack !== undefined) stack = error.stack;
      }
    }
    if (message !== undefined && failure === undefined) {
      failedCase = fixture;
      failure = {
        request: { family: plan.family, regime: fixture.regime as never, dims: dimensionsOf(fixture.problem), options: fixture.problem.options },
        valueSeed: 0,
        parameters: { fixture: fixture.id, file: fixture.file },
        seed: 0,
        path: '',
        message,
        ...(worst && { worst }),
        ...(mismatches && { mismatches }),
        ...(stack !== undefined && { stack }),
        shrinks: 0,
        replay: replay(fixture.select ?? ['--property', 'fixtures', '--fixture', fixture.id]),
      };
    }
  }
  return { runs, declined, ...(declineReason && { declineReason }), ...(failure && { failure, failedCase }) };
}
