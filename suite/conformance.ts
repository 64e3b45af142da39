/**
 * A whole conformance run: every implementation through runImplementation, one at a time (GPU and
 * tfjs implementations share global state), gathered into one ConformanceReport with the tool and
 * spec versions, the machine, the settings and a summary whose unexpectedFailures sets the exit code
 * (a run that checked nothing fails unless allowed: no green from zero cells or all-declined cells).
 * Platform-neutral (the browser page runs it too): the machine's facts, the tool's version and the
 * RunHost come in as a ConformanceHost; suite/conformance-run.ts binds Node's.
 */
import { FAMILY_NAMES } from '../spec/families.ts';
import type { ScanImplementation } from '../spec/implementation.ts';
import { isPrecision } from '../spec/precision.ts';
import { SPEC_VERSION } from '../spec/version.ts';
import { errorMessage } from './cells.ts';
import { InvalidImplementationError, validateImplementation } from './implementation-check.ts';
import {
  FAILING_OUTCOMES,
  PROPERTY_NAMES,
  type CellResult,
  type ConformanceReport,
  type ImplementationReport,
  type Outcome,
  type RunSettings,
} from './results.ts';
import { cellAxes } from './lifecycle.ts';
import { runImplementationWith, type CellSlice, type RunHost, type RunOptions } from './cell-runner.ts';
import { cellTimeLimitOf, DEFAULT_SEED, MODES } from './settings.ts';

/** Every outcome, in report order. */
export const OUTCOMES: readonly Outcome[] = ['pass', 'fail', 'expected-failure', 'unexpected-pass', 'not-applicable', 'declined', 'error', 'informational'];

/** What a progress listener hears. */
export type ConformanceProgress =
  | { readonly kind: 'implementation-start'; readonly implementation: string; readonly index: number; readonly total: number; readonly plannedCells: number }
  | { readonly kind: 'cell'; readonly cell: CellResult }
  | { readonly kind: 'implementation-end'; readonly report: ImplementationReport };

/** What a conformance run needs from the platform it runs on. */
export interface ConformanceHost extends ReportFacts {
  readonly run: RunHost;
}

/** Facts a report states about where it was made. */
export interface ReportFacts {
  /** The tool's version (package.json's). */
  readonly toolVersion: string;
  /** The machine (Node: version, platform, CPU; a browser: its user agent). */
  machine(): Record<string, string>;
}

/** Options of runConformance. */
export interface ConformanceOptions {
  readonly implementations: readonly ScanImplementation[];
  readonly runOptions?: RunOptions;
  /** Whether the run is in deep mode (recorded in the settings; on Node the default comes from the environment, deepFromEnvironment in suite/settings.ts). */
  readonly deep?: boolean;
  /** Count an unavailable implementation as a failure (on Node the default comes from the environment: requireAvailableFromEnvironment in suite/settings.ts). */
  readonly requireAvailable?: boolean;
  /** Per implementation, how to reach it again in a replay command (a module path or --command). */
  readonly replayTargets?: ReadonlyMap<ScanImplementation, string>;
  /**
   * Let a run that checked nothing pass (no cell, or every case declined or not applicable);
   * default false: such a run fails, with the reason in the summary (--allow-empty).
   */
  readonly allowEmpty?: boolean;
  readonly onProgress?: (event: ConformanceProgress) => void;
  /** A shard's share of each implementation (suite/shard-plan.ts); absent: every cell of every implementation. */
  readonly slices?: ReadonlyMap<ScanImplementation, readonly CellSlice[]>;
  /** Called after each slice of a sharded run (RunOptions.onSlice), with its implementation. */
  readonly onSlice?: (implementation: ScanImplementation, ...rest: Parameters<NonNullable<RunOptions['onSlice']>>) => void;
}

/** Cells runImplementation will run for an implementation (before expected-failure splits), for progress bars. */
export function plannedCellCount(implementation: ScanImplementation, runOptions: RunOptions = {}): number {
  const { families, properties } = cellAxes(implementation, runOptions);
  return families.length * properties.length;
}

