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
import { BenchUsageError, runBenchmark } from '../../bench/run.ts';
import type { ImplementationRun } from '../../bench/orchestrate.ts';
import { runCases } from '../../bench/orchestrate.ts';
import { elementsOf, problemOf, QUICK_CASES, shortenedCase, STANDARD_CASES } from '../../bench/cases.ts';
import { SINGLE_CALL_OVER_MS, timeOnce, timingMethod } from '../../bench/measure.ts';
import type { Problem } from '../../spec/families.ts';

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
    // reference()'s own throughput beside the implementations' on the one-channel linear recurrence and every ssd case.
    const ssdCases = report.cases.filter((c) => c.family === 'ssd');
    expect(ssdCases.map((c) => c.id)).toEqual(['ssd-mamba2-130m', 'ssd-packed']);
    expect(Object.keys(report.reference.results).sort()).toEqual(['lr-1x1x2^20', ...ssdCases.map((c) => c.id)].sort());
    for (const c of ssdCases) {
      const ref = report.reference.results[c.id];
      expect(ref.outcome, c.id).toMatchObject({ status: 'ok' });
      // Quick cases are small: sampled by tinybench, not the single call of a long case.
      expect(ref.outcome.status === 'ok' && ref.outcome.samples, c.id).toBeGreaterThanOrEqual(3);
      expect(ref.elementsPerSecond, c.id).toBeCloseTo(c.elements / ((ref.outcome.status === 'ok' ? ref.outcome.medianMs : NaN) / 1000));
      expect(ref.ratioToSequentialF32, c.id).toBeGreaterThan(0);
      expect(report.implementations.find((i) => i.name === 'sequential-f32')!.results[c.id].outcome.status, c.id).toBe('ok');
    }
    expect(report.reference.peakRssMiB).toBeGreaterThan(0);
    const written = JSON.parse(await readFile(path.join(dir, 'bench.json'), 'utf8')) as BenchReport;
    expect(written.implementations.length).toBe(2);
    expect(written.reference.results['ssd-mamba2-130m'].elementsPerSecond).toBe(report.reference.results['ssd-mamba2-130m'].elementsPerSecond);
    const markdown = await readFile(path.join(dir, 'bench.md'), 'utf8');
    expect(markdown).toContain('| parallel-scan/chunked-f32 |');
    for (const c of ssdCases) {
      const start = markdown.indexOf(`## ${c.title}\n`);
      expect(start, c.id).toBeGreaterThanOrEqual(0);
      const section = markdown.slice(start, markdown.indexOf('\n## ', start));
      const meps = (report.reference.results[c.id].elementsPerSecond! / 1e6).toFixed(1);
      expect(section, c.id).toMatch(new RegExp(`\\| reference \\(double-double\\) \\| [0-9.]+ \\| ${meps.replace('.', '\\.')} \\|`));
    }
    expect(markdown).toContain('## lti-ssm crossover');
    expect((await readdir(dir)).sort()).toEqual(['bench.json', 'bench.md']); // no temp files left
  });

  it('refuses a --filter that no implementation name contains, before timing anything', async () => {
    const dir = await outDir();
    const run = runBenchmark({ outDir: dir, filter: 'no-such-kernel', quick: true, crossover: false, print: false, showProgress: false, command: 'test', implementationsDir: FIXTURES });
    await expect(run).rejects.toThrow(BenchUsageError);
    await expect(run).rejects.toThrow(/^--filter no-such-kernel: expected part of an implementation's name, got one no name contains \(names: .*sequential-f32.*\)$/);
    expect(await readdir(dir)).toEqual([]);
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

describe('benchmark cases and timing methods', () => {
  it('counts ssd elements as state-steps batch·H·P·N·L', () => {
    const full = STANDARD_CASES.find((c) => c.id === 'ssd-mamba2-130m')!;
    expect([full.batch, full.length, full.heads, full.dim / full.heads!, full.stateSize]).toEqual([1, 2048, 24, 64, 128]);
    expect(elementsOf(full)).toBe(1 * 24 * 64 * 128 * 2048);
    const packed = QUICK_CASES.find((c) => c.id === 'ssd-packed')!;
    expect(elementsOf(packed)).toBe(1 * 2 * 8 * 8 * 128);
    // The problem has those sizes: x (batch, L, H, P), B (batch, L, G, N).
    const problem = problemOf(packed) as Problem<'ssd'>;
    expect(problem.inputs.x.shape).toEqual([1, 128, 2, 8]);
    expect(problem.inputs.B.shape).toEqual([1, 128, 1, 8]);
  });

  it('shortens a case along time only, to at most the given elements', () => {
    const full = STANDARD_CASES.find((c) => c.id === 'ssd-mamba2-130m')!;
    const short = shortenedCase(full, 2 ** 22);
    expect(short.length).toBe(21); // 2^22 / (24·64·128) = 21.3
    expect({ ...short, length: full.length }).toEqual(full);
    expect(shortenedCase(full, 1).length).toBe(1);
    expect(shortenedCase(full, elementsOf(full))).toBe(full);
  });

  it('samples short calls, times long ones once, and does not start those past the limit', async () => {
    expect(timingMethod(SINGLE_CALL_OVER_MS, 150_000)).toBe('sampled');
    expect(timingMethod(SINGLE_CALL_OVER_MS + 1, 150_000)).toBe('single call');
    expect(timingMethod(150_001, 150_000)).toBe('not run');
    expect(() => timingMethod(NaN, 150_000)).toThrow(/predictedMs: expected a non-negative number, got NaN/);
    let calls = 0;
    const once = await timeOnce(async () => {
      calls++;
      await new Promise((resolve) => setTimeout(resolve, 20));
    });
    expect(calls).toBe(1);
    expect(once.samples).toBe(1);
    expect(once.medianMs).toBeGreaterThanOrEqual(15);
    expect([once.meanMs, once.minMs, once.maxMs]).toEqual([once.medianMs, once.medianMs, once.medianMs]);
  });
});

describe('the baselines child on a full-size ssd case', () => {
  it('predicts reference() from a call on a shortened case and does not start a call predicted past --max-run-ms', async () => {
    const packed = STANDARD_CASES.find((c) => c.id === 'ssd-packed')!;
    const run: ImplementationRun = { name: 'baselines', precision: 'float64', description: '', status: 'ran', environment: {}, peakRssMiB: undefined, idleRssMiB: undefined, outcomes: {}, notes: [] };
    const finished: string[] = [];
    // 1 ms: the calibration call (L 128 of 2048, ~0.1 s) predicts far more, so the whole case (seconds) is never run.
    await runCases(['--baseline'], [packed], run, { caseTimeoutMs: 60_000, setupTimeoutMs: 60_000, exitTimeoutMs: 10_000, maxRunMs: 1 }, (id) => finished.push(id));
    expect(finished).toEqual([`reference/${packed.id}`]);
    expect(run.notes).toEqual([]);
    expect(run.outcomes[`reference/${packed.id}`]).toMatchObject({ status: 'timeout', reason: expect.stringMatching(/^predicted [0-9.]+ s per run from a call on L 128 \(limit 0\.001 s\); not run$/) as unknown });
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
