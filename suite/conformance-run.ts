/**
 * A whole conformance run on Node (suite/conformance.ts bound to Node): the machine's facts from
 * node:os, the version from package.json, counterexample files and replay paths of NODE_RUN_HOST,
 * and deep mode and requireAvailable defaulting to the environment.
 */
import os from 'node:os';
import type { ConformanceReport, ImplementationReport, RunSettings } from './results.ts';
import { NODE_RUN_HOST } from './runner.ts';
import { assembleReportWith, runConformanceWith, type ConformanceHost, type ConformanceOptions } from './conformance.ts';
import { deepFromEnvironment, requireAvailableFromEnvironment } from './settings.ts';
import { toolVersion } from './tool-version.ts';

export {
  OUTCOMES,
  crashedReport,
  implementationFails,
  plannedCellCount,
  summarise,
  whyNothingWasChecked,
  type ConformanceOptions,
  type ConformanceProgress,
} from './conformance.ts';

/** Facts about the machine a report came from. */
export function machineFacts(): Record<string, string> {
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: `${process.platform} ${os.release()}`,
    arch: process.arch,
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cpus: String(cpus.length),
    availableParallelism: String(os.availableParallelism()),
    memoryGiB: (os.totalmem() / 1024 ** 3).toFixed(1),
  };
}

/** Node's ConformanceHost. */
export const NODE_CONFORMANCE_HOST: ConformanceHost = {
  run: NODE_RUN_HOST,
  get toolVersion() {
    return toolVersion();
  },
  machine: machineFacts,
};

/** Runs every implementation in turn and builds the report; a failing or crashing implementation never stops the others. */
export function runConformance(options: ConformanceOptions): Promise<ConformanceReport> {
  return runConformanceWith(NODE_CONFORMANCE_HOST, {
    ...options,
    deep: options.deep ?? deepFromEnvironment(),
    requireAvailable: options.requireAvailable ?? requireAvailableFromEnvironment(),
  });
}

/** Builds the report around implementation reports (also used by the vitest reporter). */
export function assembleReport(implementations: readonly ImplementationReport[], settings: RunSettings, requireAvailable: boolean): ConformanceReport {
  return assembleReportWith(NODE_CONFORMANCE_HOST, implementations, settings, requireAvailable);
}
