/**
 * The report writers on a real small run: sequential-f32 and a deliberately wrong prefix sum,
 * 3 runs on one family, written to a temporary folder; then report.json's shape, report.md's
 * tables and the failure's replay command, report.html's SVGs with the plotted series, atomic
 * writes, the step summary and the optional benchmark table.
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sequential from '../../implementations/sequential/index.ts';
import type { ScanImplementation } from '../../spec/implementation.ts';
import { runConformance } from '../../suite/conformance-run.ts';
import type { ConformanceReport } from '../../suite/results.ts';
import { renderJson } from '../../suite/report/json.ts';
import { writeReports } from '../../suite/report/write.ts';
import { offByOnePrefixSum } from '../cli/modules/prefix-sums.ts';

const sequentialF32 = (sequential as ScanImplementation[]).find((i) => i.name === 'sequential-f32') as ScanImplementation;

let dir: string;
let report: ConformanceReport;
let json: string;
let markdown: string;
let html: string;
let summaryFile: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'scan-conformance-report-'));
  report = await runConformance({
    implementations: [sequentialF32, offByOnePrefixSum],
    runOptions: { runs: 8, families: ['prefix-sum'], properties: ['conformance', 'scaling', 'zero-input'], maxLength: 64 },
    replayTargets: new Map([[offByOnePrefixSum, '--impl test/cli/modules/wrong.ts']]),
  });
  await writeFile(path.join(dir, 'bench.json'), JSON.stringify(benchFixture()));
  summaryFile = path.join(dir, 'step-summary.md');
  await writeFile(summaryFile, '# earlier step\n');
  await writeReports(report, dir, { stepSummary: summaryFile });
  [json, markdown, html] = await Promise.all(['report.json', 'report.md', 'report.html'].map((f) => readFile(path.join(dir, f), 'utf8')));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A bench.json in the shape bench/report.ts writes (only the fields the table reads). */
function benchFixture() {
  return {
    generatedAt: '2026-01-01T00:00:00.000Z',
    command: 'npm run bench',
    cases: [{ id: 'lr-1x1x4096', title: 'linear-recurrence 1×1×4096' }],
    implementations: [
      { name: 'sequential-f32', precision: 'float32', results: { 'lr-1x1x4096': { outcome: { status: 'ok' }, elementsPerSecond: 123_000_000, ratioToSequentialF32: 1 } } },
    ],
  };
}

