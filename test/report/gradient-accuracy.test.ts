/**
 * The gradient accuracy table (issue 17 item 7): per family × gradient tensor, fed by the vjp
 * property's cases, in report.md and report.html only when a vjp cell ran cases; a wrong gradient
 * shows as a failing row with its bound usage above 1.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createSequential } from '../../implementations/sequential/sequential.ts';
import { sequentialVjp } from '../../implementations/sequential/vjp.ts';
import type { GradientsOf } from '../../spec/gradients.ts';
import type { FamilyImplementation, ScanImplementation } from '../../spec/implementation.ts';
import type { OutputTensor } from '../../spec/tensor.ts';
import { aggregateGradientAccuracy } from '../../suite/accuracy.ts';
import { assembleReport } from '../../suite/conformance-run.ts';
import { renderHtml } from '../../suite/report/html.ts';
import { renderMarkdown } from '../../suite/report/markdown.ts';
import type { ConformanceReport, ImplementationReport, PropertyName } from '../../suite/results.ts';
import { runImplementation } from '../../suite/runner.ts';

const HEADER = '| family | gradient | cases | elements | max e (u·G) | bound usage | bound ≥ \\|g\\| | verdict |';

/** The float32 baseline whose linear-recurrence db is 1 % too large. */
function scaledDb(): ScanImplementation {
  const base = createSequential('float32');
  const correct = base.families['linear-recurrence'] as FamilyImplementation<'linear-recurrence'>;
  const entry: FamilyImplementation<'linear-recurrence'> = {
    ...correct,
    vjp: async (problem, cotangents) => {
      const right = sequentialVjp('float32', problem, cotangents) as Readonly<Record<string, OutputTensor>>;
      return { ...right, b: { data: Float64Array.from(right.b.data, (v) => v * 1.01), shape: right.b.shape } } as unknown as GradientsOf<'linear-recurrence'>;
    },
  };
  return { ...base, name: 'scaled-db', families: { 'linear-recurrence': entry } };
}

async function reportOf(implementation: ScanImplementation, properties: readonly PropertyName[]): Promise<{ implementation: ImplementationReport; report: ConformanceReport }> {
  const settings = { runs: 6, maxLength: 16, families: ['linear-recurrence'] as const, properties };
  const run = await runImplementation(implementation, settings);
  const report = assembleReport([run], { runs: 6, cellTimeLimitMs: 120_000, seed: 0, deep: false, families: ['linear-recurrence'], properties, fixtures: false }, false);
  return { implementation: run, report };
}

describe('the gradient accuracy table', () => {
  let good: Awaited<ReturnType<typeof reportOf>>;
  let bad: Awaited<ReturnType<typeof reportOf>>;
  let forwardOnly: Awaited<ReturnType<typeof reportOf>>;
  beforeAll(async () => {
    good = await reportOf(createSequential('float32'), ['conformance', 'vjp']);
    bad = await reportOf(scaledDb(), ['vjp']);
    forwardOnly = await reportOf(createSequential('float32'), ['conformance', 'vjp-zero']);
  });

  it('has a row per gradient tensor of the vjp cases, within rule V for the baseline', () => {
    const rows = good.implementation.gradientAccuracy ?? [];
    const tensors = rows.map((r) => r.tensor);
    expect(tensors).toEqual(expect.arrayContaining(['a', 'b']));
    expect(tensors.every((t) => ['a', 'b', 'h0'].includes(t))).toBe(true);
    const vjpCell = good.implementation.cells.find((c) => c.property === 'vjp')!;
    for (const r of rows) {
      expect(r.family).toBe('linear-recurrence');
      expect(r.cases).toBeGreaterThan(0);
      expect(r.cases).toBeLessThanOrEqual(vjpCell.runs);
      expect(r.maxE).toBeGreaterThanOrEqual(0);
      expect(r.maxBoundUsage).toBeLessThanOrEqual(1);
      expect(r.passed).toBe(true);
    }
    // Cases with L ≥ 1 judge elements, and float32 rounds: not all exact.
    expect(rows.some((r) => r.elements > 0 && r.maxE > 0)).toBe(true);
  });

  it('is in report.md and report.html when a vjp cell ran', async () => {
    const markdown = renderMarkdown(good.report);
    expect(markdown).toContain('### Gradient accuracy');
    expect(markdown).toContain(HEADER);
    expect(markdown).toMatch(/\| linear-recurrence \| b \| \d+ \| \d+ \| [^|]+ \| [^|]+ \| [^|]+ \| PASS ✅ \|/);
    const html = await renderHtml(good.report);
    expect(html).toContain('Gradient accuracy');
    expect(html).toContain('max e (u·G)');
  });

  it('shows a wrong gradient as a failing row with its bound usage above 1', () => {
    const rows = bad.implementation.gradientAccuracy ?? [];
    const b = rows.find((r) => r.tensor === 'b');
    expect(b?.passed).toBe(false);
    expect(b?.maxBoundUsage).toBeGreaterThan(1);
    expect(rows.find((r) => r.tensor === 'a')?.passed).toBe(true);
    expect(renderMarkdown(bad.report)).toMatch(/\| linear-recurrence \| b \| \d+ \| \d+ \| [^|]+ \| [^|]+ \| [^|]+ \| FAIL ❌ \|/);
  });

  it('is absent when no vjp cell ran (other gradient properties do not feed it)', async () => {
    expect(forwardOnly.implementation.gradientAccuracy).toBeUndefined();
    expect(renderMarkdown(forwardOnly.report)).not.toContain('Gradient accuracy');
    expect(await renderHtml(forwardOnly.report)).not.toContain('Gradient accuracy');
  });
});

describe('aggregateGradientAccuracy', () => {
  it('takes the max e and bound usage, sums elements and unresolved counts, counts cases, fails a row with one failing case', () => {
    const sample = (tensor: string, elements: number, maxE: number, maxBoundUsage: number, unresolvedElements = 0) =>
      ({ family: 'ssd', comparison: { tensor, elements, maxE, maxBoundUsage, nonzeroElements: elements, unresolvedElements, passed: maxBoundUsage <= 1 } }) as const;
    const rows = aggregateGradientAccuracy([sample('x', 4, 2, 0.1, 1), { ...sample('A', 2, 1, 0.5), family: 'prefix-sum' }, sample('x', 3, 5, 1.5, 2), sample('dt', 1, 0, 0)]);
    expect(rows).toEqual([
      { family: 'prefix-sum', tensor: 'A', cases: 1, elements: 2, maxE: 1, maxBoundUsage: 0.5, nonzeroElements: 2, unresolvedElements: 0, passed: true },
      { family: 'ssd', tensor: 'x', cases: 2, elements: 7, maxE: 5, maxBoundUsage: 1.5, nonzeroElements: 7, unresolvedElements: 3, passed: false },
      { family: 'ssd', tensor: 'dt', cases: 1, elements: 1, maxE: 0, maxBoundUsage: 0, nonzeroElements: 1, unresolvedElements: 0, passed: true },
    ]);
  });
});
