/**
 * The commands of the scan-conformance CLI that do work (check, list). Kept apart from
 * scripts/cli.ts so that --help, --version and usage errors answer without loading the suite,
 * the reference and the plotting library.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import cliProgress from 'cli-progress';
import { FIXTURES_DIR } from '../fixtures/folder.ts';
import { loadManifest } from '../fixtures/loader.ts';
import { processImplementation } from '../protocol/process-implementation.ts';
import { FAMILY_NAMES, type FamilyName } from '../spec/families.ts';
import type { ScanImplementation } from '../spec/implementation.ts';
import { errorMessage } from '../suite/cells.ts';
import {
  assembleReport,
  crashedReport,
  plannedCellCount,
  runConformance,
  type ConformanceProgress,
} from '../suite/conformance-run.ts';
import type { FixtureSource } from '../suite/fixture-replay.ts';
import { concatFixtureSources, fixtureSourceFromCaseFiles, fixtureSourceFromDirectory } from '../suite/fixture-source.ts';
import { commandTarget, moduleTarget } from '../suite/replay.ts';
import { InvalidImplementationError } from '../suite/implementation-check.ts';
import { describeCellFailure } from '../suite/messages.ts';
import { IMPLEMENTATIONS_DIR, ImplementationModuleError, assertUniqueNames, implementationModules, loadImplementationModule } from '../suite/registry.ts';
import { FAILING_OUTCOMES, type ConformanceReport, type ImplementationReport, type ShardRecord, type UnitResult } from '../suite/results.ts';
import type { RunOptions } from '../suite/runner.ts';
import { DEFAULT_RUN_TIMEOUT_MS, MODES, defaultJobs, deepFromEnvironment, requireAvailableFromEnvironment, runOptionsFromEnvironment } from '../suite/settings.ts';
import { cellProgressLine, verdictLines } from '../suite/report/document.ts';
import { writeReports } from '../suite/report/write.ts';
import { EXIT, UsageError, fromEnvironment, type CheckArguments, type CliStreams, type ListArguments, type MergeArguments } from './cli-arguments.ts';
import { aggregateAccuracy, aggregateGradientAccuracy, eHistogram } from '../suite/accuracy.ts';
import { codeRevision } from '../suite/code-revision.ts';
import { commandPath } from '../suite/replay.ts';
import { parseReportJson, renderJson } from '../suite/report/json.ts';
import { writeFileAtomically } from '../suite/report/write.ts';
import { planShards, slicesOfShard, timingsOf, type ShardSpec, type Timings } from '../suite/shard-plan.ts';
import { ShardMergeError, mergeShards, type MergedRun, type ShardInput } from '../suite/shard-merge.ts';

/** An implementation to run, or a module/command that could not provide one (reported as crashed). */
type Loaded =
  | { readonly kind: 'ok'; readonly implementation: ScanImplementation; readonly replayTarget: string }
  | { readonly kind: 'failed'; readonly name: string; readonly reason: string };