/** Runs every implementation in turn and builds the report; a failing or crashing implementation never stops the others. */
export async function runConformanceWith(host: ConformanceHost, options: ConformanceOptions): Promise<ConformanceReport> {
  const runOptions = options.runOptions ?? {};
  const requireAvailable = options.requireAvailable ?? false;
  const reports: ImplementationReport[] = [];
  const total = options.implementations.length;
  for (const [index, implementation] of options.implementations.entries()) {
    const plannedCells = options.slices?.get(implementation)?.length ?? plannedCellCount(implementation, runOptions);
    options.onProgress?.({ kind: 'implementation-start', implementation: implementation.name, index, total, plannedCells });
    const replayTarget = options.replayTargets?.get(implementation) ?? runOptions.replayTarget;
    let report: ImplementationReport;
    try {
      validateImplementation(implementation);
      report = await runImplementationWith(host.run, implementation, {
        ...runOptions,
        ...(replayTarget !== undefined && { replayTarget }),
        ...(options.slices?.get(implementation) !== undefined && { slices: options.slices.get(implementation) }),
        ...(options.onSlice !== undefined && { onSlice: (...rest: Parameters<NonNullable<RunOptions['onSlice']>>) => options.onSlice?.(implementation, ...rest) }),
        onCell: (cell) => {
          runOptions.onCell?.(cell);
          options.onProgress?.({ kind: 'cell', cell });
        },
      });
    } catch (error) {
      // runImplementation reports failures itself; this guards against a bug in the suite, so that the others still run.
      report =
        error instanceof InvalidImplementationError
          ? crashedReport({ name: String(implementation.name), precision: isPrecision(implementation.precision) ? implementation.precision : 'float32' }, error.message)
          : crashedReport(implementation, `the suite crashed while running it: ${errorMessage(error)}`);
    }
    reports.push(report);
    options.onProgress?.({ kind: 'implementation-end', report });
  }
  const settings: RunSettings = {
    runs: runOptions.runs ?? MODES.quick.runs,
    cellTimeLimitMs: cellTimeLimitOf(runOptions),
    seed: runOptions.seed ?? DEFAULT_SEED,
    deep: options.deep ?? false,
    families: runOptions.families ?? FAMILY_NAMES,
    properties: runOptions.properties ?? PROPERTY_NAMES,
    fixtures: runOptions.fixtures !== undefined,
    ...(runOptions.fixtures?.folders !== undefined && { fixtureFolders: runOptions.fixtures.folders }),
    ...(options.allowEmpty === true && { allowEmpty: true }),
  };
  return assembleReportWith(host, reports, settings, requireAvailable);
}

/** Builds the report around implementation reports, with the facts of where it was made. */
export function assembleReportWith(facts: ReportFacts, implementations: readonly ImplementationReport[], settings: RunSettings, requireAvailable: boolean): ConformanceReport {
  return {
    tool: { name: 'scan-conformance', version: facts.toolVersion },
    specVersion: SPEC_VERSION,
    createdAt: new Date().toISOString(),
    machine: facts.machine(),
    settings,
    implementations,
    summary: summarise(implementations, requireAvailable, settings.allowEmpty === true),
  };
}

/**
 * Counts cells by outcome; unexpected failures are failing cells plus crashed (and, when required,
 * unavailable) implementations, plus one for a run that checked nothing unless `allowEmpty`.
 */
export function summarise(implementations: readonly ImplementationReport[], requireAvailable: boolean, allowEmpty = false): ConformanceReport['summary'] {
  const byOutcome = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  let cells = 0;
  let unexpectedFailures = 0;
  for (const implementation of implementations) {
    for (const cell of implementation.cells) {
      byOutcome[cell.outcome]++;
      cells++;
      if (FAILING_OUTCOMES.includes(cell.outcome)) unexpectedFailures++;
    }
    if (implementationFails(implementation, requireAvailable)) unexpectedFailures++;
  }
  const nothingChecked = whyNothingWasChecked(implementations);
  if (nothingChecked !== undefined && !allowEmpty) unexpectedFailures++;
  return { implementations: implementations.length, cells, byOutcome, unexpectedFailures, ...(nothingChecked !== undefined && { nothingChecked }) };
}

/** Why a run checked nothing (no cell ran a single case), in words; undefined when some case ran. */
export function whyNothingWasChecked(implementations: readonly ImplementationReport[]): string | undefined {
  if (implementations.some((i) => i.cells.some((c) => c.runs > 0))) return undefined;
  if (implementations.length === 0) return 'nothing was checked: no implementation was loaded';
  const cells = implementations.flatMap((i) => i.cells);
  if (cells.length === 0) {
    const why = implementations.map((i) =>
      i.status === 'ok' ? `${i.name} has no cell (none of its families was asked for)` : `${i.name} is ${i.status}${i.statusReason ? ` (${i.statusReason})` : ''}`,
    );
    return `nothing was checked: no cell ran (${why.join('; ')})`;
  }
  const declined = cells.filter((c) => c.outcome === 'declined');
  const counts = OUTCOMES.map((o) => [o, cells.filter((c) => c.outcome === o).length] as const)
    .filter(([, n]) => n > 0)
    .map(([o, n]) => `${n} ${o}`);
  const firstReason = declined.find((c) => c.declineReason !== undefined)?.declineReason;
  const lead = declined.length === cells.length ? 'every case was declined' : 'no cell ran a case';
  return `nothing was checked: ${lead} (${cells.length} cell${cells.length === 1 ? '' : 's'}: ${counts.join(', ')}${firstReason ? `; first decline reason: ${firstReason}` : ''})`;
}

/** Whether an implementation's status (not its cells) fails the run. */
export function implementationFails(implementation: ImplementationReport, requireAvailable: boolean): boolean {
  return implementation.status === 'crashed' || (requireAvailable && implementation.status === 'unavailable');
}

/** The report of an implementation that could not be run at all. */
export function crashedReport(implementation: Pick<ScanImplementation, 'name' | 'precision'>, reason: string): ImplementationReport {
  return {
    name: implementation.name,
    precision: implementation.precision,
    errorModels: {},
    environment: {},
    status: 'crashed',
    statusReason: reason,
    cells: [],
    accuracy: [],
    growth: [],
    eHistogram: {},
    durationMs: 0,
  };
}
