/** The benchmark end to end: discover, run every implementation and the baselines, write the reports. */
import os from 'node:os';
import path from 'node:path';
import { baselineTimingsOf } from './baseline-names.ts';
import type { BenchCase } from './cases.ts';
import { crossoverCases, QUICK_CASES, STANDARD_CASES } from './cases.ts';
import type { ChildLimits, ImplementationRun, RegisteredImplementation } from './orchestrate.ts';
import { progressBar, registeredImplementations, runCases } from './orchestrate.ts';
import type { BenchReport } from './report.ts';
import { buildReport, RATIO_BASE, reportMarkdown } from './report.ts';
import { writeFileAtomically } from '../suite/report/write.ts';

/** Options of a benchmark run (scripts/bench.ts parses them from the command line). */
export interface BenchOptions {
  /** Directory of bench.json and bench.md. */
  readonly outDir: string;
  /** Only implementations whose name contains this (sequential-f32 always runs: the ratios need it). */
  readonly filter: string | undefined;
  /** Tiny shapes and short sampling: the harness end to end in seconds. */
  readonly quick: boolean;
  /** Also run the lti-ssm crossover grid. */
  readonly crossover: boolean;
  /** Per-process limits; defaults depend on quick. */
  readonly limits?: ChildLimits;
  /** Where implementations are discovered (default: the package's implementations/). */
  readonly implementationsDir?: string;
  /** Show a progress bar on stderr (default true). */
  readonly showProgress?: boolean;
  /** Print the Markdown table to stdout. */
  readonly print: boolean;
  /** The command line, recorded in the report. */
  readonly command: string;
  /** Where a full run (neither quick nor filtered) also writes its Markdown tables, to commit (npm run bench: bench/latest.md). */
  readonly recordFile?: string;
}

/**
 * Default limits: a case is cut off after 20 s, and one whose single run is predicted to exceed 5 s
 * (a warm-up and three samples would not fit) is not started; the whole run then stays near ten
 * minutes even with a dozen implementations, some of them slow (tfjs-cpu, a software GPU).
 */
export function defaultLimits(quick: boolean): ChildLimits {
  return { caseTimeoutMs: 20_000, setupTimeoutMs: 60_000, exitTimeoutMs: 10_000, maxRunMs: quick ? 20_000 : 5_000 };
}

/**
 * Limits of the baselines' child. reference() on the full ssd-mamba2-130m case is one timed call of
 * 40–120 s here (3.4–10 M state-steps/s on the shared 2 cores, bench/reference-ssd-cost.ts): a case
 * may take 300 s, and a call predicted past 200 s is not started.
 */
export function baselineLimits(limits: ChildLimits): ChildLimits {
  return { ...limits, caseTimeoutMs: Math.max(limits.caseTimeoutMs, 300_000), maxRunMs: Math.max(limits.maxRunMs, 200_000) };
}

/** The cases the baselines time: the one-channel linear recurrence (plain loop and reference()) and the ssd cases (reference()). */
export function baselineCasesOf(standard: readonly BenchCase[]): BenchCase[] {
  return standard.filter((c) => !c.backward && ((c.family === 'linear-recurrence' && c.batch * c.dim === 1) || c.family === 'ssd'));
}

/** A bench command line that selects nothing: the message names the flag, what it expected and what came. */
export class BenchUsageError extends Error {
  override readonly name = 'BenchUsageError';
}

/** Runs the benchmark and writes `bench.json` and `bench.md` into options.outDir. */
export async function runBenchmark(options: BenchOptions): Promise<BenchReport> {
  const loadAtStart = os.loadavg();
  const limits = options.limits ?? defaultLimits(options.quick);
  const { implementations, failures } = await registeredImplementations(options.implementationsDir);
  const filter = options.filter;
  // A filter that selects nothing would time the ratio base alone and report every target "not measured".
  if (filter !== undefined && !implementations.some((i) => i.name.includes(filter))) {
    throw new BenchUsageError(`--filter ${filter}: expected part of an implementation's name, got one no name contains (names: ${implementations.map((i) => i.name).join(', ')})`);
  }
  const selected = implementations.filter((i) => filter === undefined || i.name.includes(filter) || i.name === RATIO_BASE);
  const standard = options.quick ? QUICK_CASES : STANDARD_CASES;
  const crossover = options.crossover ? crossoverCases(options.quick) : [];
  // The crossover grid is for lti-ssm implementations only; every one gets every standard case
  // (an undeclared family is reported as such, not hidden).
  const casesOf = (i: RegisteredImplementation): BenchCase[] => [...standard, ...(i.families.includes('lti-ssm') ? crossover : [])];
  const baselineCases = baselineCasesOf(standard);
  const total = selected.reduce((n, i) => n + casesOf(i).length, 0) + baselineCases.reduce((n, c) => n + baselineTimingsOf(c.family), 0);
  const progress = options.showProgress === false ? { tick: () => {}, stop: () => {} } : progressBar(total);

  const runs: ImplementationRun[] = [];
  for (const registered of selected) {
    const { name, precision, description } = registered;
    const run: ImplementationRun = { name, precision, description, status: 'ran', environment: {}, peakRssMiB: undefined, idleRssMiB: undefined, outcomes: {}, notes: [] };
    runs.push(run);
    const cases = casesOf(registered);
    await runCases(['--module', registered.modulePath, '--impl', registered.name, ...(options.quick ? ['--quick'] : [])], cases, run, limits, (id) =>
      progress.tick(`${registered.name} ${id}`),
    );
  }
  let baselineRun: ImplementationRun | undefined;
  if (baselineCases.length > 0) {
    baselineRun = { name: 'baselines', precision: 'float64', description: '', status: 'ran', environment: {}, peakRssMiB: undefined, idleRssMiB: undefined, outcomes: {}, notes: [] };
    await runCases(['--baseline', ...(options.quick ? ['--quick'] : [])], baselineCases, baselineRun, baselineLimits(limits), (id) => progress.tick(`baselines ${id}`));
  }
  progress.stop();

  const report = buildReport([...standard, ...crossover], runs, baselineRun, failures, options.command, loadAtStart);
  const markdown = reportMarkdown(report);
  await writeFileAtomically(path.join(options.outDir, 'bench.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFileAtomically(path.join(options.outDir, 'bench.md'), markdown);
  // A full run's tables are kept in bench/ too, to commit: the latest measurement the docs point to.
  if (options.recordFile !== undefined && !options.quick && options.filter === undefined) await writeFileAtomically(options.recordFile, markdown);
  if (options.print) process.stdout.write(markdown);
  return report;
}
