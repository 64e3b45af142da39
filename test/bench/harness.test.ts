/**
 * The benchmark harness end to end in --quick mode: on the real registry (filtered), and on
 * fixture implementations that throw, are unavailable, hang, decline or run on a software adapter.
 */
import { SCANNED_FAMILIES } from '../../implementations/parallel-scan/job.ts';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { BenchReport } from '../../bench/report.ts';
import { labelsOf } from '../../bench/report.ts';
import { runBenchmark } from '../../bench/run.ts';

const FIXTURES = fileURLToPath(new URL('./fixtures/implementations/', import.meta.url));
const outDirs: string[] = [];

async function outDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-test-'));
  outDirs.push(dir);
  return dir;
}

afterAll(async () => {
  for (const dir of outDirs) await rm(dir, { recursive: true, force: true });
});

describe('bench harness (--quick)', () => {
  it.concurrent('runs registered implementations, the ratio base and the baselines, and writes bench.json and bench.md', async () => {
    const dir = await outDir();
    const report = await runBenchmark({ outDir: dir, filter: 'parallel-scan/chunked-f32', quick: true, crossover: true, print: false, showProgress: false, command: 'test' });
    expect(report.implementations.map((i) => i.name)).toEqual(['parallel-scan/chunked-f32', 'sequential-f32']);
    const chunked = report.implementations[0];
    for (const c of report.cases) {
      const result = chunked.results[c.id];
      // The parallel scans compute every family but ssd, a chunked matrix algorithm of its own.
      if (!(SCANNED_FAMILIES as readonly string[]).includes(c.family)) {
        expect(result?.outcome.status, c.id).toBe('not-declared');
        continue;
      }
      expect(result?.outcome.status, c.id).toBe('ok');
      expect(result?.elementsPerSecond).toBeGreaterThan(0);
      expect(result?.ratioToSequentialF32).toBeGreaterThan(0);
    }
    expect(report.cases.some((c) => c.crossover)).toBe(true);
    expect(chunked.peakRssMiB).toBeGreaterThan(chunked.idleRssMiB ?? Infinity);
    expect(report.baselines.referenceToPlain).toBeGreaterThan(0);
    expect(report.baselines.sequentialF64ToPlain).toBeUndefined(); // sequential-f64 was filtered out
    const written = JSON.parse(await readFile(path.join(dir, 'bench.json'), 'utf8')) as BenchReport;
    expect(written.implementations.length).toBe(2);
    const markdown = await readFile(path.join(dir, 'bench.md'), 'utf8');
    expect(markdown).toContain('| parallel-scan/chunked-f32 |');
    expect(markdown).toContain('## lti-ssm crossover');
    expect((await readdir(dir)).sort()).toEqual(['bench.json', 'bench.md']); // no temp files left
  });

  it.concurrent('survives implementations that throw, are unavailable, hang or decline, and labels software adapters', async () => {
    const dir = await outDir();
    const report = await runBenchmark({
      outDir: dir,
      filter: undefined,
      quick: true,
      crossover: false,
      print: false,
      showProgress: false,
      command: 'test',
      implementationsDir: FIXTURES,
      limits: { caseTimeoutMs: 4000, setupTimeoutMs: 30_000, exitTimeoutMs: 5000, maxRunMs: 20_000 },
    });
    const byName = new Map(report.implementations.map((i) => [i.name, i]));
    const ps = 'ps-2^22';
    const standIn = byName.get('sequential-f32')!;
    expect(standIn.labels).toEqual(['CPU emulation']);
    expect(standIn.results[ps].outcome.status).toBe('ok');
    expect(standIn.results[ps].ratioToSequentialF32).toBe(1);
    expect(standIn.results['lr-1x1x2^20'].outcome).toEqual({ status: 'declined', reason: 'the stand-in computes prefix sums only' });
    expect(standIn.results['lti-64x64x2^16'].outcome.status).toBe('not-declared');
    expect(byName.get('fixture-throws')!.results[ps].outcome).toMatchObject({ status: 'error', reason: 'Error: kernel exploded' });
    expect(byName.get('fixture-unavailable')!.status).toBe('unavailable: ImplementationUnavailableError: no adapter on this machine');
    const hangs = byName.get('fixture-hangs')!;
    expect(hangs.results[ps].outcome.status).toBe('timeout');
    // The process was restarted after the cut-off and finished the cases after it.
    expect(hangs.results['lti-64x64x2^16'].outcome.status).toBe('not-declared');
    expect(await readFile(path.join(dir, 'bench.md'), 'utf8')).toContain('timeout: cut off after 4 s');
  });
});

describe('labelsOf', () => {
  it('labels software adapters and emulation as CPU emulation, and nothing else', () => {
    expect(labelsOf({ emulated: 'true' })).toEqual(['CPU emulation']);
    expect(labelsOf({ adapter: 'lavapipe' })).toEqual(['CPU emulation']);
    expect(labelsOf({ adapter: 'NVIDIA GeForce RTX 4090', emulated: 'false' })).toEqual([]);
    expect(labelsOf({})).toEqual([]);
  });
});