/** Loads the implementations a command line names; module and testee failures become 'failed' entries, a missing module file a UsageError. */
async function loadImplementations(args: CheckArguments | ListArguments): Promise<Loaded[]> {
  const loaded: Loaded[] = [];
  const explicit = args.impl.length > 0 || args.testeeCommands.length > 0;
  if (!explicit || args.all) {
    for (const index of await implementationModules(IMPLEMENTATIONS_DIR)) {
      try {
        for (const implementation of await loadImplementationModule(index)) loaded.push({ kind: 'ok', implementation, replayTarget: moduleTarget(index) });
      } catch (error) {
        if (error instanceof InvalidImplementationError) throw new UsageError(`${error.name}: ${error.message}`);
        loaded.push({ kind: 'failed', name: `implementations/${path.basename(path.dirname(index))}`, reason: `its module failed to load: ${errorMessage(error)}` });
      }
    }
  }
  for (const modulePath of args.impl) {
    try {
      for (const implementation of await loadImplementationModule(modulePath)) loaded.push({ kind: 'ok', implementation, replayTarget: moduleTarget(modulePath) });
    } catch (error) {
      if (error instanceof ImplementationModuleError && /found none at/.test(error.message)) throw new UsageError(error.message);
      if (error instanceof InvalidImplementationError) throw new UsageError(`${error.name}: ${error.message}`);
      loaded.push({ kind: 'failed', name: modulePath, reason: `the module failed to load: ${errorMessage(error)}` });
    }
  }
  for (const command of args.testeeCommands) {
    try {
      const implementation = await processImplementation({ command, ...('timeoutMs' in args && args.timeoutMs !== undefined && { requestTimeoutMs: args.timeoutMs }) });
      loaded.push({ kind: 'ok', implementation, replayTarget: commandTarget(command) });
    } catch (error) {
      loaded.push({ kind: 'failed', name: command, reason: `the testee did not start: ${errorMessage(error)}` });
    }
  }
  const names = loaded.filter((l) => l.kind === 'ok').map((l) => l.implementation);
  try {
    assertUniqueNames(names);
  } catch (error) {
    throw new UsageError(errorMessage(error));
  }
  return loaded;
}

/**
 * The names of the implementations that --impl modules and --command testees give (and the shipped
 * ones with `all`), each disposed again; one that does not load is a UsageError with its reason.
 */
export async function implementationNamesOf(selection: Pick<ListArguments, 'impl' | 'testeeCommands' | 'all'>): Promise<string[]> {
  const loaded = await loadImplementations({ command: 'list', only: [], ...selection });
  for (const l of loaded) if (l.kind === 'ok') await l.implementation.dispose?.().catch(() => undefined);
  const failed = loaded.filter((l) => l.kind === 'failed');
  if (failed.length > 0) throw new UsageError(failed.map((l) => `${l.name}: ${l.reason}`).join('; '));
  return loaded.flatMap((l) => (l.kind === 'ok' ? [l.implementation.name] : []));
}

/**
 * Keeps the --only names, and every module or testee that failed to load: which names it holds is
 * unknown, so it stays in the report as crashed rather than vanish from a green run. An --only that
 * matches nothing is a usage error naming what exists and what did not load.
 */
function selectOnly(loaded: Loaded[], only: readonly string[]): Loaded[] {
  if (only.length === 0) return loaded;
  const names = loaded.flatMap((l) => (l.kind === 'ok' ? [l.implementation.name] : []));
  const failed = loaded.flatMap((l) => (l.kind === 'failed' ? [`${l.name}: ${l.reason}`] : []));
  for (const name of only) {
    if (!names.includes(name)) {
      const unloaded = failed.length === 0 ? '' : `; not loaded: ${failed.join('; ')}`;
      throw new UsageError(`--only: expected the name of an implementation (${names.join(', ') || 'none loaded'}), got '${name}'${unloaded}`);
    }
  }
  return loaded.filter((l) => l.kind === 'failed' || only.includes(l.implementation.name));
}

/** The committed fixtures, the --fixtures folders, or the --case files of a check; undefined with --no-fixtures. */
async function fixtureSourceOf(args: CheckArguments): Promise<FixtureSource | undefined> {
  if (args.cases !== undefined) {
    const source = fixtureSourceFromCaseFiles(args.cases);
    for (const family of FAMILY_NAMES) {
      try {
        for await (const _ of source.cases(family)) break;
      } catch (error) {
        throw new UsageError(`--case: expected a counterexample or fixture file (safetensors in the fixture format), got ${errorMessage(error)}`);
      }
    }
    return source;
  }
  if (args.fixtures === false) return undefined;
  const dirs = args.fixtures === undefined ? [FIXTURES_DIR] : args.fixtures.map((dir) => path.resolve(dir));
  const sources: FixtureSource[] = [];
  const ids = new Set<string>();
  for (const dir of dirs) {
    try {
      for (const c of (await loadManifest(dir)).cases) ids.add(c.id);
    } catch (error) {
      throw new UsageError(`--fixtures: expected a fixtures folder with a valid manifest.json, got ${errorMessage(error)}`);
    }
    sources.push(fixtureSourceFromDirectory(dir, args.fixtureIds === undefined ? {} : { ids: args.fixtureIds }));
  }
  for (const id of args.fixtureIds ?? []) {
    if (!ids.has(id)) throw new UsageError(`--fixture: expected the id of a case in ${dirs.map((d) => path.join(d, 'manifest.json')).join(' or ')}, got '${id}'`);
  }
  return sources.length === 1 ? sources[0] : concatFixtureSources(sources);
}

