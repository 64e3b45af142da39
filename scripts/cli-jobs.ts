/**
 * `check --jobs N`: the run as N shards (suite/shard-plan.ts), each `check --shard i/N` in a child
 * process of its own, merged into the one report a single process writes (suite/shard-merge.ts).
 * Children send their progress over IPC to one display here. A child that crashes (no readable
 * shard report) loses nothing of the others: its cells become error cells naming it, its stderr's
 * end is printed, and the verdict fails.
 */
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { errorMessage } from '../suite/cells.ts';
import { parseReportJson } from '../suite/report/json.ts';
import { ShardMergeError, mergeShards, type ShardInput } from '../suite/shard-merge.ts';
import { EXIT, UsageError, type CheckArguments, type CliStreams } from './cli-arguments.ts';
import { JOBS_CHILD_ENV, applyRenames, finishCheck, progressDisplay, type ChildMessage } from './cli-commands.ts';

/** How much of a child's stderr is kept for the report of its crash. */
const STDERR_TAIL = 4000;

/** The flags given, without --jobs (the children get --shard instead). */
function withoutJobs(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--jobs') i++;
    else if (!argv[i].startsWith('--jobs=')) out.push(argv[i]);
  }
  return out;
}

/** The CLI's entry module beside this one (scripts/cli.ts from the source, dist/scripts/cli.js installed) and the node flags it needs. */
export function cliEntry(): { module: string; execArgv: string[] } {
  const here = fileURLToPath(import.meta.url);
  const module = path.join(path.dirname(here), `cli${path.extname(here)}`);
  // The source CLI runs through tsx's loader, resolved from this package (not from the folder the
  // user is in); the compiled one registers it itself before it imports a user's module.
  if (path.extname(here) !== '.ts') return { module, execArgv: [] };
  const loader = path.join(path.dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist', 'loader.mjs');
  return { module, execArgv: ['--import', pathToFileURL(loader).href] };
}

/** What became of one child. */
interface ChildOutcome {
  readonly index: number;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  readonly file: string;
}

/** Runs the check as `jobs` shards in child processes and merges them; returns the exit code. */
export async function checkWithJobs(args: CheckArguments, jobs: number, streams: CliStreams): Promise<number> {
  const temporary = await mkdtemp(path.join(os.tmpdir(), 'scan-conformance-jobs-'));
  try {
    // Balance by the last run's timings when its report is here (and readable), unless --timings names one.
    const previous = path.join(args.out, 'report.json');
    let timings: string[] = [];
    if (args.timings === undefined && existsSync(previous)) {
      try {
        if (Array.isArray(parseReportJson(await readFile(previous, 'utf8')).implementations)) timings = ['--timings', previous];
      } catch {
        // Not a report: balance by case sizes.
      }
    }
    const entry = cliEntry();
    const display = progressDisplay(streams.stderr, 0);
    const outcomes: Promise<ChildOutcome>[] = [];
    for (let index = 1; index <= jobs; index++) {
      const file = path.join(temporary, `shard-${index}-of-${jobs}.json`);
      const argv = ['check', ...withoutJobs(args.argv), ...timings, '--shard', `${index}/${jobs}`, '--shard-file', file];
      const child = fork(entry.module, argv, { execArgv: entry.execArgv, env: { ...process.env, [JOBS_CHILD_ENV]: '1' }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => void (stderr = (stderr + chunk.toString()).slice(-STDERR_TAIL)));
      child.stdout?.on('data', (chunk: Buffer) => void (stderr = (stderr + chunk.toString()).slice(-STDERR_TAIL)));
      child.on('message', (message: ChildMessage) => {
        if (message.kind === 'planned') display.addPlanned(message.cells);
        else display.onProgress(message);
      });
      outcomes.push(
        new Promise((resolve) => {
          child.on('error', (error) => void (stderr += `\n${errorMessage(error)}`));
          child.on('close', (code, signal) => resolve({ index, code, signal, stderr, file }));
        }),
      );
    }
    const done = await Promise.all(outcomes);
    display.stop();
    // A usage error (or an invalid implementation) is the same in every child: said once, as check says it.
    const usage = done.find((o) => o.code === EXIT.usage);
    if (usage !== undefined) {
      streams.stderr.write(usage.stderr.endsWith('\n') ? usage.stderr : `${usage.stderr}\n`);
      return EXIT.usage;
    }
    const inputs: ShardInput[] = [];
    const missing = new Map<number, string>();
    for (const o of done) {
      try {
        inputs.push({ file: o.file, report: parseReportJson(await readFile(o.file, 'utf8')) });
        if (o.code !== EXIT.ok && o.code !== EXIT.unexpectedFailure) throw new Error(`it wrote its report but exited with ${o.code ?? o.signal}`);
      } catch (error) {
        if (inputs.at(-1)?.file === o.file) inputs.pop();
        const how = o.signal !== null ? `was killed by ${o.signal}` : `exited with code ${o.code}`;
        const tail = o.stderr.trim().split('\n').slice(-8).join(' / ');
        missing.set(o.index, `shard ${o.index}/${jobs} (a child process of --jobs) ${how} without a report (${errorMessage(error)})${tail ? `; its stderr ended: ${tail}` : ''}`);
        streams.stderr.write(`scan-conformance: ${missing.get(o.index)}\n`);
      }
    }
    if (inputs.length === 0) {
      streams.stderr.write(`scan-conformance: no shard of --jobs ${jobs} reported; nothing to merge\n`);
      return EXIT.unexpectedFailure;
    }
    let merged;
    try {
      merged = mergeShards(inputs, { missing, canRename: existsSync });
    } catch (error) {
      if (!(error instanceof ShardMergeError)) throw error;
      // Children that loaded different things (a testee that started in one and not in another)
      // ran different runs: merge the largest group that agrees, the others' cells as not run.
      merged = mergeWhatAgrees(inputs, missing, error, jobs, streams);
      if (merged === undefined) throw new UsageError(`--jobs: the shards did not merge: ${error.message}`);
    }
    await applyRenames(merged.renames);
    return finishCheck(merged.report, args.out, streams);
  } finally {
    await rm(temporary, { recursive: true, force: true });
  }
}

/**
 * The merge of the largest group of shard reports that merge together (ties: the one with the most
 * implementations that ran), each shard left out reported missing with `why`; undefined when no
 * two shards' runs could be told apart from a shard given twice or another split.
 */
function mergeWhatAgrees(inputs: readonly ShardInput[], missing: Map<number, string>, why: ShardMergeError, jobs: number, streams: CliStreams): ReturnType<typeof mergeShards> | undefined {
  let best: { group: ShardInput[]; ran: number } | undefined;
  for (const anchor of inputs) {
    const group = [anchor];
    for (const other of inputs) {
      if (other === anchor) continue;
      try {
        mergeShards([...group, other], { missing: leftOut(inputs, [...group, other], missing, why) });
        group.push(other);
      } catch {
        // Another run: left out.
      }
    }
    const ran = group.reduce((n, g) => n + g.report.implementations.filter((i) => i.status === 'ok').length, 0);
    if (best === undefined || group.length > best.group.length || (group.length === best.group.length && ran > best.ran)) best = { group, ran };
  }
  if (best === undefined) return undefined;
  const reasons = leftOut(inputs, best.group, missing, why);
  try {
    const merged = mergeShards(best.group, { missing: reasons, canRename: existsSync });
    for (const [index, reason] of reasons) if (!missing.has(index)) streams.stderr.write(`scan-conformance: shard ${index}/${jobs} (a child process of --jobs) left out: ${reason}\n`);
    return merged;
  } catch {
    return undefined;
  }
}

/** The missing-shard reasons when only `group` is merged: the shards without a report, and those of another run. */
function leftOut(inputs: readonly ShardInput[], group: readonly ShardInput[], missing: ReadonlyMap<number, string>, why: ShardMergeError): Map<number, string> {
  const reasons = new Map(missing);
  for (const input of inputs) {
    const index = input.report.shard?.index;
    if (index !== undefined && !group.includes(input)) reasons.set(index, `its run differs from the other shards' (${why.message})`);
  }
  return reasons;
}
