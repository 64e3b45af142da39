/**
 * The cell time limit (--cell-time-limit, SCAN_CONFORMANCE_CELL_TIME_LIMIT): a cell whose search it
 * cuts passes on the cases that finished, says so (cutAtTimeLimitMs, the report's "Cut cells", the
 * verdict's line), judges the case that was in flight (a failure there fails the cell), lets no case
 * run on beside the next cell, and is an error, never a pass, when no case ran at all.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { repositoryModule, runChildVitest } from './child-vitest.ts';
import type { TestModule } from 'vitest/node';
import { createSequential } from '../../implementations/sequential/sequential.ts';
import type { FamilyImplementation, ScanImplementation } from '../../spec/implementation.ts';
import { cutCell } from '../../suite/cell-runner.ts';
import { assembleReport, runConformance } from '../../suite/conformance-run.ts';
import { cellProgressLine, cutCellLine, verdictLines } from '../../suite/report/document.ts';
import { renderMarkdown } from '../../suite/report/markdown.ts';
import type { CellResult } from '../../suite/results.ts';
import { runImplementation } from '../../suite/runner.ts';
import { DEFAULT_CELL_TIME_LIMIT_MS, ENVIRONMENT, runOptionsFromEnvironment } from '../../suite/settings.ts';
import { parseCliArguments } from '../../scripts/cli-arguments.ts';
import ConformanceReporter from '../../suite/vitest-reporter.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** sequential-f64's prefix sum, each run taking `delayMs` longer (optionally off by one at y[0]), counting the runs in flight. */
function slowPrefixSum(delayMs: number, wrong = false): { implementation: ScanImplementation; inFlight: () => number } {
  const base = createSequential('float64');
  const family = base.families['prefix-sum'] as FamilyImplementation<'prefix-sum'>;
  let running = 0;
  const implementation: ScanImplementation = {
    name: wrong ? 'slow-wrong-prefix-sum' : 'slow-prefix-sum',
    precision: 'float64',
    families: {
      'prefix-sum': {
        async run(problem) {
          running++;
          try {
            await sleep(delayMs);
            const out = await family.run(problem);
            if (wrong && out.y.data.length > 0) out.y.data[0] += 1;
            return out;
          } finally {
            running--;
          }
        },
      },
    },
  };
  return { implementation, inFlight: () => running };
}

async function conformanceCell(implementation: ScanImplementation, runs: number, cellTimeLimitMs: number): Promise<CellResult> {
  const report = await runImplementation(implementation, { runs, maxLength: 16, cellTimeLimitMs, families: ['prefix-sum'], properties: ['conformance'] });
  const cell = report.cells.find((c) => c.property === 'conformance');
  if (cell === undefined) throw new Error('no conformance cell');
  return cell;
}

