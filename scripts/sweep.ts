/**
 * `scan-conformance sweep` (in a checkout also `npm run sweep`): the deep sweep. Every shipped
 * implementation, or the ones --impl modules and --command testees give, runs in deep mode without
 * fixtures (`check --deep --no-fixtures --seed S`) on each seed, one child process per
 * (implementation, seed), --jobs of them at once; the sweep prints each finished run, writes one
 * summary (sweep.json and sweep.md: every failing cell with its message and replay command, and
 * the time of each run), rewritten after every run so that a sweep cut short keeps what it did, and
 * exits 1 when any run had an unexpected failure or crashed. Each run also leaves run.json beside its
 * report; --resume reuses those of the same code revision, so a long sweep can go on where it stopped.
 *
 *   scan-conformance sweep [--impl m]… [--command c]… [--all] [--seeds 1-20] [--only name]… [--exclude name]…
 *                          [--family f]… [--property p]… [--cell-time-limit ms] [--jobs N] [--out reports/sweep] [--resume]
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { discoverImplementations } from '../suite/registry.ts';
import { FAILING_OUTCOMES, type CellResult, type ConformanceReport } from '../suite/results.ts';
import { cellTimeLimitFromText, DEFAULT_CELL_TIME_LIMIT_MS } from '../suite/settings.ts';
import { codeRevision, runCodeRevision } from '../suite/code-revision.ts';
import { writeFileAtomically } from '../suite/report/write.ts';
import { parseCliArguments, UsageError } from './cli-arguments.ts';
import { implementationNamesOf } from './cli-commands.ts';
import { cliEntry } from './cli-jobs.ts';
import { formatMemory, watchPeakMemory } from './process-memory.ts';

/** What the sweep was asked to do. */
export interface SweepArguments {
  /** Implementation modules (absolute paths) whose implementations are swept instead of the shipped ones. */
  readonly impl: readonly string[];
  /** Testee commands (the process protocol) whose implementations are swept instead of the shipped ones. */
  readonly testeeCommands: readonly string[];
  /** With impl or testeeCommands: sweep the shipped implementations too. */
  readonly all: boolean;
  readonly seeds: readonly number[];
  readonly only: readonly string[];
  readonly exclude: readonly string[];
  readonly families: readonly string[];
  readonly properties: readonly string[];
  /** check's --cell-time-limit for every run; undefined: check's default. */
  readonly cellTimeLimitMs?: number;
  /** check's --runs, --max-length and --timeout as given (checked as check checks them), passed to every run. */
  readonly checkFlags: readonly string[];
  readonly jobs: number;
  readonly out: string;
  readonly resume: boolean;
  /** Print the Markdown summary of the runs already in --out on this revision, run none, write nothing. */
  readonly summary: boolean;
  readonly help: boolean;
}

export const SWEEP_USAGE = `usage: scan-conformance sweep [flags]   (in a checkout also: npm run sweep -- [flags])

  --impl <module>       sweep the implementations this module exports (repeatable), as check --impl
  --command "<command>" sweep the implementation of this testee (repeatable), as check --command
  --all                 with --impl/--command, the shipped implementations too (default: every shipped
                        one when neither is given)
  --seeds <a-b|a,b,…>   seeds to run (default 1-20)
  --only <name>         only this implementation (repeatable; default all of them)
  --exclude <name>      leave this implementation out (repeatable)
  --family <family>     only this family (repeatable; passed to check)
  --property <property> only this property (repeatable; passed to check)
  --cell-time-limit <ms> each cell's time limit (passed to check; default ${DEFAULT_CELL_TIME_LIMIT_MS}, 0: none):
                        a slow machine's cells that the limit cuts pass on fewer cases (sweep.md lists them)
  --runs <n>, --max-length <L>, --timeout <ms>
                        passed to every check (default: the deep mode's 200 cases, L ≤ 4096; check's timeout)
  --jobs <n>            child processes at once (default: the number of CPUs, ${os.cpus().length} here); sweep.md
                        gives each implementation's peak memory in a run (Linux), to see how many fit
  --out <dir>           where sweep.json, sweep.md and each run's report go (default reports/sweep)
  --resume              reuse the runs already in --out that ran on this code revision with these
                        filters and flags, and run only the others (for --impl and --command
                        the revision covers the module file and the command text, not what they import or run)
  --summary             print the summary (sweep.md) of those runs and run nothing, writing no file
                        (safe beside a sweep that is running into the same --out); exits 0 only when
                        every run of the selection ended and passed (1 when one failed or is still to run)

Each run is: scan-conformance check [--impl …] [--command …] [--all] --only <name> --deep --no-fixtures --seed <s> --jobs 1
             [--family …] [--property …] [--cell-time-limit …] [--runs …] [--max-length …] [--timeout …].
After a silent minute it prints the runs in flight, each with the cells it has ended.
The summary is rewritten after every run; until the last run ends it says INCOMPLETE, never PASS.
Exit code 1 when any run had an unexpected failure or crashed, 2 for a usage error, 130 when stopped.
`;

