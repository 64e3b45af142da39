/**
 * The suite's defaults, in one place: runs, seed and lengths of the quick mode (the everyday
 * `npm test`) and the deep mode (SCAN_CONFORMANCE_DEEP=1, for nightly CI), time limits, the report
 * folder and the environment variables that override them. Everything else (the runner, the CLI
 * and its --help, describeConformance, the vitest reporter, the benchmark) reads them from here.
 */
import type { RunOptions } from './runner.ts';

/**
 * Runs per cell and longest generated L of the quick and deep modes, and the longest committed
 * fixture a quick test run replays (`npm test`; undefined: every fixture, as `npm run conformance`).
 */
export const MODES = {
  quick: { runs: 8, maxLength: 800, fixtureMaxLength: 4096 },
  deep: { runs: 200, maxLength: 4096, fixtureMaxLength: undefined },
} as const;

/** fast-check seed of every cell when none is given, so that two runs are the same run. */
export const DEFAULT_SEED = 42;

/**
 * Time limit of one run or step call: above a process testee's own request timeout
 * (DEFAULT_REQUEST_TIMEOUT_MS in protocol/process-implementation.ts), so that the testee's
 * timeout, which restarts it cleanly, fires first.
 */
export const DEFAULT_RUN_TIMEOUT_MS = 90_000;

/**
 * Time limit of one cell's property search; a cell cut by it reports the runs it made, and the
 * report lists it. A deep run on a slow or busy machine may want more (--cell-time-limit; 0: none).
 */
export const DEFAULT_CELL_TIME_LIMIT_MS = 120_000;

/** Where the CLI and the benchmark write their reports. */
export const DEFAULT_REPORT_DIR = 'reports';

/** Where the vitest reporter writes its reports. */
export const DEFAULT_VITEST_REPORT_DIR = `${DEFAULT_REPORT_DIR}/vitest`;

/** The environment variables the suite reads. */
export const ENVIRONMENT = {
  /** '1' or 'true': deep mode. */
  deep: 'SCAN_CONFORMANCE_DEEP',
  /** Runs per cell, over the mode's. */
  runs: 'SCAN_CONFORMANCE_RUNS',
  /** The fast-check seed, over DEFAULT_SEED. */
  seed: 'SCAN_CONFORMANCE_SEED',
  /** '1': an implementation that cannot run on this machine fails the run instead of being skipped. */
  requireAvailable: 'SCAN_CONFORMANCE_REQUIRE_AVAILABLE',
  /** '1': as requireAvailable (CI sets it where a WebGPU adapter must exist). */
  requireWebgpu: 'REQUIRE_WEBGPU',
  /** A file the CLI appends report.md to (GitHub Actions sets it for each step). */
  stepSummary: 'GITHUB_STEP_SUMMARY',
  /** The cell time limit in ms (0: none), over DEFAULT_CELL_TIME_LIMIT_MS. */
  cellTimeLimit: 'SCAN_CONFORMANCE_CELL_TIME_LIMIT',
  /** check's --jobs when the flag is absent, over the number of cores. */
  jobs: 'SCAN_CONFORMANCE_JOBS',
} as const;

/**
 * check's child processes when --jobs is absent: $SCAN_CONFORMANCE_JOBS, else `cores` (the CLI
 * passes os.availableParallelism; this module takes no node: import, the browser page reads it too).
 */
export function defaultJobs(cores: number, env: NodeJS.ProcessEnv = process.env): number {
  return positiveInteger(env[ENVIRONMENT.jobs], ENVIRONMENT.jobs) ?? cores;
}

/** Whether deep mode is requested by the environment. */
export function deepFromEnvironment(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[ENVIRONMENT.deep] === '1' || env[ENVIRONMENT.deep] === 'true';
}

/** Whether the environment asks that unavailable implementations fail the run. */
export function requireAvailableFromEnvironment(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[ENVIRONMENT.requireWebgpu] === '1' || env[ENVIRONMENT.requireAvailable] === '1';
}

/** Run options from the environment: the mode's runs and longest L, with the runs, seed and cell time limit overrides. */
export function runOptionsFromEnvironment(env: NodeJS.ProcessEnv = process.env): RunOptions {
  const mode = deepFromEnvironment(env) ? MODES.deep : MODES.quick;
  const runs = positiveInteger(env[ENVIRONMENT.runs], ENVIRONMENT.runs) ?? mode.runs;
  const seed = integer(env[ENVIRONMENT.seed], ENVIRONMENT.seed);
  const limitText = env[ENVIRONMENT.cellTimeLimit];
  const cellTimeLimitMs = limitText === undefined || limitText === '' ? undefined : cellTimeLimitFromText(limitText, ENVIRONMENT.cellTimeLimit);
  return { runs, maxLength: mode.maxLength, ...(seed !== undefined && { seed }), ...(cellTimeLimitMs !== undefined && { cellTimeLimitMs }) };
}

/** A cell time limit as written (the environment variable, the sweep's flag): ms, 0 for none; a RangeError naming `name` otherwise. */
export function cellTimeLimitFromText(text: string, name: string): number {
  const ms = Number(text);
  if (text.trim() === '' || !Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`${name}: expected a time in ms, 0 for none, got '${text}'`);
  return ms;
}

/** The cell time limit a run uses: the option's, else DEFAULT_CELL_TIME_LIMIT_MS; 0 means none. */
export function cellTimeLimitOf(options: Pick<RunOptions, 'cellTimeLimitMs'>): number {
  return options.cellTimeLimitMs ?? DEFAULT_CELL_TIME_LIMIT_MS;
}

function integer(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`${name}: expected an integer, got '${value}'`);
  return n;
}

function positiveInteger(value: string | undefined, name: string): number | undefined {
  const n = integer(value, name);
  if (n !== undefined && n < 1) throw new RangeError(`${name}: expected a positive integer, got '${value}'`);
  return n;
}