describe('a cell cut by its time limit', () => {
  it('passes on the cases that finished, says it was cut, and leaves no case running', async () => {
    const slow = slowPrefixSum(40);
    const cell = await conformanceCell(slow.implementation, 100, 400);
    expect(cell.outcome).toBe('pass');
    expect(cell.cutAtTimeLimitMs).toBe(400);
    expect(cell.runs).toBeGreaterThanOrEqual(1);
    expect(cell.runs).toBeLessThan(100);
    expect(slow.inFlight()).toBe(0);
  });

  it('judges the case in flight when the limit struck: a correct kernel passes on it', async () => {
    const slow = slowPrefixSum(300);
    const cell = await conformanceCell(slow.implementation, 10, 50);
    expect(slow.inFlight()).toBe(0);
    expect(cell).toMatchObject({ outcome: 'pass', runs: 1, cutAtTimeLimitMs: 50 });
  });

  it('judges the case in flight when the limit struck: a wrong kernel fails on it, not a pass', async () => {
    const slow = slowPrefixSum(300, true);
    const cell = await conformanceCell(slow.implementation, 10, 50);
    expect(slow.inFlight()).toBe(0);
    expect(cell.outcome).toBe('fail');
    expect(cell.reason).toMatch(/y\[0, 0, 0\].*\(the case in flight when the cell time limit ended the search; not shrunk\)$/s);
    expect(cell.cutAtTimeLimitMs).toBe(50);
  });

  it('is an error, never a pass, when no case ran at all', () => {
    const plan = { property: 'conformance' as const };
    expect(cutCell(plan, { timeLimit: 5, accepted: 0, declined: 0 })).toMatchObject({
      outcome: 'error',
      runs: 0,
      reason: `the cell time limit (5 ms) ended the search before its first case ran: give the cell more time (--cell-time-limit, ${ENVIRONMENT.cellTimeLimit})`,
    });
    expect(cutCell(plan, { timeLimit: 5, accepted: 3, declined: 1, declineReason: 'too long' })).toEqual({ outcome: 'pass', runs: 3, declined: 1, declineReason: 'too long', cutAtTimeLimitMs: 5 });
  });

  it('an uncut cell (limit 0: none) runs every case and is not marked', async () => {
    const slow = slowPrefixSum(1);
    const cell = await conformanceCell(slow.implementation, 12, 0);
    expect(cell).toMatchObject({ outcome: 'pass', runs: 12 });
    expect(cell.cutAtTimeLimitMs).toBeUndefined();
  });

  it('is listed in the report, in its settings and on the verdict lines', async () => {
    const slow = slowPrefixSum(40);
    const run = await runImplementation(slow.implementation, { runs: 100, maxLength: 16, cellTimeLimitMs: 300, families: ['prefix-sum'], properties: ['conformance'] });
    const cell = run.cells.find((c) => c.property === 'conformance')!;
    const report = assembleReport([run], { runs: 100, cellTimeLimitMs: 300, seed: 42, deep: false, families: ['prefix-sum'], properties: ['conformance'], fixtures: false }, false);
    const item = `slow-prefix-sum: prefix-sum conformance (${cell.runs} cases in 300 ms)`;
    const markdown = renderMarkdown(report);
    expect(markdown).toContain('cell time limit 300 ms');
    expect(markdown).toContain('**Cut cells.** These passed on fewer cases than asked');
    expect(markdown).toContain(`- ${item}`);
    expect(cellProgressLine(cell, 3, 9)).toBe(`[3/9] slow-prefix-sum · prefix-sum · conformance: pass (${cell.runs} runs, cut by the 300 ms cell time limit, ${Math.round(cell.durationMs)} ms)`);
    expect(cellProgressLine({ ...cell, cutAtTimeLimitMs: undefined }, 3, 9)).toBe(`[3/9] slow-prefix-sum · prefix-sum · conformance: pass (${cell.runs} runs, ${Math.round(cell.durationMs)} ms)`);
    expect(verdictLines(report).split('\n')[1]).toBe(`cut by the cell time limit (passed on fewer cases than asked; --cell-time-limit gives more): ${item}`);
    expect(cutCellLine(report, ENVIRONMENT.cellTimeLimit)).toContain(`${ENVIRONMENT.cellTimeLimit} gives more`);
    // Two cut cells of one implementation: it is named once, its cells after it.
    const twoCut = { ...report, implementations: report.implementations.map((i) => ({ ...i, cells: [...i.cells, { ...cell, property: 'scaling' as const }] })) };
    expect(cutCellLine(twoCut)).toBe(`cut by the cell time limit (passed on fewer cases than asked; --cell-time-limit gives more): ${item}, prefix-sum scaling (${cell.runs} cases in 300 ms)`);
    const uncut = assembleReport([{ ...run, cells: run.cells.map(({ cutAtTimeLimitMs: _, ...c }) => c) }], report.settings, false);
    expect(cutCellLine(uncut)).toBeUndefined();
    expect(renderMarkdown(uncut)).not.toContain('Cut cells');
  });
});

