/**
 * Weak checks: a passing cell whose bound is at least |value| on most elements checked little (a 0
 * or a wrong sign would pass there). The report says so, per family's outputs and per gradient
 * tensor, beside the accuracy tables, under the summary and on the command line: never a plain green
 * for a check that cannot tell a right value from a wrong one.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { repositoryModule, runChildVitest } from '../suite/child-vitest.ts';
import type { TestModule } from 'vitest/node';
import { createSequential } from '../../implementations/sequential/sequential.ts';
import type { ScanImplementation } from '../../spec/implementation.ts';
import type { Problem } from '../../spec/families.ts';
import { reference } from '../../reference/index.ts';
import { unresolvedShare, weakChecks, WEAK_CHECK_SHARE } from '../../suite/accuracy.ts';
import { compareWithReference, type ExpectedOutputs } from '../../suite/compare.ts';
import { assembleReport } from '../../suite/conformance-run.ts';
import { verdictLines, weakCheckLine } from '../../suite/report/document.ts';
import { formatPercent } from '../../suite/report/format.ts';
import { renderHtml } from '../../suite/report/html.ts';
import { renderMarkdown } from '../../suite/report/markdown.ts';
import type { ConformanceReport, ImplementationReport } from '../../suite/results.ts';
import { runImplementation } from '../../suite/runner.ts';
import ConformanceReporter from '../../suite/vitest-reporter.ts';

/** The float64 baseline declared as float16 storage that may flush subnormals: right answers, judged by a flushing float16's allowance. */
function declaredFlushingFloat16(): ScanImplementation {
  return { ...createSequential('float64'), name: 'f64-declared-f16-flush', precision: 'float16', accumulation: 'float32', subnormals: 'flush' };
}

async function reportOf(implementation: ScanImplementation): Promise<{ implementation: ImplementationReport; report: ConformanceReport }> {
  const settings = { runs: 4, maxLength: 24, seed: 3, families: ['selective-scan'] as const, properties: ['conformance', 'vjp'] as const };
  const run = await runImplementation(implementation, settings);
  const report = assembleReport([run], { runs: 4, cellTimeLimitMs: 120_000, seed: 3, deep: false, families: ['selective-scan'], properties: ['conformance', 'vjp'], fixtures: false }, false);
  return { implementation: run, report };
}

describe('unresolved elements of a comparison', () => {
  it('counts the normal-range elements with y ≠ 0 whose bound is at least |y|', () => {
    // y = (1 + 1e-7) − 1 in a float32 prefix sum: S = 2 + 1e-7 ≫ |y|, a bound of a few u·S exceeds |y|.
    const problem = { family: 'prefix-sum', inputs: { x: { data: Float32Array.from([1, 1e-7, -1, 0, 3]), shape: [1, 1, 5] } }, options: { exclusive: false, reverse: false } } as Problem<'prefix-sum'>;
    const expected = reference(problem) as unknown as ExpectedOutputs;
    const outputs = { y: { data: Float64Array.from(expected.outputs.y.data, (v) => Math.fround(v)), shape: expected.outputs.y.shape } };
    const comparison = compareWithReference(problem, outputs, expected, { precision: 'float32' });
    // y = 1, 1 + 1e-7, 1e-7 (cancelled), 1e-7 (0 added), 3 + 1e-7: every one nonzero; the two cancelled ones unresolved.
    expect(comparison.nonzeroElements).toBe(5);
    expect(comparison.unresolvedElements).toBe(2);
    expect(comparison.passed).toBe(true);
  });

  it('reads 0 unresolved in exact cases (bound 0) and a share of 0 with no nonzero element', () => {
    expect(unresolvedShare({ nonzeroElements: 0, unresolvedElements: 0 })).toBe(0);
    expect(unresolvedShare({ nonzeroElements: 8, unresolvedElements: 4 })).toBe(0.5);
    expect(formatPercent(0.5)).toBe('50 %');
    expect(formatPercent(0.0004)).toBe('< 0.1 %');
    expect(formatPercent(0.034)).toBe('3.4 %');
  });
});

