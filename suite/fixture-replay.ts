/**
 * Fixture replay: every implementation runs every golden fixture of a family it accepts, and is
 * held to the same tolerance model as the generated cases (bit for bit on dyadic-exact ones).
 */
import type { AnyProblem, FamilyName } from '../spec/families.ts';
import type { FamilyImplementation } from '../spec/implementation.ts';
import { compareWithReference, exactRegime, type ExpectedOutputs } from './compare.ts';
import { withTimeout } from './properties.ts';
import type { AccuracySample, Counterexample } from './results.ts';
import { pickComparison } from './accuracy.ts';
import { caseMatchesEntry, errorMessage, type CellPlan } from './cells.ts';
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
}

/** Where fixtures come from: the committed set, or a user's folder. */
export interface FixtureSource {
  /** Every case of a family, loaded and verified. */
  cases(family: FamilyName): AsyncIterable<FixtureCase>;
}

/** What replaying the fixtures of one cell found. */
export interface FixtureCellResult {
  readonly runs: number;
  readonly declined: number;
  readonly declineReason?: string;
  /** The first failing fixture, as a counterexample without fast-check replay data. */
  readonly failure?: Counterexample;
}

/** Replays a source's fixtures of one family on an implementation, collecting accuracy samples. */
export async function runFixtureCell(
  source: FixtureSource,
  entry: FamilyImplementation<FamilyName>,
  plan: CellPlan,
  declaration: ArithmeticDeclaration,
  timeoutMs: number,
  samples: AccuracySample[],
  replayTarget: string,
): Promise<FixtureCellResult> {
  let runs = 0;
  let declined = 0;
  let declineReason: string | undefined;
  let failure: Counterexample | undefined;
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
          w ? `; worst ${w.output}[${w.coordinates.join(', ')}]: expected ${w.expected}, got ${w.got}, bound ${w.bound.toExponential(3)}` : ''
        }`;
      }
    } catch (error) {
      message = `fixture ${fixture.id}: the implementation threw: ${errorMessage(error)}`;
    }
    if (message !== undefined && failure === undefined) {
      failure = {
        request: { family: plan.family, regime: fixture.regime as never, dims: dimensionsOf(fixture.problem), options: fixture.problem.options },
        valueSeed: 0,
        parameters: { fixture: fixture.id, file: fixture.file },
        seed: 0,
        path: '',
        message,
        ...(worst && { worst }),
        shrinks: 0,
        replay: `scan-conformance check ${replayTarget} --family ${plan.family} --property fixtures --fixture ${fixture.id}`,
      };
    }
  }
  return { runs, declined, ...(declineReason && { declineReason }), ...(failure && { failure }) };
}
