/**
 * runConformance: every implementation runs in turn; a crashing one (setup throws, run throws,
 * dispose throws) is reported and the others go on; the summary counts unexpected failures as the
 * exit code needs them (unavailable only when required). And the vitest reporter's report from
 * test meta has the same numbers as the direct run.
 */
import { describe, expect, it } from 'vitest';
import sequential from '../../implementations/sequential/index.ts';
import { ImplementationUnavailableError, type ScanImplementation } from '../../spec/implementation.ts';
import { planCells } from '../../suite/cells.ts';
import { runConformance, summarise } from '../../suite/conformance-run.ts';
import type { AccuracySample, GradientSample } from '../../suite/results.ts';
import { runCell, runImplementation, type RunOptions } from '../../suite/runner.ts';
import { reportFromTestRecords, type ConformanceTestRecord } from '../../suite/vitest-reporter.ts';
import { correctPrefixSum } from '../cli/modules/prefix-sums.ts';

const sequentialF32 = (sequential as ScanImplementation[]).find((i) => i.name === 'sequential-f32') as ScanImplementation;
const OPTIONS: RunOptions = { runs: 3, families: ['prefix-sum'], properties: ['conformance', 'zero-input'], maxLength: 64 };

const setupThrows: ScanImplementation = { ...correctPrefixSum, name: 'test/setup-throws', setup: async () => Promise.reject(new Error('no device here')) };
const unavailable: ScanImplementation = {
  ...correctPrefixSum,
  name: 'test/unavailable',
  setup: async () => Promise.reject(new ImplementationUnavailableError('no WebGPU adapter')),
};
const runThrows: ScanImplementation = {
  name: 'test/run-throws',
  precision: 'float32',
  families: { 'prefix-sum': { run: async () => Promise.reject(new Error('kernel exploded')) } },
};
const disposeThrows: ScanImplementation = { ...correctPrefixSum, name: 'test/dispose-throws', dispose: async () => Promise.reject(new Error('leaked')) };

describe('runConformance', () => {
  it('reports crashing implementations and runs the others', async () => {
    const heard: string[] = [];
    const report = await runConformance({
      implementations: [setupThrows, runThrows, unavailable, disposeThrows, correctPrefixSum],
      runOptions: OPTIONS,
      requireAvailable: false,
      onProgress: (e) => heard.push(e.kind === 'cell' ? `cell ${e.cell.implementation}` : `${e.kind} ${e.kind === 'implementation-end' ? e.report.name : e.implementation}`),
    });
    const byName = new Map(report.implementations.map((i) => [i.name, i]));
    expect(byName.get('test/setup-throws')).toMatchObject({ status: 'crashed', statusReason: 'setup threw: no device here', cells: [] });
    expect(byName.get('test/unavailable')).toMatchObject({ status: 'unavailable', statusReason: 'no WebGPU adapter' });
    const thrown = byName.get('test/run-throws')?.cells.find((c) => c.property === 'conformance');
    expect(thrown?.outcome).toBe('fail');
    expect(thrown?.counterexample?.message).toMatch(/the implementation threw: Error: kernel exploded/);
    expect(byName.get('test/dispose-throws')).toMatchObject({ status: 'crashed', statusReason: 'dispose threw: leaked' });
    expect(byName.get('test/correct-prefix-sum')?.cells.map((c) => c.outcome)).toEqual(['pass', 'pass']);
    // setup-throws 1 + run-throws' failing cells + dispose-throws 1; unavailable is not a failure here.
    const failingCells = byName.get('test/run-throws')?.cells.filter((c) => c.outcome === 'fail').length ?? 0;
    expect(failingCells).toBeGreaterThan(0);
    expect(report.summary.unexpectedFailures).toBe(2 + failingCells);
    expect(summarise(report.implementations, true).unexpectedFailures).toBe(3 + failingCells);
    expect(heard[0]).toBe('implementation-start test/setup-throws');
    expect(heard.at(-1)).toBe('implementation-end test/correct-prefix-sum');
    expect(heard.filter((h) => h === 'cell test/correct-prefix-sum')).toHaveLength(2);
  });
});

describe('the vitest reporter', () => {
  it('builds, from per-test records, the same accuracy numbers as a direct run', async () => {
    const direct = await runImplementation(sequentialF32, OPTIONS);
    const records: ConformanceTestRecord[] = [];
    for (const property of OPTIONS.properties ?? []) {
      for (const plan of planCells(sequentialF32, 'prefix-sum', property)) {
        const samples: AccuracySample[] = [];
        const cell = await runCell(sequentialF32, plan, OPTIONS, samples);
        records.push({ cell, samples, facts: { name: sequentialF32.name, precision: 'float32', errorModels: { 'prefix-sum': 'componentwise' }, environment: {} } });
      }
    }
    const report = reportFromTestRecords(records);
    const implementation = report?.implementations[0];
    expect(implementation?.name).toBe('sequential-f32');
    expect(implementation?.cells.map((c) => [c.property, c.outcome, c.runs])).toEqual(direct.cells.map((c) => [c.property, c.outcome, c.runs]));
    expect(implementation?.accuracy).toEqual(direct.accuracy);
    expect(implementation?.growth).toEqual(direct.growth);
    expect(implementation?.eHistogram).toEqual(direct.eHistogram);
    expect(report?.summary.unexpectedFailures).toBe(0);
  });

  it('builds the gradient accuracy table from the vjp cells as a direct run does', async () => {
    const options = { runs: 3, maxLength: 16, families: ['linear-recurrence' as const], properties: ['vjp' as const], fixtures: undefined };
    const direct = await runImplementation(sequentialF32, options);
    const records: ConformanceTestRecord[] = [];
    for (const plan of planCells(sequentialF32, 'linear-recurrence', 'vjp')) {
      const samples: AccuracySample[] = [];
      const gradientSamples: GradientSample[] = [];
      const cell = await runCell(sequentialF32, plan, options, samples, gradientSamples);
      records.push({ cell, samples, gradientSamples, facts: { name: sequentialF32.name, precision: 'float32', errorModels: { 'linear-recurrence': 'componentwise' }, environment: {} } });
    }
    const implementation = reportFromTestRecords(records)?.implementations[0];
    expect(direct.gradientAccuracy?.length).toBeGreaterThan(0);
    expect(implementation?.gradientAccuracy).toEqual(direct.gradientAccuracy);
  });

  it('writes nothing for a run without conformance tests', () => {
    expect(reportFromTestRecords([])).toBeUndefined();
  });
});