/** Parses "1-20", "3" or "1,4,9" into ascending distinct non-negative seeds. */
export function parseSeeds(text: string): number[] {
  const seeds = new Set<number>();
  for (const part of text.split(',')) {
    const range = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (range === null) throw new UsageError(`--seeds: expected a range like 1-20 or a list like 1,4,9, got '${text}'`);
    const from = Number(range[1]);
    const to = range[2] === undefined ? from : Number(range[2]);
    if (to < from) throw new UsageError(`--seeds: a range must ascend, got '${part.trim()}'`);
    if (to - from > 10_000) throw new UsageError(`--seeds: at most 10001 seeds in a range, got '${part.trim()}'`);
    for (let s = from; s <= to; s++) seeds.add(s);
  }
  return [...seeds].sort((a, b) => a - b);
}

/** Parses the sweep's command line; throws UsageError naming the flag. */
export function parseSweepArguments(argv: readonly string[]): SweepArguments {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        impl: { type: 'string', multiple: true, default: [] },
        command: { type: 'string', multiple: true, default: [] },
        all: { type: 'boolean', default: false },
        seeds: { type: 'string', default: '1-20' },
        only: { type: 'string', multiple: true, default: [] },
        exclude: { type: 'string', multiple: true, default: [] },
        family: { type: 'string', multiple: true, default: [] },
        property: { type: 'string', multiple: true, default: [] },
        'cell-time-limit': { type: 'string' },
        runs: { type: 'string' },
        'max-length': { type: 'string' },
        timeout: { type: 'string' },
        jobs: { type: 'string', default: String(os.cpus().length) },
        out: { type: 'string', default: path.join('reports', 'sweep') },
        resume: { type: 'boolean', default: false },
        summary: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const jobs = Number(values.jobs);
  if (!Number.isSafeInteger(jobs) || jobs < 1) throw new UsageError(`--jobs: expected an integer ≥ 1, got '${values.jobs}'`);
  let cellTimeLimitMs: number | undefined;
  try {
    cellTimeLimitMs = values['cell-time-limit'] === undefined ? undefined : cellTimeLimitFromText(values['cell-time-limit'], '--cell-time-limit');
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const checkFlags = (['runs', 'max-length', 'timeout'] as const).flatMap((flag) => (values[flag] === undefined ? [] : [`--${flag}`, values[flag]]));
  // check's own parser names the flag of a bad value.
  parseCliArguments(['check', ...checkFlags]);
  if (values.all && values.impl.length === 0 && values.command.length === 0) throw new UsageError('--all: expected with --impl or --command (without them every shipped implementation runs)');
  return {
    impl: values.impl.map((module) => path.resolve(module)),
    testeeCommands: values.command,
    all: values.all,
    seeds: parseSeeds(values.seeds),
    only: values.only,
    exclude: values.exclude,
    families: values.family,
    properties: values.property,
    ...(cellTimeLimitMs !== undefined && { cellTimeLimitMs }),
    checkFlags,
    jobs,
    out: path.resolve(values.out),
    resume: values.resume || values.summary,
    summary: values.summary,
    help: values.help,
  };
}

/** The implementations a sweep runs: the available ones (shipped, or given), narrowed by --only and --exclude (unknown names are usage errors). */
export function selectImplementations(available: readonly string[], only: readonly string[], exclude: readonly string[], kind = 'shipped'): string[] {
  for (const [flag, names] of [['--only', only], ['--exclude', exclude]] as const) {
    for (const name of names) {
      if (!available.includes(name)) throw new UsageError(`${flag}: no ${kind} implementation '${name}'; ${kind}: ${available.join(', ')}`);
    }
  }
  const selected = available.filter((name) => (only.length === 0 || only.includes(name)) && !exclude.includes(name));
  if (selected.length === 0) throw new UsageError('--only/--exclude: no implementation is left to run');
  return selected;
}

/** One failing cell of one run. */
export interface SweepFailure {
  readonly implementation: string;
  readonly seed: number;
  readonly family: string;
  readonly property: string;
  readonly outcome: string;
  readonly message: string;
  readonly replay?: string;
}

/** A passing cell of one run that made fewer cases than the run's runs per cell, and why. */
export interface SweepShortCell {
  readonly family: string;
  readonly property: string;
  readonly runs: number;
  readonly declined: number;
  /** Of settings.runs. */
  readonly target: number;
  /** 'time limit' when the search ran into the cell time limit; else 'declined cases' when some were declined; else 'ended early'. */
  readonly reason: 'time limit' | 'declined cases' | 'ended early';
}

/** One (implementation, seed) run of the sweep. */
export interface SweepRun {
  readonly implementation: string;
  readonly seed: number;
  readonly exitCode: number | null;
  readonly durationMs: number;
  /** The report's status of the implementation (ok, unavailable, …), or 'crashed' without a report. */
  readonly status: string;
  readonly cells: number;
  readonly failures: readonly SweepFailure[];
  /** Passing cells short of their cases (a cut cell is weaker evidence than a whole one); absent in runs of an older sweep script. */
  readonly short?: readonly SweepShortCell[];
  /** Why the run counts as failed beyond its cells (a crash, a missing report). */
  readonly error?: string;
  readonly log: string;
  /** The revision of the code it ran (runCodeRevision in suite/code-revision.ts). */
  readonly revision: string;
  /** The --family and --property filters it ran with. */
  readonly families: readonly string[];
  readonly properties: readonly string[];
  /** The cell time limit it ran with (ms; 0: none); absent in runs of an older sweep script, which ran with the default. */
  readonly cellTimeLimitMs?: number;
  /** The --runs, --max-length and --timeout flags it ran with; absent in runs of an older sweep script, which had none. */
  readonly checkFlags?: readonly string[];
  /**
   * The check process's peak resident set (bytes; Linux's VmHWM, polled at intervals of 0.1 to 5 s), what a
   * run needs of the machine's memory; a testee's processes are not counted. Absent where /proc does
   * not say, and in runs of an older sweep script.
   */
  readonly peakMemoryBytes?: number;
}

/** Whether a run is an unexpected failure: a non-zero exit, a crash or a failing cell. */
function runFailed(run: SweepRun): boolean {
  return run.exitCode !== 0 || run.failures.length > 0 || run.error !== undefined;
}

function runDirectory(out: string, implementation: string, seed: number): string {
  return path.join(out, 'runs', implementation.replace(/[^A-Za-z0-9._-]+/g, '_'), `seed-${seed}`);
}

/**
 * The check command line of one run. `--jobs 1`: the sweep's own --jobs already runs one child per
 * core, and check's default (a child per core each) would put cores² processes on the cores.
 */
export function checkArguments(
  args: Pick<SweepArguments, 'families' | 'properties' | 'cellTimeLimitMs'> & Partial<Pick<SweepArguments, 'impl' | 'testeeCommands' | 'all' | 'checkFlags'>>,
  implementation: string,
  seed: number,
  out: string,
): string[] {
  const argv = ['check'];
  for (const module of args.impl ?? []) argv.push('--impl', module);
  for (const command of args.testeeCommands ?? []) argv.push('--command', command);
  if (args.all === true) argv.push('--all');
  argv.push('--only', implementation, '--deep', '--no-fixtures', '--seed', String(seed), '--jobs', '1', '--out', out);
  for (const family of args.families) argv.push('--family', family);
  for (const property of args.properties) argv.push('--property', property);
  if (args.cellTimeLimitMs !== undefined) argv.push('--cell-time-limit', String(args.cellTimeLimitMs));
  argv.push(...(args.checkFlags ?? []));
  return argv;
}

/** Runs one deep check in a child process, reads its report and leaves run.json beside it. */
async function runOne(args: SweepArguments, implementation: string, seed: number, revision: string, children: Set<number>, progress: RunProgress): Promise<SweepRun> {
  const run = await executeRun(args, implementation, seed, revision, children, progress);
  await writeFileAtomically(path.join(runDirectory(args.out, implementation, seed), RUN_FILE), `${JSON.stringify(run, null, 2)}\n`);
  return run;
}

/** The file each run leaves in its folder: its SweepRun, which --resume reads back. */
const RUN_FILE = 'run.json';

/**
 * A finished run of an earlier sweep that this one may count instead of running it again: the same
 * implementation, seed, filters, cell time limit and code revision, and an ending with a report (a
 * crash or a run killed when a sweep was stopped runs again); undefined when there is none or it differs.
 */
export async function reusableRun(
  out: string,
  implementation: string,
  seed: number,
  filters: Pick<SweepArguments, 'families' | 'properties' | 'cellTimeLimitMs'> & Partial<Pick<SweepArguments, 'checkFlags'>>,
  revision: string,
): Promise<SweepRun | undefined> {
  let run: Partial<SweepRun>;
  try {
    run = JSON.parse(await readFile(path.join(runDirectory(out, implementation, seed), RUN_FILE), 'utf8')) as Partial<SweepRun>;
  } catch {
    return undefined;
  }
  const same = (a: readonly string[] | undefined, b: readonly string[]) => a !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);
  const matches =
    run.implementation === implementation &&
    run.seed === seed &&
    run.revision === revision &&
    same(run.families, filters.families) &&
    same(run.properties, filters.properties) &&
    (run.cellTimeLimitMs ?? DEFAULT_CELL_TIME_LIMIT_MS) === (filters.cellTimeLimitMs ?? DEFAULT_CELL_TIME_LIMIT_MS) &&
    same(run.checkFlags ?? [], filters.checkFlags ?? []) &&
    Array.isArray(run.failures) &&
    typeof run.durationMs === 'number' &&
    run.error === undefined &&
    typeof run.exitCode === 'number';
  if (!matches) return undefined;
  if (run.short !== undefined) return run as SweepRun;
  // A run of a sweep script before short cells were recorded: read them from its report.
  try {
    const report = JSON.parse(await readFile(path.join(runDirectory(out, implementation, seed), 'report.json'), 'utf8')) as ConformanceReport;
    return { ...(run as SweepRun), short: shortCells(report, implementation) };
  } catch {
    return run as SweepRun;
  }
}

