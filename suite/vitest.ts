/**
 * The whole conformance suite as vitest tests, for our own test files and for users' projects:
 * `describeConformance(myImplementation)` declares one test per family × property (× expected-
 * failure cell), each failing with its shrunk counterexample and the command that replays it.
 * Like the CLI it replays the committed fixtures unless told otherwise; a cell whose every case
 * was declined is skipped with the reason (it checked nothing), never passed.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, it, type TestContext } from 'vitest';
import type { FamilyName } from '../spec/families.ts';
import type { ScanImplementation } from '../spec/implementation.ts';
import type { FixtureSource } from './fixture-replay.ts';
import { fixtureSourceFromDirectory } from './fixture-source.ts';
import { validateImplementation } from './implementation-check.ts';
import { describeCellFailure } from './messages.ts';
import { cellAxes, dispose, environmentOf, implementationCells, implementationHead, setUp, type ImplementationHead } from './lifecycle.ts';
import { aggregateAccuracy, aggregateGradientAccuracy, weakChecks } from './accuracy.ts';
import { weakCheckText } from './report/document.ts';
import { formatDuration } from './report/format.ts';
import { FAILING_OUTCOMES, type AccuracySample, type CellResult, type GradientSample, type PropertyName } from './results.ts';
import { runCell, type RunOptions } from './runner.ts';
import { moduleTarget } from './replay.ts';
import { ENVIRONMENT, MODES, requireAvailableFromEnvironment, runOptionsFromEnvironment } from './settings.ts';

/** Options of describeConformance: run options plus how to treat an unavailable implementation. */
export interface DescribeConformanceOptions extends Omit<RunOptions, 'fixtures'> {
  /**
   * Fail (instead of skip, with the reason) when setup says this machine cannot run the
   * implementation. Default: from the environment (requireAvailableFromEnvironment, suite/settings.ts).
   */
  readonly requireAvailable?: boolean;
  /**
   * The module that exports the implementation (`import.meta.url` of that module, or a path):
   * replay commands then read `npx scan-conformance check --impl <it>`; without it they rerun
   * the test file with vitest.
   */
  readonly module?: string;
  /**
   * Which fixtures to replay, as the CLI does: the committed fixtures (default), a fixtures
   * folder (a path, as `--fixtures <dir>`), a FixtureSource, or false for none (`--no-fixtures`).
   */
  readonly fixtures?: FixtureSource | string | false;
}

/** The fixture source an option names: the committed fixtures by default, a folder, a source, or none. */
function fixtureSourceOf(fixtures: DescribeConformanceOptions['fixtures']): FixtureSource | undefined {
  if (fixtures === false) return undefined;
  if (fixtures === undefined) return fixtureSourceFromDirectory();
  return typeof fixtures === 'string' ? fixtureSourceFromDirectory(path.resolve(fixtures)) : fixtures;
}

/** Key under which each test's cell result is left in vitest's task meta, for reporters. */
export const CELL_META_KEY = 'scanConformanceCell';

/** Key of the accuracy samples a test's cell measured, for the report's accuracy tables. */
export const SAMPLES_META_KEY = 'scanConformanceSamples';

/** Key of the gradient comparisons a vjp cell measured, for the report's gradient accuracy table. */
export const GRADIENT_SAMPLES_META_KEY = 'scanConformanceGradientSamples';

/** Key of the facts about the implementation a test ran, for the report. */
export const IMPLEMENTATION_META_KEY = 'scanConformanceImplementation';

/** What a reporter needs to know of the implementation behind a test. */
export interface ImplementationFacts extends ImplementationHead {
  readonly environment: Readonly<Record<string, string>>;
  /** Set when setup said the machine cannot run it (the test was skipped). */
  readonly unavailable?: string;
}

/** Key of what a test was declared to run (set at declaration, so a test that never ran its cell still names it). */
export const PLANNED_META_KEY = 'scanConformancePlanned';

/** The cell a test was declared for, and the implementation's facts known before its setup. */
export interface PlannedCell {
  readonly implementation: ImplementationFacts;
  readonly family: FamilyName;
  readonly property: PropertyName;
}

declare module 'vitest' {
  interface TaskMeta {
    scanConformancePlanned?: PlannedCell;
    scanConformanceCell?: CellResult;
    scanConformanceSamples?: AccuracySample[];
    scanConformanceGradientSamples?: GradientSample[];
    scanConformanceImplementation?: ImplementationFacts;
  }
}

/** The facts of an implementation for the report (environment() only once setup succeeded). */
function implementationFacts(implementation: ScanImplementation, unavailable: string | undefined): ImplementationFacts {
  return {
    ...implementationHead(implementation, cellAxes(implementation).families),
    environment: unavailable === undefined ? environmentOf(implementation) : {},
    ...(unavailable !== undefined && { unavailable }),
  };
}