/** The families of the --case files (a case replays in its own family's cell). */
async function caseFamilies(source: FixtureSource): Promise<FamilyName[]> {
  const families: FamilyName[] = [];
  for (const family of FAMILY_NAMES) {
    for await (const _ of source.cases(family)) {
      families.push(family);
      break;
    }
  }
  return families;
}

/** Builds the run options of a check from flags over the environment (flags win). */
async function runOptionsOf(args: CheckArguments): Promise<RunOptions> {
  const environment = fromEnvironment(() => runOptionsFromEnvironment());
  const mode = args.deep ? MODES.deep : undefined;
  const fixtures = await fixtureSourceOf(args);
  let families = args.families;
  if (args.cases !== undefined && fixtures !== undefined) {
    const ofCases = await caseFamilies(fixtures);
    families = args.families === undefined ? ofCases : args.families.filter((f) => ofCases.includes(f));
  }
  return {
    runs: args.runs ?? mode?.runs ?? environment.runs,
    maxLength: args.maxLength ?? mode?.maxLength ?? environment.maxLength,
    ...((args.seed ?? environment.seed) !== undefined && { seed: args.seed ?? environment.seed }),
    ...(args.path !== undefined && { path: args.path }),
    ...(families !== undefined && { families }),
    ...(args.cases !== undefined ? { properties: ['fixtures'] as const } : args.properties !== undefined && { properties: args.properties }),
    ...(fixtures !== undefined && { fixtures }),
    ...(args.timeoutMs !== undefined && { timeoutMs: args.timeoutMs }),
    ...((args.cellTimeLimitMs ?? environment.cellTimeLimitMs) !== undefined && { cellTimeLimitMs: args.cellTimeLimitMs ?? environment.cellTimeLimitMs }),
    reportDir: args.out,
  };
}

/** A progress display: what it is told, more cells planned (--jobs children report theirs as they start), and its end. */
export interface ProgressDisplay {
  readonly onProgress: (event: ConformanceProgress) => void;
  readonly addPlanned: (cells: number) => void;
  readonly stop: () => void;
}

/** A progress display over cells: a bar on a terminal, one line per cell otherwise. */
export function progressDisplay(stderr: CliStreams['stderr'], totalCells: number): ProgressDisplay {
  const interactive = 'isTTY' in stderr && stderr.isTTY === true;
  let done = 0;
  let total = totalCells;
  if (interactive) {
    const bar = new cliProgress.SingleBar(
      { stream: stderr as NodeJS.WriteStream, format: '{bar} {value}/{total} cells | {implementation} {cell}', hideCursor: true, clearOnComplete: true },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { implementation: '', cell: '' });
    return {
      onProgress: (event) => {
        if (event.kind === 'implementation-start') bar.update(done, { implementation: event.implementation, cell: '' });
        if (event.kind === 'cell') {
          done++;
          if (done > total) bar.setTotal((total = done));
          bar.update(done, { cell: `${event.cell.family} · ${event.cell.property}: ${event.cell.outcome}` });
        }
      },
      addPlanned: (cells) => bar.setTotal((total += cells)),
      stop: () => bar.stop(),
    };
  }
  return {
    onProgress: (event) => {
      if (event.kind === 'implementation-start') stderr.write(`${event.implementation} (${event.index + 1}/${event.total}): ${event.plannedCells} cells\n`);
      if (event.kind === 'cell') {
        done++;
        const c = event.cell;
        stderr.write(`${cellProgressLine(c, done, total)}\n`);
      }
      if (event.kind === 'implementation-end' && event.report.status !== 'ok') stderr.write(`${event.report.name}: ${event.report.status}: ${event.report.statusReason ?? ''}\n`);
    },
    addPlanned: (cells) => void (total += cells),
    stop: () => undefined,
  };
}

