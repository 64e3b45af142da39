/**
 * The cell runner (suite/cell-runner.ts) on Node: replay commands give paths relative to the
 * current folder, and a failing case's counterexample file is written under the report folder.
 */
import type { ScanImplementation } from '../spec/implementation.ts';
import type { CellPlan } from './cells.ts';
import { runCellWith, runImplementationWith, type CellSlice, type RunHost, type RunOptions } from './cell-runner.ts';
import { counterexampleFile, writeCounterexampleFile } from './counterexample-file.ts';
import { NODE_REPLAY_PATHS } from './replay.ts';
import type { AccuracySample, CellResult, GradientSample, ImplementationReport } from './results.ts';

export { declarationOf, partSuffix, withTimeout, type CellSlice, type RunHost, type RunOptions } from './cell-runner.ts';

/** Node's RunHost: paths relative to the current folder, counterexample files under `<reportDir>/counterexamples/`. */
export const NODE_RUN_HOST: RunHost = {
  paths: NODE_REPLAY_PATHS,
  writeCounterexample: (reportDir, content, entry, timeoutMs, suffix) =>
    writeCounterexampleFile(counterexampleFile(reportDir, content.cell, suffix), content, entry, timeoutMs),
};

/** Runs every cell of one implementation and builds its report. */
export function runImplementation(implementation: ScanImplementation, options: RunOptions = {}): Promise<ImplementationReport> {
  return runImplementationWith(NODE_RUN_HOST, implementation, options);
}

/** Runs one cell: fixture replay, or a fast-check search for a counterexample. */
export function runCell(
  implementation: ScanImplementation,
  plan: CellPlan,
  options: RunOptions,
  samples: AccuracySample[],
  gradientSamples: GradientSample[] = [],
  part?: CellSlice['part'],
): Promise<CellResult> {
  return runCellWith(NODE_RUN_HOST, implementation, plan, options, samples, gradientSamples, part);
}