/** Declares the conformance suite of one implementation as vitest tests. */
export function describeConformance(implementation: ScanImplementation, options: DescribeConformanceOptions = {}): void {
  // A typo'd family key or a missing run is an error here, at declaration, not a suite of zero tests.
  validateImplementation(implementation, 'describeConformance');
  const { fixtures: fixturesOption, ...rest } = options;
  const fixtures = fixtureSourceOf(fixturesOption);
  const settings: RunOptions & Pick<DescribeConformanceOptions, 'requireAvailable' | 'module'> = { ...runOptionsFromEnvironment(), ...rest, ...(fixtures !== undefined && { fixtures }) };
  const requireAvailable = settings.requireAvailable ?? requireAvailableFromEnvironment();
  let unavailable: string | undefined;

  describe(implementation.name, () => {
    beforeAll(async () => {
      const setup = await setUp(implementation);
      if (setup.status === 'unavailable' && !requireAvailable) unavailable = setup.reason;
      else if (setup.status !== 'ok') throw setup.error;
    });
    afterAll(async () => {
      if (unavailable !== undefined) return;
      const crashed = await dispose(implementation);
      if (crashed !== undefined) throw new Error(crashed);
    });
    // Known before setup: a suite whose setup throws still has its implementation in the report, crashed.
    const planned = { ...implementationHead(implementation, cellAxes(implementation).families), environment: {} };
    for (const plan of implementationCells(implementation, { ...settings, withoutFixtures: settings.fixtures === undefined })) {
      const { family, property } = plan;
      const restriction = [plan.only?.regime, plan.only?.options && JSON.stringify(plan.only.options)].filter(Boolean).join(' ');
      const title = `${family} › ${property}${restriction ? ` [${restriction}]` : ''}${plan.expected ? ' (expected to fail)' : ''}`;
      // No vitest timeout: the suite's own limits end a cell (each run's time limit, the cell time
      // limit), and vitest's default 5 s would fail a correct kernel's slow cell.
      it(title, { timeout: 0, meta: { [PLANNED_META_KEY]: { implementation: planned, family, property } } }, async (context: TestContext) => {
        context.task.meta[IMPLEMENTATION_META_KEY] = implementationFacts(implementation, unavailable);
        if (unavailable !== undefined) {
          context.skip(`${implementation.name} is unavailable on this machine: ${unavailable}`);
          return;
        }
        const samples: AccuracySample[] = [];
        const gradientSamples: GradientSample[] = [];
        const replay = settings.module !== undefined ? { replayTarget: moduleTarget(settings.module) } : { replayTestFile: context.task.file.filepath };
        const cell = await runCell(implementation, plan, { ...settings, ...replay }, samples, gradientSamples);
        context.task.meta[CELL_META_KEY] = cell;
        context.task.meta[SAMPLES_META_KEY] = samples;
        if (gradientSamples.length > 0) context.task.meta[GRADIENT_SAMPLES_META_KEY] = gradientSamples;
        if (cell.outcome === 'not-applicable') {
          context.skip(`not applicable: ${cell.reason ?? ''}`);
          return;
        }
        // A cell whose every case was declined checked nothing: skipped with the reason, never passed.
        if (cell.outcome === 'declined') {
          context.skip(`every case declined (${cell.declined}): ${cell.declineReason ?? 'no reason given'}`);
          return;
        }
        if (FAILING_OUTCOMES.includes(cell.outcome)) throw new Error(describeCellFailure(cell));
        // vitest counts a pass whose bound resolves little of what it compared as any other pass: a
        // warning annotation says so where reporters show notes (verbose, github-actions).
        if (cell.outcome !== 'pass') return;
        if (cell.cutAtTimeLimitMs !== undefined) {
          await context.annotate(`cut by the ${formatDuration(cell.cutAtTimeLimitMs)} cell time limit: passed on ${cell.runs} of the ${settings.runs ?? MODES.quick.runs} cases asked (${ENVIRONMENT.cellTimeLimit} gives more, 0 for none)`, 'warning');
        }
        for (const weak of weakChecks({ accuracy: aggregateAccuracy(samples), gradientAccuracy: aggregateGradientAccuracy(gradientSamples) })) {
          await context.annotate(`weak check: ${weakCheckText(weak)}: the bound is at least |value| on most elements, so 0 or a wrong sign would pass there`, 'warning');
        }
      });
    }
  });
}

/** Families × properties that describeConformance would declare for an implementation (for reporters and docs). */
export function conformanceTestPlan(implementation: ScanImplementation): { family: FamilyName; property: PropertyName }[] {
  const { families, properties } = cellAxes(implementation);
  return families.flatMap((family) => properties.map((property) => ({ family, property })));
}
