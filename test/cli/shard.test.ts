/**
 * Sharded runs: check --shard i/n and merge give the unsharded run's report cell for cell; the
 * split is deterministic and covers every unit once; merge refuses shards of different runs, a
 * shard twice and missing shards; --jobs 2 gives --jobs 1's report; a crashing child is reported.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtureSourceFromDirectory } from '../../suite/fixture-source.ts';
import { loadImplementationModule } from '../../suite/registry.ts';
import { parseReportJson } from '../../suite/report/json.ts';
import type { CellResult, ConformanceReport } from '../../suite/results.ts';
import { mergeFixtureParts } from '../../suite/shard-merge.ts';
import { planShards, slicesOfShard } from '../../suite/shard-plan.ts';
import { ROOT, runCli } from './run-cli.ts';

/** A small, fast selection with fixtures cells (split by case) and generated properties (20 cases each). */
const SELECTION = ['--only', 'sequential-f32', '--family', 'prefix-sum', '--family', 'linear-recurrence', '--property', 'fixtures', '--property', 'conformance', '--property', 'vjp', '--runs', '20'];

/** A report without what differs from one run to the next of the same cells (times, date, machine). */
function content(report: ConformanceReport): unknown {
  return JSON.parse(JSON.stringify(report, (key, value: unknown) => (key === 'durationMs' || key === 'createdAt' || key === 'machine' ? undefined : value)));
}

async function readReport(file: string): Promise<ConformanceReport> {
  return parseReportJson(await readFile(file, 'utf8'));
}

const temporary = await mkdtemp(path.join(os.tmpdir(), 'scan-conformance-shard-test-'));
const at = (...parts: string[]) => path.join(temporary, ...parts);

let unsharded: ReturnType<typeof runCli> | undefined;
/** The selection run whole in one process (--jobs 1), once for every test that compares with it. */
function wholeRun(): ReturnType<typeof runCli> {
  unsharded ??= runCli(['check', ...SELECTION, '--jobs', '1', '--out', at('whole')]);
  return unsharded;
}