/** The runs in flight and the last cell each has ended ([n/N] of check's progress lines), for the sweep's status line. */
type RunProgress = Map<string, { readonly implementation: string; readonly seed: number; cell?: { readonly ended: number; readonly of: number }; readonly peakMemory?: () => number | undefined }>;

/** The last `[n/N]` cell count among check's progress lines in `text`, if any. */
export function lastCellCount(text: string): { ended: number; of: number } | undefined {
  const counts = [...text.matchAll(/^\[(\d+)\/(\d+)\] /gm)];
  const last = counts.at(-1);
  return last === undefined ? undefined : { ended: Number(last[1]), of: Number(last[2]) };
}

/** The line the sweep prints while runs are in flight: each run with the cells it has ended. */
export function statusLine(progress: RunProgress, ended: number, total: number, elapsedMs: number): string {
  const runs = [...progress.values()].map((r) => {
    const peak = r.peakMemory?.();
    return `${r.implementation} seed ${r.seed}, ${r.cell === undefined ? 'starting' : `cell ${r.cell.ended} of ${r.cell.of}`}${peak === undefined ? '' : `, peak memory ${formatMemory(peak)}`}`;
  });
  return `… ${ended} of ${total} runs ended, ${seconds(elapsedMs)} elapsed; running: ${runs.join('; ')}\n`;
}

