/**
 * Run settings from the environment: quick by default (the everyday `npm test`), deep on request
 * (SCAN_CONFORMANCE_DEEP=1, for nightly CI), with explicit overrides for runs and seed.
 */
import type { RunOptions } from './runner.ts';

/** Runs per cell and longest L of the quick and deep modes. */
export const MODES = {
  quick: { runs: 8, maxLength: 800 },
  deep: { runs: 200, maxLength: 4096 },
} as const;

/** Whether deep mode is requested by the environment. */
export function deepFromEnvironment(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.SCAN_CONFORMANCE_DEEP === '1' || env.SCAN_CONFORMANCE_DEEP === 'true';
}

/** Run options from SCAN_CONFORMANCE_DEEP, SCAN_CONFORMANCE_RUNS and SCAN_CONFORMANCE_SEED. */
export function runOptionsFromEnvironment(env: NodeJS.ProcessEnv = process.env): RunOptions {
  const mode = deepFromEnvironment(env) ? MODES.deep : MODES.quick;
  const runs = positiveInteger(env.SCAN_CONFORMANCE_RUNS, 'SCAN_CONFORMANCE_RUNS') ?? mode.runs;
  const seed = integer(env.SCAN_CONFORMANCE_SEED, 'SCAN_CONFORMANCE_SEED');
  return { runs, maxLength: mode.maxLength, ...(seed !== undefined && { seed }) };
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
