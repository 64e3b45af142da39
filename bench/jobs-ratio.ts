/**
 * The wall time of the default conformance run (`scan-conformance check`, every registered
 * implementation) with --jobs 1 and with --jobs N, measured in one run so that the ratio compares
 * like with like on a shared machine; also whether the two reports say the same (cells, outcomes,
 * counterexamples: everything but times, dates and the machine).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { parseReportJson } from '../suite/report/json.ts';
import { isDeepStrictEqual } from 'node:util';

/** What measureJobsRatio found. */
export interface JobsRatio {
  readonly jobs: number;
  readonly serialSeconds: number;
  readonly parallelSeconds: number;
  /** serial / parallel wall time. */
  readonly ratio: number;
  /** Whether both reports hold the same cells and results. */
  readonly sameReport: boolean;
  readonly loadBefore: readonly number[];
  readonly command: string;
}

const CLI = fileURLToPath(new URL('../scripts/cli.ts', import.meta.url));
const LOADER = pathToFileURL(path.join(path.dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist', 'loader.mjs')).href;

/** Runs the CLI with `args`, returns its wall time in seconds and exit code. */
async function timed(args: readonly string[]): Promise<{ seconds: number; code: number | null }> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', LOADER, CLI, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { seconds: (performance.now() - started) / 1000, code };
}

/** A report's content without what differs between two runs of the same cells (times, date, machine, the --out folder). */
function content(text: string, out: string): unknown {
  // Counterexample files and replay commands name the run's own --out: the same place, for this comparison.
  return JSON.parse(JSON.stringify(parseReportJson(text.split(JSON.stringify(out).slice(1, -1)).join('<out>')), (key, value: unknown) => (key === 'durationMs' || key === 'createdAt' || key === 'machine' ? undefined : value)));
}

/**
 * Times `check --jobs 1` then `check --jobs <jobs> --timings <the first run's report.json>` (the
 * split balanced by the measured cell times, as a second --jobs run into the same --out is).
 */
export async function measureJobsRatio(jobs = 2, extra: readonly string[] = []): Promise<JobsRatio> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'scan-conformance-jobs-bench-'));
  const loadBefore = os.loadavg();
  const serialOut = path.join(dir, 'jobs-1');
  const parallelOut = path.join(dir, `jobs-${jobs}`);
  const serial = await timed(['check', ...extra, '--jobs', '1', '--out', serialOut]);
  const parallel = await timed(['check', ...extra, '--jobs', String(jobs), '--timings', path.join(serialOut, 'report.json'), '--out', parallelOut]);
  const [a, b] = await Promise.all([readFile(path.join(serialOut, 'report.json'), 'utf8'), readFile(path.join(parallelOut, 'report.json'), 'utf8')]);
  return {
    jobs,
    serialSeconds: serial.seconds,
    parallelSeconds: parallel.seconds,
    ratio: serial.seconds / parallel.seconds,
    sameReport: serial.code === parallel.code && isDeepStrictEqual(content(a, serialOut), content(b, parallelOut)),
    loadBefore,
    command: `scan-conformance check ${extra.join(' ')} --jobs 1, then --jobs ${jobs} --timings <the first's report.json>`.replace(/\s+/g, ' '),
  };
}

/** The measurement as Markdown lines. */
export function jobsRatioMarkdown(r: JobsRatio): string {
  return [
    `check --jobs ${r.jobs} against --jobs 1 (${r.command}):`,
    `--jobs 1 ${r.serialSeconds.toFixed(1)} s, --jobs ${r.jobs} ${r.parallelSeconds.toFixed(1)} s: ${r.ratio.toFixed(2)}× (reports ${r.sameReport ? 'identical in content' : 'DIFFER'}; load average before ${r.loadBefore.map((l) => l.toFixed(2)).join(', ')} on ${os.availableParallelism()} cores)`,
  ].join('\n');
}