/** Runs one deep check in a child process and reads its report. */
async function executeRun(args: SweepArguments, implementation: string, seed: number, revision: string, children: Set<number>, progress: RunProgress): Promise<SweepRun> {
  const ran = { revision, families: args.families, properties: args.properties, cellTimeLimitMs: args.cellTimeLimitMs ?? DEFAULT_CELL_TIME_LIMIT_MS, checkFlags: args.checkFlags };
  const dir = runDirectory(args.out, implementation, seed);
  await mkdir(dir, { recursive: true });
  // An earlier sweep's reports in this folder must not be read as this run's if its check dies before writing its own.
  await Promise.all(['report.json', 'report.md', 'report.html'].map((file) => rm(path.join(dir, file), { force: true })));
  const log = path.join(dir, 'output.log');
  const cli = cliEntry();
  const argv = [...cli.execArgv, cli.module, ...checkArguments(args, implementation, seed, dir)];
  const started = performance.now();
  const logStream = createWriteStream(log);
  let memory: ReturnType<typeof watchPeakMemory> | undefined;
  const exitCode = await new Promise<number | null>((resolve) => {
    // In the folder the sweep was started from, where a testee command's relative paths point.
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    if (child.pid !== undefined) children.add(child.pid);
    memory = child.pid === undefined ? undefined : watchPeakMemory(child.pid);
    const key = `${seed} ${implementation}`;
    progress.set(key, { implementation, seed, ...(memory !== undefined && { peakMemory: memory.peak }) });
    // check prints its [n/N] cell lines on stderr; a chunk may end inside a line: count only whole lines.
    let partial = '';
    child.stderr.on('data', (chunk: Buffer) => {
      const text = partial + chunk.toString('utf8');
      const end = text.lastIndexOf('\n');
      partial = text.slice(end + 1);
      const cell = lastCellCount(text.slice(0, end + 1));
      const entry = progress.get(key);
      if (cell !== undefined && entry !== undefined) entry.cell = cell;
    });
    child.stdout.pipe(logStream, { end: false });
    child.stderr.pipe(logStream, { end: false });
    child.on('error', (error) => {
      logStream.write(`\nsweep: could not start the run: ${error.message}\n`);
      resolve(null);
    });
    child.on('exit', () => {
      // No poll after this: the pid is free for another process.
      void memory?.stop();
    });
    child.on('close', (code) => {
      if (child.pid !== undefined) children.delete(child.pid);
      progress.delete(key);
      resolve(code);
    });
  });
  await new Promise<void>((resolve) => logStream.end(resolve));
  const durationMs = performance.now() - started;
  await memory?.stop();
  const peak = memory?.peak();
  const measured = peak === undefined ? {} : { peakMemoryBytes: peak };
  let report: ConformanceReport;
  try {
    report = JSON.parse(await readFile(path.join(dir, 'report.json'), 'utf8')) as ConformanceReport;
  } catch (error) {
    return { implementation, seed, exitCode, durationMs, status: 'crashed', cells: 0, failures: [], error: `no report (exit code ${exitCode}): ${error instanceof Error ? error.message : String(error)}; see ${log}`, log, ...ran, ...measured };
  }
  const entry = report.implementations.find((i) => i.name === implementation);
  const failures: SweepFailure[] = [];
  for (const cell of entry?.cells ?? []) {
    if (!FAILING_OUTCOMES.includes(cell.outcome)) continue;
    failures.push({
      implementation,
      seed,
      family: cell.family,
      property: cell.property,
      outcome: cell.outcome,
      message: cell.counterexample?.message ?? cell.reason ?? '(no message)',
      ...(cell.counterexample?.replay && { replay: cell.counterexample.replay }),
    });
  }
  let error: string | undefined;
  if (entry === undefined) error = `the report has no entry for ${implementation}; see ${log}`;
  else if (exitCode !== 0 && failures.length === 0) {
    // Not a cell: check's own verdict says why (nothing was checked, say).
    const verdict = checkVerdict(await readFile(log, 'utf8').catch(() => ''));
    error = `exit code ${exitCode} without a failing cell (status ${entry.status})${verdict === undefined ? '' : `: ${verdict}`}; see ${log}`;
  }
  return { implementation, seed, exitCode, durationMs, status: entry?.status ?? 'missing', cells: entry?.cells.length ?? 0, failures, short: shortCells(report, implementation), ...(error && { error }), log, ...ran, ...measured };
}