describe('check --shard and merge', () => {
  const shardFiles = [1, 2, 3].map((i) => at(`shard-${i}`, 'report.json'));
  let whole: ConformanceReport;

  it('the merge of three shards is the unsharded run, cell for cell, with its verdict and exit code', async () => {
    const single = await wholeRun();
    expect(single.code, single.stderr).toBe(0);
    whole = await readReport(at('whole', 'report.json'));
    expect(whole.shard).toBeUndefined();
    const cellsOfShards: number[] = [];
    for (const [i, file] of shardFiles.entries()) {
      const run = await runCli(['check', ...SELECTION, '--shard', `${i + 1}/3`, '--out', path.dirname(file)]);
      expect(run.code, run.stderr).toBe(0);
      const report = await readReport(file);
      expect(report.shard).toMatchObject({ index: i + 1, count: 3 });
      cellsOfShards.push(report.summary.cells);
    }
    // Each shard ran a share: none all of it, none nothing (the fixtures cells are cut by case).
    for (const n of cellsOfShards) expect(n).toBeGreaterThan(0);
    for (const n of cellsOfShards) expect(n).toBeLessThan(whole.summary.cells);
    const merged = await runCli(['merge', ...shardFiles, '--out', at('merged')]);
    expect(merged.code, merged.stderr).toBe(0);
    const report = await readReport(at('merged', 'report.json'));
    expect(report.shard).toBeUndefined();
    expect(content(report)).toEqual(content(whole));
    expect(merged.stdout).toContain(single.stdout.split('\n').find((line) => line.startsWith('PASS'))!);
    // The fixtures cells' counts are the whole replay's, not one part's.
    const fixtures = (r: ConformanceReport) => r.implementations[0].cells.filter((c) => c.property === 'fixtures').map((c) => c.runs);
    expect(fixtures(report)).toEqual(fixtures(whole));
    expect(Math.min(...fixtures(report))).toBeGreaterThan(100);
  });

  it('refuses shards that do not belong together, naming what differs', async () => {
    const reports = await Promise.all(shardFiles.map(readReport));
    const edited = async (name: string, report: ConformanceReport) => {
      const file = at('edited', `${name}.json`);
      await import('node:fs/promises').then((fs) => fs.mkdir(path.dirname(file), { recursive: true }));
      await writeFile(file, JSON.stringify(report));
      return file;
    };
    const refusal = async (files: string[], message: string | RegExp) => {
      const run = await runCli(['merge', ...files, '--out', at('refused')]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(message);
    };
    const [a, b, c] = reports;
    const otherSeed = await edited('seed', { ...b, shard: { ...b.shard!, run: { ...b.shard!.run, settings: { ...b.shard!.run.settings, seed: 7 } } } });
    await refusal([shardFiles[0], otherSeed, shardFiles[2]], /got another: settings\.seed is 7 there, 42 in/);
    const otherRevision = await edited('revision', { ...c, shard: { ...c.shard!, run: { ...c.shard!.run, revision: 'abc123' } } });
    await refusal([shardFiles[0], shardFiles[1], otherRevision], /revision is "abc123" there/);
    const otherCount = await edited('count', { ...b, shard: { ...b.shard!, count: 4 } });
    await refusal([shardFiles[0], otherCount], /expected a shard of 3 .*got shard 2\/4/);
    const otherPlan = await edited('plan', { ...b, shard: { ...b.shard!, planHash: 'f'.repeat(64) } });
    await refusal([shardFiles[0], otherPlan, shardFiles[2]], /split differently/);
    await refusal([shardFiles[0], shardFiles[1], shardFiles[1]], /got shard 2\/3 twice/);
    await refusal([shardFiles[0], shardFiles[2]], /got 2: shard 2 missing/);
    await refusal([at('whole', 'report.json')], /a report without a shard record/);
    const { shard: _, ...unsharded } = a;
    await refusal([await edited('unsharded', unsharded as ConformanceReport)], /without a shard record/);
  });

  it('merges without a shard only when asked, and then fails with the cells that did not run', async () => {
    const run = await runCli(['merge', shardFiles[0], shardFiles[2], '--allow-incomplete', '--out', at('incomplete')]);
    expect(run.code).toBe(1);
    const report = await readReport(at('incomplete', 'report.json'));
    const notRun = report.implementations[0].cells.filter((c) => c.outcome === 'error');
    expect(notRun.length).toBeGreaterThan(0);
    expect(notRun[0].reason).toContain('not run: shard 2/3 was not given to merge');
    expect(run.stdout).toMatch(/^FAIL/m);
    expect(report.summary.cells).toBe(whole.summary.cells);
  });

  it('an implementation unavailable in one shard only leaves that shard\'s cells as errors: the merge is no pass', async () => {
    const args = ['check', '--impl', './test/cli/modules/unavailable-when-asked.ts', '--family', 'prefix-sum', '--property', 'conformance', '--property', 'zero-input', '--runs', '5', '--no-fixtures'];
    process.env.SCAN_CONFORMANCE_TEST_UNAVAILABLE = '1';
    try {
      // That shard checked nothing: it fails on its own, and its report still goes to merge.
      expect((await runCli([...args, '--shard', '1/2', '--out', at('unavailable-1')])).code).toBe(1);
    } finally {
      delete process.env.SCAN_CONFORMANCE_TEST_UNAVAILABLE;
    }
    expect((await runCli([...args, '--shard', '2/2', '--out', at('unavailable-2')])).code).toBe(0);
    const merged = await runCli(['merge', at('unavailable-1', 'report.json'), at('unavailable-2', 'report.json'), '--out', at('unavailable-merged')]);
    expect(merged.code).toBe(1);
    const cells = (await readReport(at('unavailable-merged', 'report.json'))).implementations[0].cells;
    expect(cells.map((c) => c.outcome).sort()).toEqual(['error', 'pass']);
    expect(cells.find((c) => c.outcome === 'error')?.reason).toBe('not run: test/sometimes-unavailable was unavailable in shard 1/2: no adapter (simulated)');
  });

  it('a shard given no cell says so and does not pass', async () => {
    const run = await runCli(['check', '--only', 'sequential-f32', '--family', 'prefix-sum', '--property', 'fixtures', '--no-fixtures', '--shard', '2/2', '--out', at('empty')]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^FAIL ❌ 1 unexpected failure: nothing was checked: shard 2\/2 was given no cell \(the run has 1 unit for 2 shards\)/m);
  });
});

describe('the split', () => {
  it('is deterministic, gives every unit one shard, cuts fixtures cells by case, and balances the estimates', async () => {
    const implementations = (await loadImplementationModule(path.join(ROOT, 'implementations/sequential/index.ts'))).filter((i) => i.name === 'sequential-f32');
    const runOptions = { fixtures: fixtureSourceFromDirectory(), families: ['prefix-sum', 'selective-scan'] as const };
    const first = await planShards({ implementations, runOptions, count: 3 });
    const again = await planShards({ implementations, runOptions, count: 3 });
    expect(again).toEqual(first);
    expect(first.units.every((u) => u.shard >= 1 && u.shard <= 3)).toBe(true);
    expect(new Set(first.units.map((u) => u.id)).size).toBe(first.units.length);
    const parts = first.units.filter((u) => u.part !== undefined && u.family === 'selective-scan');
    expect(parts.map((u) => u.part!.index)).toEqual([1, 2, 3]);
    // The parts tile the family's cases.
    const sizes = await runOptions.fixtures.sizes!('selective-scan');
    expect(parts[0].part!.start).toBe(0);
    expect(parts[1].part!.start).toBe(parts[0].part!.end);
    expect(parts[2].part!.end).toBe(sizes.length);
    const loads = [1, 2, 3].map((s) => first.units.filter((u) => u.shard === s).reduce((n, u) => n + u.cost, 0));
    expect(Math.max(...loads) / Math.min(...loads)).toBeLessThan(1.5);
    // Each shard's slices are its units, in plan order.
    const slices = [1, 2, 3].map((s) => slicesOfShard(first, s).get('sequential-f32')?.length ?? 0);
    expect(slices.reduce((a, b) => a + b, 0)).toBe(first.units.length);
    const other = await planShards({ implementations, runOptions, count: 2 });
    expect(other.hash).not.toBe(first.hash);
  });
});

describe('fixtures cell parts', () => {
  const part = (fields: Partial<CellResult>): CellResult => ({ implementation: 'k', family: 'prefix-sum', property: 'fixtures', outcome: 'pass', runs: 10, declined: 0, durationMs: 1, ...fields });
  const counterexample = (message: string) => ({ request: {} as never, valueSeed: 0, parameters: {}, seed: 0, path: '', message, shrinks: 0, replay: '' });

  it('join as the whole replay: counts added, the first failure in case order, the first decline reason', () => {
    const { cell } = mergeFixtureParts([
      part({ declined: 2, declineReason: 'first reason' }),
      part({ outcome: 'fail', counterexample: counterexample('second part failed'), reason: 'second part failed' }),
      part({ outcome: 'fail', counterexample: counterexample('third part failed'), reason: 'third part failed', declined: 1, declineReason: 'later reason' }),
    ]);
    expect(cell).toMatchObject({ outcome: 'fail', runs: 30, declined: 3, declineReason: 'first reason', reason: 'second part failed', durationMs: 3 });
    expect(cell.counterexample?.message).toBe('second part failed');
  });

  it('keep an expected failure expected, and an all-declined cell declined', () => {
    const expected = mergeFixtureParts([part({ outcome: 'unexpected-pass', reason: 'known bug' }), part({ outcome: 'expected-failure', reason: 'known bug', counterexample: counterexample('x') })]).cell;
    expect(expected).toMatchObject({ outcome: 'expected-failure', reason: 'known bug', runs: 20 });
    const passedAll = mergeFixtureParts([part({ outcome: 'unexpected-pass', reason: 'known bug' }), part({ outcome: 'not-applicable', runs: 0, reason: 'no fixture of this family matches the cell' })]).cell;
    expect(passedAll.outcome).toBe('unexpected-pass');
    const declined = mergeFixtureParts([part({ outcome: 'declined', runs: 0, declined: 4, declineReason: 'too long' }), part({ outcome: 'declined', runs: 0, declined: 1, declineReason: 'other' })]).cell;
    expect(declined).toMatchObject({ outcome: 'declined', runs: 0, declined: 5, declineReason: 'too long' });
  });
});

describe('check --jobs', () => {
  it('--jobs 2 gives the report of --jobs 1', async () => {
    const one = await wholeRun();
    const two = await runCli(['check', ...SELECTION, '--jobs', '2', '--out', at('jobs-2')]);
    expect(two.code, two.stderr).toBe(one.code);
    expect(content(await readReport(at('jobs-2', 'report.json')))).toEqual(content(await readReport(at('whole', 'report.json'))));
    expect(two.stdout.split('\n').at(-2)).toBe(one.stdout.split('\n').at(-2));
    // Progress from both children, one line per unit.
    expect(two.stderr).toMatch(/\[\d+\/\d+\] sequential-f32 · prefix-sum · fixtures: pass/);
  });

  it('children that loaded different things (a testee that started in one only) still give a report: the cells of the other run are not-run errors', async () => {
    // The first process to create the folder starts the example testee; any later one fails to start it.
    const lock = at('testee-lock');
    const testee = `node -e "require('fs').mkdirSync(process.argv[1]); require('child_process').spawnSync(process.execPath, [process.argv[2]], { stdio: 'inherit' })" ${lock} examples/testees/node/testee.mjs`;
    const run = await runCli(['check', '--impl', './test/cli/modules/correct.ts', '--command', testee, '--family', 'prefix-sum', '--property', 'conformance', '--property', 'zero-input', '--runs', '3', '--no-fixtures', '--jobs', '2', '--out', at('differing')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/shard \d\/2 \(a child process of --jobs\) left out: its run differs from the other shards'/);
    const report = await readReport(at('differing', 'report.json'));
    const cells = report.implementations.flatMap((i) => i.cells);
    expect(cells.filter((c) => c.outcome === 'pass').length).toBeGreaterThan(0);
    const notRun = cells.filter((c) => c.outcome === 'error');
    expect(notRun.length).toBeGreaterThan(0);
    for (const cell of notRun) expect(cell.reason).toMatch(/^not run: its run differs from the other shards' \(.*implementations is /);
  });

  it('a child that dies loses nothing of the others, and is reported', async () => {
    const run = await runCli(['check', '--impl', './test/cli/modules/kills-its-process.ts', '--family', 'prefix-sum', '--property', 'conformance', '--property', 'scaling', '--no-fixtures', '--jobs', '2', '--out', at('killed')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/shard \d\/2 \(a child process of --jobs\) exited with code 70 without a report .*exiting with code 70 in set-up/);
    const report = await readReport(at('killed', 'report.json'));
    const killer = report.implementations.find((i) => i.name === 'test/kills-its-process');
    expect(killer).toMatchObject({ status: 'crashed' });
    expect(killer?.statusReason).toContain('exited with code 70');
    // The other child's cells are there, run.
    const survivors = report.implementations.flatMap((i) => i.cells).filter((c) => c.outcome === 'pass');
    expect(survivors.length).toBeGreaterThan(0);
  });
});