/** `scan-conformance check`: runs (one shard of the run, or N shards in child processes, or all of it here), writes the reports, returns the exit code. */
export async function check(args: CheckArguments, streams: CliStreams): Promise<number> {
  if (args.shard !== undefined) return checkShard(args, args.shard, streams);
  const jobs = args.jobs ?? fromEnvironment(() => defaultJobs(availableParallelism()));
  if (jobs > 1) return (await import('./cli-jobs.ts')).checkWithJobs(args, jobs, streams);
  const loaded = selectOnly(await loadImplementations(args), args.only);
  const runOptions = await runOptionsOf(args);
  const runnable = loaded.flatMap((l) => (l.kind === 'ok' ? [l] : []));
  const display = progressDisplay(streams.stderr, runnable.reduce((n, l) => n + plannedCellCount(l.implementation, runOptions), 0));
  let report: ConformanceReport;
  try {
    report = await runConformance({
      implementations: runnable.map((l) => l.implementation),
      runOptions,
      deep: args.deep || deepFromEnvironment(),
      replayTargets: new Map(runnable.map((l) => [l.implementation, l.replayTarget])),
      allowEmpty: args.allowEmpty === true,
      onProgress: display.onProgress,
    });
  } finally {
    display.stop();
  }
  return finishCheck(withFailedLoads(report, loaded), args.out, streams);
}

/** A report with the implementations whose module or testee could not be loaded, as crashed. */
function withFailedLoads(report: ConformanceReport, loaded: readonly Loaded[]): ConformanceReport {
  const failed: ImplementationReport[] = loaded.flatMap((l) => (l.kind === 'failed' ? [crashedReport({ name: l.name, precision: 'float32' }, l.reason)] : []));
  if (failed.length === 0) return report;
  const implementations = [...report.implementations, ...failed];
  return { ...report, ...assembleReport(implementations, report.settings, requireAvailableFromEnvironment()), createdAt: report.createdAt };
}

/** Writes a run's reports into `out`, prints its failures, where the reports went and the verdict; returns the exit code. */
export async function finishCheck(report: ConformanceReport, out: string, streams: CliStreams): Promise<number> {
  const written = await writeReports(report, out);
  for (const implementation of report.implementations) {
    for (const cell of implementation.cells.filter((c) => FAILING_OUTCOMES.includes(c.outcome))) streams.stderr.write(`\n${describeCellFailure(cell)}\n`);
    if (implementation.status === 'crashed') streams.stderr.write(`\n${implementation.name}: crashed: ${implementation.statusReason ?? ''}\n`);
  }
  streams.stdout.write(`reports written to ${written.json}, ${written.markdown}, ${written.html}${written.stepSummary ? ` (and appended to ${written.stepSummary})` : ''}\n`);
  streams.stdout.write(verdictLines(report));
  return report.summary.unexpectedFailures === 0 ? EXIT.ok : EXIT.unexpectedFailure;
}

/** Reads an earlier report's timings (--timings); a usage error naming the file when it is not a report. */
async function timingsFrom(file: string): Promise<Timings> {
  let report: ConformanceReport;
  try {
    report = parseReportJson(await readFile(file, 'utf8'));
    if (!Array.isArray(report.implementations)) throw new Error('it has no implementations list');
  } catch (error) {
    throw new UsageError(`--timings: expected an earlier report.json, got ${file}: ${errorMessage(error)}`);
  }
  return timingsOf(report, commandPath(file));
}