/** The last verdict line check printed ("FAIL ❌ …" or "PASS ✅ …") in a run's output, if any. */
export function checkVerdict(output: string): string | undefined {
  return [...output.matchAll(/^(?:FAIL ❌|PASS ✅) .*$/gmu)].at(-1)?.[0];
}

/**
 * The passing generated-case cells of an implementation's report that made fewer than the run's
 * cases per cell: cut by the cell time limit (the report says so; a report of older code, which
 * does not, by the cell having run for about as long), or short because the implementation
 * declined cases and fast-check gave up skipping. Fixtures cells count fixtures, not cases.
 */
export function shortCells(report: ConformanceReport, implementation: string): SweepShortCell[] {
  const target = report.settings.runs;
  // Reports that record the cell time limit in their settings mark each cut cell; older ones do not.
  const recorded = (report.settings as Partial<ConformanceReport['settings']>).cellTimeLimitMs !== undefined;
  const cut = (c: CellResult) => (recorded ? c.cutAtTimeLimitMs !== undefined : c.durationMs >= 0.95 * DEFAULT_CELL_TIME_LIMIT_MS);
  const cells = report.implementations.find((i) => i.name === implementation)?.cells ?? [];
  return cells
    .filter((c) => c.outcome === 'pass' && c.property !== 'fixtures' && c.runs < target)
    .map((c) => ({
      family: c.family,
      property: c.property,
      runs: c.runs,
      declined: c.declined,
      target,
      reason: cut(c) ? 'time limit' : c.declined > 0 ? 'declined cases' : 'ended early',
    }));
}

