/**
 * Fixture replay: every implementation runs every golden fixture of a family it accepts, and is
 * held to the same tolerance model as the generated cases (bit for bit on dyadic-exact ones).
 */
import type { AnyProblem, FamilyName } from '../spec/families.ts';
import type { FamilyImplementation } from '../spec/implementation.ts';
import { exactRegime, type ExpectedOutputs } from './compare.ts';
import { checkAgainstReference, type RunContext } from './pipeline.ts';
import type { AccuracySample, Counterexample } from './results.ts';
import { pickComparison } from './accuracy.ts';
import { caseMatchesEntry, type CellPlan } from './cells.ts';
import type { ArithmeticDeclaration } from './tolerance.ts';
import { dimensionsOf } from '../spec/shapes.ts';

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
  const context: RunContext<FamilyName> = { entry, declaration, timeoutMs };
  for await (const fixture of source.cases(plan.family)) {
    const options = fixture.problem.options as unknown as Readonly<Record<string, boolean>>;
    if (plan.only !== undefined && !caseMatchesEntry(plan.only, fixture.regime, options)) continue;
    if (plan.excluding.some((e) => caseMatchesEntry(e, fixture.regime, options))) continue;
    // The same pipeline as the generated cases (suite/pipeline.ts): a decline before or during the run is declined.
    const result = await checkAgainstReference(context, fixture.problem, {
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
    for (const comparison of result.comparisons ?? []) {
      samples.push({
        family: plan.family,
        length: dimensionsOf(fixture.problem).length,
        regime: fixture.regime,
        source: 'fixture',
        judgedBy: comparison.judgedBy,
        comparison: pickComparison(comparison),
      });
    }
    if (result.kind === 'fail' && failure === undefined) {
      failedCase = fixture;
      failure = {
        request: { family: plan.family, regime: fixture.regime as never, dims: dimensionsOf(fixture.problem), options: fixture.problem.options },
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
  return { runs, declined, ...(declineReason && { declineReason }), ...(failure && { failure, failedCase }) };
}
