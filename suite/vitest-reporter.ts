/**
 * A vitest reporter that turns the cells describeConformance left in each test's meta into the
 * same report.json / report.md / report.html as the CLI (default folder DEFAULT_VITEST_REPORT_DIR of suite/settings.ts), so
 * `npm test` and `scan-conformance check` speak the same numbers. Add it next to the default
 * reporter: `reporters: ['default', './suite/vitest-reporter.ts']` (or, from the package,
 * 'scan-conformance/vitest-reporter'). A run without conformance tests writes nothing.
 *
 * Everything it reads travels in task meta, which vitest's blob reporter serialises: under
 * `vitest --shard i/n --reporter=blob`, each shard leaves a blob, and `vitest --merge-reports`
 * with this reporter writes the report an unsharded run writes (test/suite/vitest-shard.test.ts).
 */
import type { TestCase, TestModule } from 'vitest/node';
import type { Reporter } from 'vitest/reporters';
import { canonicalJson } from '../fixtures/manifest.ts';
import { FAMILY_NAMES, type FamilyName } from '../spec/families.ts';
import { aggregateAccuracy, aggregateGradientAccuracy, eHistogram, errorGrowth } from './accuracy.ts';
import { assembleReport } from './conformance-run.ts';
import { PROPERTY_NAMES, type AccuracySample, type CellResult, type ConformanceReport, type GradientSample, type ImplementationReport, type PropertyName } from './results.ts';
import { cellTimeLimitOf, DEFAULT_SEED, ENVIRONMENT, DEFAULT_VITEST_REPORT_DIR, MODES, deepFromEnvironment, requireAvailableFromEnvironment, runOptionsFromEnvironment } from './settings.ts';
import { cutCellLine, weakCheckLine } from './report/document.ts';
import { writeReports, type WrittenReport } from './report/write.ts';
import type { ImplementationFacts } from './vitest.ts';

/** Options of the reporter. */
export interface ConformanceReporterOptions {
  /** Folder of the reports (default DEFAULT_VITEST_REPORT_DIR, suite/settings.ts). */
  readonly outDir?: string;
  /** Append report.md to $GITHUB_STEP_SUMMARY too (default false: the CLI's report is the one CI shows). */
  readonly stepSummary?: boolean;
}

/** One test's contribution, read from its meta (and, for a test that never ended its cell, from vitest's result). */
export interface ConformanceTestRecord {
  readonly facts?: ImplementationFacts;
  readonly cell?: CellResult;
  readonly samples?: readonly AccuracySample[];
  readonly gradientSamples?: readonly GradientSample[];
  /** Why the implementation crashed: its describe block's setup or dispose threw. */
  readonly crashed?: string;
  /** The facts known at declaration, for an implementation none of whose tests ran (its setup threw). */
  readonly plannedFacts?: ImplementationFacts;
}

interface Collected {
  facts?: ImplementationFacts;
  plannedFacts?: ImplementationFacts;
  crashed?: string;
  readonly cells: CellResult[];
  readonly samples: AccuracySample[];
  readonly gradientSamples: GradientSample[];
}

/**
 * Where a record goes in the report: by implementation name, then the family and property order
 * of the CLI's run, then the cell's restriction. The order in which vitest hands over test modules
 * is that of the run (or, after `vitest --merge-reports`, of the shards' start times), so the
 * report must not follow it: a sharded and merged run then gives the unsharded run's report.
 */
function recordOrder(record: ConformanceTestRecord): readonly (string | number)[] {
  const cell = record.cell;
  const name = cell?.implementation ?? record.facts?.name ?? '';
  if (cell === undefined) return [name, -1, -1, ''];
  return [name, FAMILY_NAMES.indexOf(cell.family), PROPERTY_NAMES.indexOf(cell.property), `${cell.regime ?? ''} ${cell.options === undefined ? '' : canonicalJson(cell.options)}`];
}

function compareRecords(x: ConformanceTestRecord, y: ConformanceTestRecord): number {
  const [a, b] = [recordOrder(x), recordOrder(y)];
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}