/** How long the sweep stays silent while runs are in flight before it prints their progress. */
const STATUS_EVERY_MS = 60_000;

/** Runs the tasks with at most `jobs` in flight, reporting each as it ends. */
async function pool<T, R>(tasks: readonly T[], jobs: number, run: (task: T) => Promise<R>, done: (result: R, finished: number) => void): Promise<R[]> {
  const results: R[] = new Array(tasks.length);
  let next = 0;
  let finished = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await run(tasks[index]);
      done(results[index], ++finished);
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, tasks.length) }, worker));
  return results;
}

function seconds(ms: number): string {
  return ms >= 60_000 ? `${(ms / 60_000).toFixed(1)} min` : `${(ms / 1000).toFixed(1)} s`;
}

/** The Markdown summary of a sweep. */
export function sweepMarkdown(summary: SweepSummary): string {
  const failed = summary.runs.filter(runFailed);
  const total = summary.implementations.length * summary.seeds.length;
  const incomplete = summary.complete ? '' : `INCOMPLETE ⏸ ${summary.runs.length} of ${total} runs ended`;
  const verdict =
    failed.length > 0 ? `FAIL ❌ ${failed.length} of ${summary.runs.length} runs failed${incomplete ? ` · ${incomplete}` : ''}` : incomplete ? `${incomplete}, none failed so far` : 'PASS ✅ no unexpected failure';
  const reused = summary.reused > 0 ? ` (${summary.reused} runs reused from an earlier sweep on this revision)` : '';
  const lines = [
    '# Deep sweep',
    '',
    `**${verdict}** · ${summary.implementations.length} implementation(s) × seeds ${summary.seeds.join(', ')} · ${summary.jobs} jobs${summary.wallMs > 0 ? ` · wall ${seconds(summary.wallMs)}` : ''}${reused}`,
    '',
    `Each run: \`${summary.command}\` · ${summary.revision} (commit ${summary.commit})`,
    '',
    `| implementation | ${summary.seeds.map((s) => `seed ${s}`).join(' | ')} | mean per seed | peak memory |`,
    `| --- | ${summary.seeds.map(() => '---').join(' | ')} | ---: | ---: |`,
  ];
  for (const name of summary.implementations) {
    const runs = summary.runs.filter((r) => r.implementation === name);
    const cells = summary.seeds.map((seed) => {
      const run = runs.find((r) => r.seed === seed);
      if (run === undefined) return '';
      const mark = run.error !== undefined ? '💥' : runFailed(run) ? '❌' : run.status === 'ok' ? '✅' : `⚠️ ${run.status}`;
      return `${mark} ${seconds(run.durationMs)}`;
    });
    // No run yet: no mean (a 0.0 s would read as a run that took no time).
    const mean = runs.length === 0 ? '' : seconds(runs.reduce((s, r) => s + r.durationMs, 0) / runs.length);
    // The largest of the runs that measured it: what one run of this implementation needs (for --jobs).
    const peaks = runs.flatMap((r) => (r.peakMemoryBytes === undefined ? [] : [r.peakMemoryBytes]));
    const peak = peaks.length === 0 ? '' : formatMemory(Math.max(...peaks));
    lines.push(`| ${name} | ${cells.join(' | ')} | ${mean} | ${peak} |`);
  }
  const short = summary.runs.flatMap((run) => (run.short ?? []).map((cell) => ({ run, cell })));
  if (short.length > 0) {
    lines.push('', '## Passing cells short of their cases', '', `${short.length} passing cells made fewer cases than the ${short[0].cell.target} per cell of the deep mode: a weaker check than a whole cell.`, '');
    for (const { run, cell } of short) {
      const why = { 'time limit': `the ${seconds(run.cellTimeLimitMs ?? DEFAULT_CELL_TIME_LIMIT_MS)} cell time limit`, 'declined cases': `${cell.declined} declined cases`, 'ended early': 'ended before the time limit, none declined' }[cell.reason];
      lines.push(`- ${run.implementation}, seed ${run.seed}: ${cell.family} · ${cell.property}, ${cell.runs} of ${cell.target} cases (${why})`);
    }
  }
  if (failed.length > 0) {
    lines.push('', '## Failures', '');
    for (const run of failed) {
      if (run.error !== undefined) lines.push(`- **${run.implementation}**, seed ${run.seed}: ${run.error}`);
      for (const f of run.failures) {
        lines.push(`- **${f.implementation}** · ${f.family} · ${f.property}, seed ${f.seed}: ${f.outcome}`, '', '  ```text', ...f.message.split('\n').map((l) => `  ${l}`), ...(f.replay ? [`  replay: ${f.replay}`] : []), '  ```', '');
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

/** What sweep.json holds. */
export interface SweepSummary {
  readonly command: string;
  /** The revision of the code the runs execute (runCodeRevision), which --resume matches. */
  readonly revision: string;
  /** The checkout's commit when this invocation started (codeRevision). */
  readonly commit: string;
  readonly seeds: readonly number[];
  readonly implementations: readonly string[];
  readonly families: readonly string[];
  readonly properties: readonly string[];
  readonly jobs: number;
  /** Wall time of this invocation (runs reused from an earlier one not included). */
  readonly wallMs: number;
  /** Whether every (implementation, seed) run has ended; until then the summary is no verdict. */
  readonly complete: boolean;
  /** How many runs were reused from an earlier sweep (--resume). */
  readonly reused: number;
  readonly unexpectedFailures: number;
  readonly runs: readonly SweepRun[];
  readonly failures: readonly SweepFailure[];
}

/** Runs the sweep; returns the exit code. */
export async function sweep(argv: readonly string[], out: NodeJS.WritableStream = process.stdout, statusEveryMs = STATUS_EVERY_MS): Promise<number> {
  const args = parseSweepArguments(argv);
  if (args.help) {
    out.write(SWEEP_USAGE);
    return 0;
  }
  const given = args.impl.length > 0 || args.testeeCommands.length > 0;
  const available = given ? await implementationNamesOf({ impl: args.impl, testeeCommands: args.testeeCommands, all: args.all }) : (await discoverImplementations()).map((i) => i.name);
  const implementations = selectImplementations(available, args.only, args.exclude, given ? 'loaded' : 'shipped');
  // What --resume matches: the code a run executes, so that commits of tests or notes keep it.
  const revision = sweptRevision(args);
  const commit = codeRevision();
  // Seed-major: a sweep cut short has covered every implementation on the first seeds.
  const tasks = args.seeds.flatMap((seed) => implementations.map((implementation) => ({ implementation, seed })));
  const reused: SweepRun[] = [];
  const pending: typeof tasks = [];
  for (const task of tasks) {
    const run = args.resume ? await reusableRun(args.out, task.implementation, task.seed, args, revision) : undefined;
    if (run === undefined) pending.push(task);
    else reused.push(run);
  }
  const filters = [
    ...args.families.map((f) => `--family ${f}`),
    ...args.properties.map((p) => `--property ${p}`),
    ...(args.cellTimeLimitMs !== undefined ? [`--cell-time-limit ${args.cellTimeLimitMs}`] : []),
    ...args.checkFlags,
  ].join(' ');
  const sources = [...args.impl.map((m) => `--impl ${m}`), ...args.testeeCommands.map((c) => `--command ${JSON.stringify(c)}`), ...(args.all ? ['--all'] : [])].join(' ');
  const command = `scan-conformance check ${sources ? `${sources} ` : ''}--only <name> --deep --no-fixtures --seed <s> --jobs 1${filters ? ` ${filters}` : ''}`;
  const reuse = args.resume ? `, ${reused.length} reused from earlier runs on this revision` : '';
  if (!args.summary) out.write(`sweep: ${implementations.length} implementation(s) × ${args.seeds.length} seeds = ${tasks.length} deep runs${reuse}, ${pending.length} to run, ${args.jobs} at once; ${revision} (commit ${commit}); reports under ${args.out}\n`);

  const finished: SweepRun[] = [...reused];
  const started = performance.now();
  const position = new Map(tasks.map((t, i) => [`${t.seed} ${t.implementation}`, i]));
  const order = (run: SweepRun) => position.get(`${run.seed} ${run.implementation}`) ?? tasks.length;
  const summarize = (): SweepSummary => {
    const runs = [...finished].sort((a, b) => order(a) - order(b));
    return {
      command,
      revision,
      commit,
      seeds: args.seeds,
      implementations,
      families: args.families,
      properties: args.properties,
      jobs: args.jobs,
      wallMs: performance.now() - started,
      complete: finished.length === tasks.length,
      reused: reused.length,
      unexpectedFailures: runs.filter(runFailed).length,
      runs,
      failures: runs.flatMap((r) => r.failures),
    };
  };
  if (args.summary) {
    // No run and no file: only the Markdown of what is there (wall time is this invocation's, so none).
    const summary = { ...summarize(), wallMs: 0 };
    out.write(sweepMarkdown(summary));
    // Only a whole sweep that passed is a pass: one with runs still to go is no verdict yet.
    return summary.unexpectedFailures > 0 || !summary.complete ? 1 : 0;
  }
  // One write at a time, in order: the file on disk is always the newest whole summary.
  let writing = Promise.resolve();
  const save = (): Promise<void> => {
    const summary = summarize();
    writing = writing.then(() => writeSummary(args.out, summary));
    return writing;
  };
  await save();

  const children = new Set<number>();
  const stop = () => {
    for (const pid of children) process.kill(pid, 'SIGTERM');
    void writing.finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let failedSoFar = reused.filter(runFailed).length;
  const progress: RunProgress = new Map();
  // A deep run takes minutes: say what is in flight when nothing else was printed for a while.
  let lastPrinted = performance.now();
  const status = setInterval(() => {
    if (progress.size === 0 || performance.now() - lastPrinted < statusEveryMs) return;
    out.write(statusLine(progress, finished.length, tasks.length, performance.now() - started));
    lastPrinted = performance.now();
  }, Math.min(statusEveryMs, 10_000));
  status.unref();
  await pool(pending, args.jobs, (t) => runOne(args, t.implementation, t.seed, revision, children, progress), (run) => {
    lastPrinted = performance.now();
    finished.push(run);
    if (runFailed(run)) failedSoFar++;
    const verdict = run.error !== undefined ? `error: ${run.error}` : run.failures.length > 0 ? `FAIL (${run.failures.map((f) => `${f.family}·${f.property}`).join(', ')})` : run.exitCode === 0 ? `pass (${run.cells} cells, ${run.status})` : `exit ${run.exitCode}`;
    out.write(`[${finished.length}/${tasks.length}] ${run.implementation} seed ${run.seed}: ${verdict} in ${seconds(run.durationMs)} · ${failedSoFar} failed · ${seconds(performance.now() - started)} elapsed\n`);
    void save();
  });
  clearInterval(status);
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  await save();
  const summary = summarize();
  out.write(`${sweepMarkdown(summary).split('\n')[2]}\nsummary written to ${path.join(args.out, 'sweep.json')} and ${path.join(args.out, 'sweep.md')}\n`);
  return summary.unexpectedFailures === 0 ? 0 : 1;
}

/**
 * What --resume matches: runCodeRevision (the tool's code), and with --impl or --command a hash of
 * each module file's content and of each command's text (what they import or run is not read).
 */
export function sweptRevision(args: Pick<SweepArguments, 'impl' | 'testeeCommands' | 'all'>): string {
  const tool = runCodeRevision();
  if (args.impl.length === 0 && args.testeeCommands.length === 0) return tool;
  const hash = createHash('sha256');
  for (const module of args.impl) hash.update(`module ${module}\n`).update(readFileSync(module)).update('\n');
  for (const command of args.testeeCommands) hash.update(`command ${command}\n`);
  hash.update(`all ${args.all}\n`);
  return `${tool}, yours ${hash.digest('hex').slice(0, 16)}`;
}

/** Writes sweep.json and sweep.md, each atomically. */
async function writeSummary(out: string, summary: SweepSummary): Promise<void> {
  await writeFileAtomically(path.join(out, 'sweep.json'), `${JSON.stringify(summary, null, 2)}\n`);
  await writeFileAtomically(path.join(out, 'sweep.md'), sweepMarkdown(summary));
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = await sweep(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`sweep: ${error.message}\n${SWEEP_USAGE}`);
    process.exitCode = 2;
  }
}