describe('a cut cell under vitest', () => {
  it("is printed by the vitest reporter, naming the environment variable that gives more time", async () => {
    const slow = slowPrefixSum(40);
    const cell = await conformanceCell(slow.implementation, 100, 300);
    const out = await mkdtemp(path.join(tmpdir(), 'cut-cells-'));
    const said: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (said.push(String(chunk)), true));
    try {
      // A test of the module itself (no describe block): its parent is the module.
      const module = { children: { allTests: () => [{ meta: () => ({ scanConformanceCell: cell }), parent: { type: 'module' } }] } } as unknown as TestModule;
      await new ConformanceReporter({ outDir: out }).onTestRunEnd([module]);
    } finally {
      spy.mockRestore();
      await rm(out, { recursive: true, force: true });
    }
    expect(said.join('')).toContain(`scan-conformance: cut by the cell time limit (passed on fewer cases than asked; ${ENVIRONMENT.cellTimeLimit} gives more): slow-prefix-sum: prefix-sum conformance (${cell.runs} cases in 300 ms)`);
  });

  it('under describeConformance, with the limit from the environment, carries a warning annotation', async () => {
    const result = await runChildVitest(
      'cut',
      `import { describeConformance } from ${repositoryModule('suite/vitest.ts')};
import { createSequential } from ${repositoryModule('implementations/sequential/sequential.ts')};
const base = createSequential('float64');
const implementation = { ...base, name: 'slow', families: { 'prefix-sum': { run: async (p) => (await new Promise((r) => setTimeout(r, 40)), base.families['prefix-sum'].run(p)) } } };
describeConformance(implementation, { runs: 100, maxLength: 16, families: ['prefix-sum'], properties: ['conformance'], fixtures: false });
`,
      { env: { [ENVIRONMENT.cellTimeLimit]: '300' } },
    );
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/✓ .*prefix-sum › conformance/);
    expect(result.stdout).toMatch(/warning[\s\S]*cut by the 300 ms cell time limit: passed on \d+ of the 100 cases asked \(SCAN_CONFORMANCE_CELL_TIME_LIMIT gives more, 0 for none\)/);
  });
});

describe('setting the cell time limit', () => {
  it('check and browser take --cell-time-limit <ms>, 0 for none; anything else is a usage error naming the flag', () => {
    expect(parseCliArguments(['check', '--cell-time-limit', '300000'])).toMatchObject({ cellTimeLimitMs: 300_000 });
    expect(parseCliArguments(['check', '--cell-time-limit', '0'])).toMatchObject({ cellTimeLimitMs: 0 });
    expect(parseCliArguments(['browser', '--cell-time-limit', '5000'])).toMatchObject({ cellTimeLimitMs: 5000 });
    expect(() => parseCliArguments(['check', '--cell-time-limit', '-1'])).toThrow("--cell-time-limit: expected a non-negative integer, got '-1'");
    expect(() => parseCliArguments(['check', '--cell-time-limit', '2m'])).toThrow("--cell-time-limit: expected a non-negative integer, got '2m'");
  });

  it('the environment sets it for describeConformance and check; a bad value names the variable', () => {
    expect(runOptionsFromEnvironment({ [ENVIRONMENT.cellTimeLimit]: '600000' }).cellTimeLimitMs).toBe(600_000);
    expect(runOptionsFromEnvironment({}).cellTimeLimitMs).toBeUndefined();
    expect(() => runOptionsFromEnvironment({ [ENVIRONMENT.cellTimeLimit]: '-5' })).toThrow(`${ENVIRONMENT.cellTimeLimit}: expected a time in ms, 0 for none, got '-5'`);
    expect(() => runOptionsFromEnvironment({ [ENVIRONMENT.cellTimeLimit]: 'soon' })).toThrow(`${ENVIRONMENT.cellTimeLimit}: expected a time in ms, 0 for none, got 'soon'`);
  });

  it('a run records its limit in the report settings, the default when none was given', async () => {
    const run = await runImplementation(createSequential('float64'), { runs: 2, maxLength: 8, families: ['prefix-sum'], properties: ['conformance'] });
    expect(run.cells.find((c) => c.property === 'conformance')?.cutAtTimeLimitMs).toBeUndefined();
    const report = await runConformance({ implementations: [createSequential('float64')], runOptions: { runs: 2, maxLength: 8, families: ['prefix-sum'], properties: ['conformance'] } });
    expect(report.settings.cellTimeLimitMs).toBe(DEFAULT_CELL_TIME_LIMIT_MS);
  });
});