describe('report.json', () => {
  it('is the ConformanceReport with versions, machine, settings and a consistent summary', () => {
    const parsed = JSON.parse(json) as ConformanceReport;
    expect(parsed.tool.name).toBe('scan-conformance');
    expect(parsed.tool.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(parsed.specVersion).toMatch(/^\d+\.\d+\.\d+$/);
    expect(Number.isNaN(Date.parse(parsed.createdAt))).toBe(false);
    expect(parsed.machine.node).toBe(process.version);
    expect(Number(parsed.machine.availableParallelism)).toBeGreaterThan(0);
    expect(parsed.settings).toMatchObject({ runs: 8, seed: 42, families: ['prefix-sum'], properties: ['conformance', 'scaling', 'zero-input'], fixtures: false });
    expect(parsed.implementations.map((i) => i.name)).toEqual(['sequential-f32', 'test/off-by-one-prefix-sum']);
    const cells = parsed.implementations.flatMap((i) => i.cells);
    expect(parsed.summary.cells).toBe(cells.length);
    expect(Object.values(parsed.summary.byOutcome).reduce((a, b) => a + b, 0)).toBe(cells.length);
    const [good, wrong] = parsed.implementations;
    expect(good.cells.every((c) => c.outcome === 'pass')).toBe(true);
    expect(wrong.cells.find((c) => c.property === 'conformance')?.outcome).toBe('fail');
    expect(parsed.summary.unexpectedFailures).toBe(wrong.cells.filter((c) => c.outcome === 'fail').length);
    expect(good.accuracy.length).toBeGreaterThan(0);
    expect(good.accuracy[0]).toMatchObject({ family: 'prefix-sum', passed: true });
    expect(good.growth.map((g) => g.family)).toEqual(['prefix-sum']);
  });

  it('spells non-finite numbers as strings (JSON has no Infinity)', () => {
    const withInfinity = { ...report, machine: { ...report.machine }, summary: { ...report.summary } } as ConformanceReport;
    const text = renderJson({ ...withInfinity, implementations: [{ ...report.implementations[0], durationMs: Infinity }] });
    expect((JSON.parse(text) as ConformanceReport).implementations[0].durationMs).toBe('Infinity');
  });
});

describe('report.md', () => {
  it('opens with the verdict in words beside its symbol, the run as it ran, and a summary table headed in words', () => {
    expect(markdown.split('\n')[2]).toMatch(/^\*\*FAIL ❌\*\* \d+ unexpected failures? · 2 implementations/);
    expect(markdown).toContain('; family prefix-sum; properties conformance, scaling, zero-input; fixtures: none.');
    expect(markdown).toMatch(/\| implementation \| precision \| status \| pass ✅ \| fail ❌ \| expected failure ⚠️ \|/);
    expect(markdown).toMatch(/\| sequential-f32 \| float32 \| ran \| 3 \| 0 \|/);
  });

  it('has a families × properties table per implementation with outcome symbols', () => {
    expect(markdown).toContain('| family | error model | conformance | scaling | zero-input |');
    expect(markdown).toContain('| prefix-sum | componentwise | pass ✅ | pass ✅ | pass ✅ |');
    expect(markdown).toMatch(/\| prefix-sum \| componentwise \| FAIL ❌ \|/);
  });

  it('has accuracy and error-growth tables', () => {
    expect(markdown).toContain(
      '| family | L | cases | max e | p99 e | β | bound usage | bound ≥ \\|y\\| | max abs | max rel | max ULP | allclose (rtol 0.0006, atol 0.002) | under the floor | NaN | ±Inf | verdict |',
    );
    expect(markdown).toMatch(/\| prefix-sum \| L(=|∈)[^|]+\| \d+ \|.*\| PASS ✅ \|/);
    expect(markdown).toContain('smallest normal float32 number');
    expect(markdown).toContain('| family | error model | slope of log max e against log L | length buckets fitted | reading |');
    expect(markdown).toContain('## Machine');
  });

  it('lists each failure with its counterexample and replay command', () => {
    const failures = markdown.slice(markdown.indexOf('### Failures'));
    expect(markdown).toContain('### Failures');
    expect(failures).toMatch(/counterexample \(after \d+ shrinks\): prefix-sum/);
    expect(failures).toMatch(/replay: fast-check seed -?\d+, path "[\d:]*" — npx scan-conformance check --impl test\/cli\/modules\/wrong\.ts --only test\/off-by-one-prefix-sum --family prefix-sum --property conformance --seed -?\d+ --path [\d:]+ /);
  });

  it('includes the benchmark table when bench.json is there', () => {
    expect(markdown).toContain('## Benchmark');
    expect(markdown).toContain('| sequential-f32 | float32 | 123 M/s (×1.00) |');
  });

  it('is appended to the step summary, after what was there', async () => {
    const summary = await readFile(summaryFile, 'utf8');
    expect(summary.startsWith('# earlier step\n')).toBe(true);
    expect(summary).toContain(markdown);
  });
});

describe('report.html', () => {
  it('is self-contained: no script, no external stylesheet, font or image', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).not.toMatch(/\b(src|href)="(https?:)?\/\//i);
    expect(html).not.toMatch(/@import|url\((?!#)/i);
  });

  it('has the same tables as report.md', () => {
    expect(html).toContain('<th>max e</th>');
    expect(html).toContain('<h3>Failures</h3>');
    expect(html).toContain('Benchmark');
  });

  it('has SVG plots per family: bound usage with its line at 1, max e; and histograms, every mark named by its implementation', () => {
    const svgs = [...html.matchAll(/<svg\b[\s\S]*?<\/svg>/g)].map((m) => m[0]);
    const usage = svgs.find((s) => s.includes('prefix-sum: bound usage against L'));
    const growth = svgs.find((s) => s.includes('prefix-sum: max e against L'));
    for (const plot of [usage, growth]) {
      expect(plot?.match(/data-series="([^"]*)"/)?.[1].split('|')).toEqual(['sequential-f32', 'test/off-by-one-prefix-sum']);
      expect(plot).toContain(`aria-label="sequential-f32"`);
      expect(plot).toContain("Symbol legend titled 'implementation' for fill color and stroke color with 2 values: sequential-f32, test/off-by-one-prefix-sum");
    }
    expect(usage).toContain('bound: error = bound (above fails)');
    expect(growth).not.toContain('β');
    const histogram = svgs.find((s) => s.includes('sequential-f32: per-case max e'));
    expect(histogram).toContain('aria-label="sequential-f32"');
    // Inlined side by side, the SVGs must not share element ids (clip paths would cross over).
    const ids = svgs.flatMap((s) => [...s.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]));
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('writing', () => {
  it('leaves only the finished files behind (temp file + rename)', async () => {
    expect((await readdir(dir)).sort()).toEqual(['bench.json', 'report.html', 'report.json', 'report.md', 'step-summary.md']);
  });

  it('reads a malformed bench.json defensively: a note, not a crash', async () => {
    const other = await mkdtemp(path.join(os.tmpdir(), 'scan-conformance-report-'));
    try {
      await writeFile(path.join(other, 'bench.json'), '{ not json');
      await writeReports(report, other, { stepSummary: '' });
      const md = await readFile(path.join(other, 'report.md'), 'utf8');
      expect(md).toMatch(/The benchmark report was not included: .*bench\.json is not JSON/);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });
});