/** Builds a ConformanceReport from the records of a vitest run, in an order independent of the run's (exported for tests). */
export function reportFromTestRecords(records: Iterable<ConformanceTestRecord>): ConformanceReport | undefined {
  const byImplementation = new Map<string, Collected>();
  for (const record of [...records].sort(compareRecords)) {
    const name = record.cell?.implementation ?? record.facts?.name ?? record.plannedFacts?.name;
    if (name === undefined) continue;
    const collected = byImplementation.get(name) ?? { cells: [], samples: [], gradientSamples: [] };
    byImplementation.set(name, collected);
    if (record.facts !== undefined) collected.facts ??= record.facts;
    if (record.plannedFacts !== undefined) collected.plannedFacts ??= record.plannedFacts;
    if (record.crashed !== undefined) collected.crashed ??= record.crashed;
    if (record.cell !== undefined) collected.cells.push(record.cell);
    if (record.samples !== undefined) collected.samples.push(...record.samples);
    if (record.gradientSamples !== undefined) collected.gradientSamples.push(...record.gradientSamples);
  }
  if (byImplementation.size === 0) return undefined;
  const implementations: ImplementationReport[] = [...byImplementation].map(([name, c]) => {
    const facts = c.facts ?? c.plannedFacts;
    return {
      name,
      precision: facts?.precision ?? 'float32',
      ...(facts?.accumulation && { accumulation: facts.accumulation }),
      ...(facts?.description && { description: facts.description }),
      errorModels: facts?.errorModels ?? {},
      environment: facts?.environment ?? {},
      status: c.crashed !== undefined ? 'crashed' : facts?.unavailable !== undefined ? 'unavailable' : 'ok',
      ...(c.crashed !== undefined ? { statusReason: c.crashed } : facts?.unavailable !== undefined && { statusReason: facts.unavailable }),
      cells: c.cells,
      accuracy: aggregateAccuracy(c.samples),
      growth: errorGrowth(c.samples),
      eHistogram: eHistogram(c.samples),
      ...(c.gradientSamples.length > 0 && { gradientAccuracy: aggregateGradientAccuracy(c.gradientSamples) }),
      durationMs: c.cells.reduce((sum, cell) => sum + cell.durationMs, 0),
    };
  });
  const cells = implementations.flatMap((i) => i.cells);
  const environment = runOptionsFromEnvironment();
  const families = FAMILY_NAMES.filter((f) => cells.some((c) => c.family === f)) as FamilyName[];
  const properties = PROPERTY_NAMES.filter((p) => cells.some((c) => c.property === p)) as PropertyName[];
  return assembleReport(
    implementations,
    {
      runs: environment.runs ?? MODES.quick.runs,
      cellTimeLimitMs: cellTimeLimitOf(environment),
      seed: environment.seed ?? DEFAULT_SEED,
      deep: deepFromEnvironment(),
      families,
      properties,
      fixtures: cells.some((c) => c.property === 'fixtures' && c.outcome !== 'not-applicable'),
    },
    requireAvailableFromEnvironment(),
  );
}

/** Why the describe block of a conformance test failed (its setup or dispose threw), if it did. */
function crashOf(test: TestCase): string | undefined {
  const suite = test.parent;
  if (suite.type !== 'suite' || suite.state() !== 'failed') return undefined;
  const [error] = suite.errors();
  return error === undefined ? undefined : `${error.name ?? 'Error'}: ${error.message}`;
}

/**
 * The record of a conformance test that never ended its cell: failed before it (the suite itself
 * threw, say) or not run because its describe block's setup threw. An error cell, so the
 * report cannot say PASS where vitest failed; a test left out by a filter leaves no record.
 */
function unendedCell(test: TestCase): ConformanceTestRecord | undefined {
  const planned = test.meta().scanConformancePlanned;
  if (planned === undefined) return undefined;
  const result = test.result();
  const crashed = crashOf(test);
  let reason: string;
  if (result.state === 'failed') reason = `the test failed before its cell ended: ${result.errors[0]?.message ?? 'no error given'}`;
  else if (crashed !== undefined) reason = `not run: ${crashed}`;
  else return undefined;
  const cell: CellResult = { implementation: planned.implementation.name, family: planned.family, property: planned.property, outcome: 'error', reason, runs: 0, declined: 0, durationMs: test.diagnostic()?.duration ?? 0 };
  return { plannedFacts: planned.implementation, cell, ...(crashed !== undefined && { crashed }) };
}

/** The vitest reporter: collects conformance cells from test meta and writes the reports at the end of the run. */
export default class ConformanceReporter implements Reporter {
  private readonly outDir: string;
  private readonly stepSummary: boolean;
  /** Where the last run's reports went, if any. */
  written: WrittenReport | undefined;

  constructor(options: ConformanceReporterOptions = {}) {
    this.outDir = options.outDir ?? DEFAULT_VITEST_REPORT_DIR;
    this.stepSummary = options.stepSummary ?? false;
  }

  async onTestRunEnd(testModules: ReadonlyArray<TestModule>): Promise<void> {
    const records: ConformanceTestRecord[] = [];
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const meta = test.meta();
        if (meta.scanConformanceCell === undefined) {
          const unended = unendedCell(test);
          if (unended !== undefined) records.push(unended);
        }
        if (meta.scanConformanceCell === undefined && meta.scanConformanceImplementation === undefined) continue;
        records.push({
          ...(meta.scanConformanceImplementation && { facts: meta.scanConformanceImplementation }),
          ...(meta.scanConformanceCell && { cell: meta.scanConformanceCell }),
          ...(meta.scanConformanceSamples && { samples: meta.scanConformanceSamples }),
          ...(meta.scanConformanceGradientSamples && { gradientSamples: meta.scanConformanceGradientSamples }),
          ...(crashOf(test) !== undefined && { crashed: crashOf(test) }),
        });
      }
    }
    const report = reportFromTestRecords(records);
    if (report === undefined) return;
    this.written = await writeReports(report, this.outDir, this.stepSummary ? {} : { stepSummary: '' });
    process.stderr.write(`scan-conformance: conformance report of this run written to ${this.written.html}\n`);
    // A passing test whose bound resolves little of what it compares is still a pass in vitest's summary: say it here.
    const weak = weakCheckLine(report);
    if (weak !== undefined) process.stderr.write(`scan-conformance: ${weak}\n`);
    const cut = cutCellLine(report, ENVIRONMENT.cellTimeLimit);
    if (cut !== undefined) process.stderr.write(`scan-conformance: ${cut}\n`);
  }
}
