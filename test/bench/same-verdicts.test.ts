/** bench/same-verdicts.ts: two reports of one run say the same; a changed verdict, number or cell is named. */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verdictDifferences } from '../../bench/same-verdicts.ts';
import { createSequential } from '../../implementations/sequential/sequential.ts';
import { assembleReport } from '../../suite/conformance-run.ts';
import type { ConformanceReport } from '../../suite/results.ts';
import { runImplementation } from '../../suite/runner.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('same-verdicts', () => {
  let report: ConformanceReport;
  let dir: string;
  beforeAll(async () => {
    const settings = { runs: 3, maxLength: 16, families: ['linear-recurrence'] as const, properties: ['conformance', 'vjp', 'scaling'] as const };
    const run = await runImplementation(createSequential('float32'), settings);
    report = assembleReport([run], { runs: 3, cellTimeLimitMs: 120_000, seed: 0, deep: false, families: ['linear-recurrence'], properties: ['conformance', 'vjp', 'scaling'], fixtures: false }, false);
    dir = await mkdtemp(path.join(os.tmpdir(), 'same-verdicts-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('finds none between a report and its copy', () => {
    expect(verdictDifferences(report, structuredClone(report))).toEqual([]);
  });

  it('names a changed outcome, a changed bound usage, a changed gradient number and a missing implementation', () => {
    const changed = structuredClone(report);
    const implementation = changed.implementations[0] as unknown as { cells: { outcome: string }[]; accuracy: { maxBoundUsage: number }[]; gradientAccuracy: { maxE: number }[] };
    implementation.cells[0].outcome = 'fail';
    implementation.accuracy[1].maxBoundUsage += 1e-9;
    implementation.gradientAccuracy[0].maxE *= 2;
    const lines = verdictDifferences(report, changed);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^sequential-f32 · linear-recurrence · conformance: outcome pass → fail$/);
    expect(lines[1]).toMatch(/^sequential-f32 accuracy linear-recurrence L[^ ]*: maxBoundUsage [\d.e-]+ → [\d.e-]+$/);
    expect(lines[2]).toMatch(/^sequential-f32 gradient accuracy linear-recurrence [a-z0-9]+: maxE [\d.e-]+ → [\d.e-]+$/);
    expect(verdictDifferences(report, { ...report, implementations: [] })).toEqual(['implementation sequential-f32: only in the first report']);
  });

  it('exits 0 for the same reports and 1, listing them, for different ones', async () => {
    const [same, other] = [path.join(dir, 'a.json'), path.join(dir, 'b.json')];
    await writeFile(same, JSON.stringify(report));
    await writeFile(other, JSON.stringify({ ...report, implementations: [{ ...report.implementations[0], cells: report.implementations[0].cells.slice(1) }] }));
    const run = (b: string) => spawnSync(process.execPath, ['--import', 'tsx', 'bench/same-verdicts.ts', same, b], { cwd: ROOT, encoding: 'utf8' });
    const equal = run(same);
    expect(equal.status).toBe(0);
    expect(equal.stdout).toMatch(/^same: 1 implementations, \d+ cells, \d+ accuracy rows compared\n$/);
    const different = run(other);
    expect(different.status).toBe(1);
    expect(different.stdout).toMatch(/: only in the first report\n1 differences: /);
    const usage = spawnSync(process.execPath, ['--import', 'tsx', 'bench/same-verdicts.ts', same], { cwd: ROOT, encoding: 'utf8' });
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('usage: npx tsx bench/same-verdicts.ts <before/report.json> <after/report.json>');
  });
});