/** The environment variable that tells a shard it is a child of check --jobs: progress goes to its parent over IPC, not to stderr. */
export const JOBS_CHILD_ENV = 'SCAN_CONFORMANCE_JOBS_CHILD';

/** What a --jobs child sends its parent. */
export type ChildMessage = { readonly kind: 'planned'; readonly cells: number } | ConformanceProgress;

/** `check --shard i/n`: runs this shard's units and writes its report (with the shard record merge needs). */
async function checkShard(args: CheckArguments, shard: ShardSpec, streams: CliStreams): Promise<number> {
  const loaded = selectOnly(await loadImplementations(args), args.only);
  const runOptions = await runOptionsOf(args);
  const runnable = loaded.flatMap((l) => (l.kind === 'ok' ? [l] : []));
  const timings = args.timings === undefined ? undefined : await timingsFrom(args.timings);
  const plan = await planShards({ implementations: runnable.map((l) => l.implementation), runOptions, count: shard.count, ...(timings && { timings }) });
  const slices = slicesOfShard(plan, shard.index);
  const mine = runnable.filter((l) => slices.has(l.implementation.name));
  const unitIds = new Map(plan.units.filter((u) => u.shard === shard.index).map((u) => [`${u.implementation}|${u.cell}|${u.part?.index ?? 0}`, u.id]));
  const results = new Map<string, UnitResult>();
  const cellsSoFar = new Map<string, number>();
  const toParent = process.env[JOBS_CHILD_ENV] === '1' && process.send !== undefined ? (message: ChildMessage) => void process.send?.(message) : undefined;
  const plannedCells = [...slices.values()].reduce((n, list) => n + list.length, 0);
  toParent?.({ kind: 'planned', cells: plannedCells });
  const display = toParent === undefined ? progressDisplay(streams.stderr, plannedCells) : { onProgress: toParent, addPlanned: () => undefined, stop: () => undefined };
  let report: ConformanceReport;
  try {
    report = await runConformance({
      implementations: mine.map((l) => l.implementation),
      runOptions,
      deep: args.deep || deepFromEnvironment(),
      replayTargets: new Map(mine.map((l) => [l.implementation, l.replayTarget])),
      allowEmpty: args.allowEmpty === true,
      onProgress: display.onProgress,
      slices: new Map(mine.map((l) => [l.implementation, slices.get(l.implementation.name) ?? []])),
      onSlice: (implementation, slice, _cell, samples, gradientSamples) => {
        const id = unitIds.get(`${implementation.name}|${slice.cell}|${slice.part?.index ?? 0}`);
        const cell = cellsSoFar.get(implementation.name) ?? 0;
        cellsSoFar.set(implementation.name, cell + 1);
        if (id === undefined) return;
        results.set(id, { id, cell, accuracy: aggregateAccuracy(samples), gradientAccuracy: aggregateGradientAccuracy(gradientSamples), eHistogram: eHistogram(samples) });
      },
    });
  } finally {
    display.stop();
  }
  report = withFailedLoads(report, loaded);
  const units = plan.units.filter((u) => u.shard === shard.index).map((u): UnitResult => results.get(u.id) ?? { id: u.id, accuracy: [], gradientAccuracy: [], eHistogram: {} });
  const record: ShardRecord = {
    index: shard.index,
    count: shard.count,
    planHash: plan.hash,
    costSource: plan.costSource,
    run: {
      toolVersion: report.tool.version,
      specVersion: report.specVersion,
      revision: codeRevision(),
      settings: report.settings,
      maxLength: runOptions.maxLength ?? MODES.quick.maxLength,
      timeoutMs: runOptions.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS,
      ...(runOptions.path !== undefined && { path: runOptions.path }),
      requireAvailable: requireAvailableFromEnvironment(),
      implementations: loaded.map((l) => (l.kind === 'ok' ? l.implementation.name : l.name)),
    },
    implementations: plan.implementations,
    plan: plan.units.map(({ cost: _, ...unit }) => unit),
    units,
  };
  // A shard given nothing to do checked nothing: said so (the verdict fails unless --allow-empty), never a pass.
  const summary =
    units.length === 0
      ? { ...report.summary, nothingChecked: `nothing was checked: shard ${shard.index}/${shard.count} was given no cell (the run has ${plan.units.length} unit${plan.units.length === 1 ? '' : 's'} for ${shard.count} shards)` }
      : report.summary;
  report = { ...report, shard: record, summary };
  if (args.shardFile === undefined) return finishCheck(report, args.out, streams);
  await writeFileAtomically(args.shardFile, renderJson(report));
  return report.summary.unexpectedFailures === 0 ? EXIT.ok : EXIT.unexpectedFailure;
}