describe('weak checks in the report', () => {
  let weak: Awaited<ReturnType<typeof reportOf>>;
  let sharp: Awaited<ReturnType<typeof reportOf>>;
  beforeAll(async () => {
    weak = await reportOf(declaredFlushingFloat16());
    sharp = await reportOf(createSequential('float32'));
  });

  it("names the gradients that a flushing float16 storage's allowance leaves unresolved on most elements, though every cell passed", () => {
    expect(weak.implementation.cells.every((c) => c.outcome === 'pass')).toBe(true);
    const checks = weakChecks(weak.implementation);
    const gradients = checks.filter((c) => c.gradient).map((c) => c.what);
    // The floor η_flush·F (η_flush = 2^-14 per operation) exceeds most of selective-scan's gradients.
    expect(gradients.length).toBeGreaterThanOrEqual(3);
    expect(gradients).toEqual(expect.arrayContaining(['delta', 'B']));
    for (const c of checks) expect(c.share).toBeGreaterThanOrEqual(WEAK_CHECK_SHARE);
    const rows = weak.implementation.gradientAccuracy ?? [];
    for (const name of gradients) expect(unresolvedShare(rows.find((r) => r.tensor === name)!)).toBeGreaterThanOrEqual(WEAK_CHECK_SHARE);
  });

  it('says so under the summary, in the implementation section, in HTML and on the command line', async () => {
    const markdown = renderMarkdown(weak.report);
    const [top, section] = [markdown.indexOf('**Weak checks.**'), markdown.indexOf('**Weak checks:**')];
    expect(top).toBeGreaterThan(markdown.indexOf('## Summary'));
    expect(section).toBeGreaterThan(markdown.indexOf('### Gradient accuracy'));
    expect(markdown).toContain('- f64-declared-f16-flush: selective-scan gradient delta (');
    expect(markdown).toMatch(/\| selective-scan \| delta \| \d+ \| \d+ \| [^|]+ \| [^|]+ \| (\d+(\.\d+)?) % \| PASS ✅ \|/);
    expect(await renderHtml(weak.report)).toContain('Weak checks');
    const line = weakCheckLine(weak.report)!;
    expect(line).toMatch(/^weak checks \(the bound is at least \|value\| on most elements, so 0 or a wrong sign would pass there\): f64-declared-f16-flush: selective-scan gradient /);
    expect(verdictLines(weak.report)).toMatch(/^PASS ✅ no unexpected failure · 1 implementation, 2 cells: 2 pass\nweak checks /);
    // Each implementation is named once, its checks after it, comma-separated; implementations by semicolons.
    expect(line.split('f64-declared-f16-flush:')).toHaveLength(2);
    expect(line).toMatch(/: f64-declared-f16-flush: [^;]*\), selective-scan gradient /);
    const two = { ...weak.report, implementations: [weak.implementation, { ...weak.implementation, name: 'second' }] };
    expect(weakCheckLine(two)).toMatch(/: f64-declared-f16-flush: [^;]+; second: selective-scan /);
  });

  it("is printed by the vitest reporter under its report's path, since vitest's own summary counts such tests as passed", async () => {
    const out = await mkdtemp(path.join(tmpdir(), 'weak-checks-'));
    const said: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (said.push(String(chunk)), true));
    try {
      const cells = weak.implementation.cells;
      const gradientCell = cells.find((c) => c.property === 'vjp')!;
      const tests = cells.map((cell) => ({
        parent: { type: 'module' },
        meta: () => ({
          scanConformanceCell: cell,
          ...(cell === gradientCell && { scanConformanceGradientSamples: weak.implementation.gradientAccuracy!.map(({ family, cases: _cases, ...comparison }) => ({ family, comparison })) }),
        }),
      }));
      const module = { children: { allTests: () => tests } } as unknown as TestModule;
      await new ConformanceReporter({ outDir: out }).onTestRunEnd([module]);
    } finally {
      spy.mockRestore();
      await rm(out, { recursive: true, force: true });
    }
    expect(said.join('')).toMatch(/scan-conformance: conformance report of this run written to .*\nscan-conformance: weak checks \(the bound is at least \|value\| on most elements[^\n]*f64-declared-f16-flush: [^;\n]*selective-scan gradient delta/);
  });

  it('under describeConformance, a weak pass carries a warning annotation, which the verbose reporter prints', async () => {
    const result = await runChildVitest(
      'weak',
      `import { describeConformance } from ${repositoryModule('suite/vitest.ts')};
import { createSequential } from ${repositoryModule('implementations/sequential/sequential.ts')};
const implementation = { ...createSequential('float64'), name: 'f64-declared-f16-flush', precision: 'float16', accumulation: 'float32', subnormals: 'flush' };
describeConformance(implementation, { runs: 4, maxLength: 24, seed: 3, families: ['selective-scan'], properties: ['vjp'], fixtures: false });
`,
    );
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/✓ .*selective-scan › vjp/);
    expect(result.stdout).toMatch(/warning[\s\S]*weak check: selective-scan gradient delta \(\d+(\.\d+)? %\): the bound is at least \|value\| on most elements/);
  });

  it('stays silent for a float32 kernel, whose bounds resolve nearly every element', () => {
    expect(weakChecks(sharp.implementation)).toEqual([]);
    for (const r of sharp.implementation.gradientAccuracy ?? []) expect(unresolvedShare(r), r.tensor).toBeLessThan(0.2);
    expect(sharp.implementation.gradientAccuracy?.some((r) => r.nonzeroElements > 0)).toBe(true);
    expect(weakCheckLine(sharp.report)).toBeUndefined();
    expect(renderMarkdown(sharp.report)).not.toContain('Weak checks');
    expect(verdictLines(sharp.report)).toMatch(/^PASS ✅ [^\n]*\n$/);
  });
});