/** `scan-conformance merge`: the reports of a sharded run's shards as one run's report. */
export async function merge(args: MergeArguments, streams: CliStreams): Promise<number> {
  const inputs: ShardInput[] = [];
  for (const file of args.files) {
    try {
      inputs.push({ file, report: parseReportJson(await readFile(file, 'utf8')) });
    } catch (error) {
      throw new UsageError(`merge: expected a shard's report.json, got ${file}: ${errorMessage(error)}`);
    }
  }
  let merged: MergedRun;
  try {
    let missing: Map<number, string> | undefined;
    if (args.allowIncomplete) {
      const count = inputs[0]?.report.shard?.count ?? 0;
      const given = new Set(inputs.map((i) => i.report.shard?.index));
      missing = new Map(Array.from({ length: count }, (_, i) => i + 1).filter((i) => !given.has(i)).map((i) => [i, `shard ${i}/${count} was not given to merge (--allow-incomplete)`]));
    }
    merged = mergeShards(inputs, { ...(missing !== undefined && { missing }), canRename: existsSync });
  } catch (error) {
    if (error instanceof ShardMergeError) throw new UsageError(`merge: ${error.message}`);
    throw error;
  }
  await applyRenames(merged.renames);
  return finishCheck(merged.report, args.out, streams);
}

/** Gives a later part's counterexample file the cell's name, as the merged report names it (mergeShards' canRename). */
export async function applyRenames(renames: MergedRun['renames']): Promise<void> {
  for (const { from, to } of renames) {
    await rename(from, to);
  }
}

/** `scan-conformance list`: prints the implementations check would run. */
export async function list(args: ListArguments, streams: CliStreams): Promise<number> {
  const loaded = selectOnly(await loadImplementations(args), args.only);
  const rows = loaded.map((l) => {
    if (l.kind === 'failed') return [l.name, '-', `could not be loaded: ${l.reason}`];
    const i = l.implementation;
    const families = FAMILY_NAMES.filter((f) => i.families[f] !== undefined).map((f) => {
      const family = i.families[f];
      return `${f} (${family?.errorModel ?? 'componentwise'}${family?.step ? ', step' : ''}${family?.vjp ? ', vjp' : ''})`;
    });
    const precision = i.accumulation ? `${i.precision}/acc ${i.accumulation}` : i.precision;
    const expected = i.expectedFailures?.length ? `; ${i.expectedFailures.length} expected failure(s)` : '';
    return [i.name, precision, `${families.join(', ')}${expected}`];
  });
  const width = (k: number) => Math.max(...rows.map((r) => r[k].length), ['implementation', 'precision'][k]?.length ?? 0);
  const line = (r: readonly string[]) => `${r[0].padEnd(width(0))}  ${r[1].padEnd(width(1))}  ${r[2]}\n`;
  streams.stdout.write(line(['implementation', 'precision', 'families (error model; step and vjp where given)']));
  for (const row of rows) streams.stdout.write(line(row));
  for (const l of loaded) if (l.kind === 'ok') await l.implementation.dispose?.().catch(() => undefined);
  return loaded.some((l) => l.kind === 'failed') ? EXIT.unexpectedFailure : EXIT.ok;
}

