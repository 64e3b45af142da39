/**
 * The deep sweep (scripts/sweep.ts, `scan-conformance sweep`): its command line, its summary, and
 * --resume. Real sweeps of single cheap cells run end to end (shipped, --impl and --command); the
 * full sweep is deep and left to the nightly job.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { checkArguments, checkVerdict, lastCellCount, parseSeeds, parseSweepArguments, reusableRun, selectImplementations, shortCells, statusLine, sweep, sweepMarkdown, sweptRevision, type SweepRun, type SweepSummary } from '../../scripts/sweep.ts';
import { main } from '../../scripts/cli.ts';
import type { CellResult, ConformanceReport } from '../../suite/results.ts';
import { runCodeRevision } from '../../suite/code-revision.ts';

const RAN = { revision: 'abc', families: [], properties: [] };
/** Whether this system has /proc, where the sweep reads each run's peak memory. */
const HAS_PROC = existsSync('/proc/self/status');

/** A summary of passing runs of implementation x on the given seeds. */
function passing(seeds: number[], ran: number[], complete: boolean): SweepSummary {
  const runs: SweepRun[] = ran.map((seed) => ({ ...RAN, implementation: 'x', seed, exitCode: 0, durationMs: 1000, status: 'ok', cells: 3, failures: [], log: 'l' }));
  return { command: 'c', revision: 'abc', commit: 'c0', seeds, implementations: ['x'], families: [], properties: [], jobs: 1, wallMs: 1, complete, reused: 0, unexpectedFailures: 0, runs, failures: [] };
}

describe('npm run sweep', () => {
  it('reads seed ranges and lists, and names the flag of a bad one', () => {
    expect(parseSeeds('1-20')).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(parseSeeds('5,2,3-4,2')).toEqual([2, 3, 4, 5]);
    expect(() => parseSeeds('3-1')).toThrow(/--seeds: a range must ascend, got '3-1'/);
    expect(() => parseSeeds('one')).toThrow(/--seeds: expected a range like 1-20/);
    expect(parseSweepArguments([]).seeds).toHaveLength(20);
    expect(() => parseSweepArguments(['--jobs', '0'])).toThrow(/--jobs: expected an integer ≥ 1, got '0'/);
    expect(() => parseSweepArguments(['--bogus'])).toThrow(/bogus/);
  });

  it('selects shipped implementations with --only and --exclude, and rejects unknown names', () => {
    const shipped = ['a', 'b', 'c'];
    expect(selectImplementations(shipped, [], ['b'])).toEqual(['a', 'c']);
    expect(selectImplementations(shipped, ['c', 'a'], [])).toEqual(['a', 'c']);
    expect(() => selectImplementations(shipped, ['d'], [])).toThrow(/--only: no shipped implementation 'd'; shipped: a, b, c/);
    expect(() => selectImplementations(shipped, ['a'], ['a'])).toThrow(/no implementation is left/);
  });

  it('runs each check in one process, since the sweep itself runs one per core', () => {
    const argv = checkArguments({ families: ['ssd'], properties: ['causality'] }, 'sequential-f64', 7, 'out/dir');
    expect(argv.slice(0, 3)).toEqual(['check', '--only', 'sequential-f64']);
    expect(argv[argv.indexOf('--jobs') + 1]).toBe('1');
    expect(argv[argv.indexOf('--seed') + 1]).toBe('7');
    expect(argv).toEqual(expect.arrayContaining(['--deep', '--no-fixtures', '--family', 'ssd', '--property', 'causality', '--out', 'out/dir']));
    expect(argv).not.toContain('--cell-time-limit');
  });

  it('sweeps --impl modules and --command testees: each check loads them, --all adds the shipped ones', () => {
    const args = parseSweepArguments(['--impl', 'my/impl.ts', '--command', 'python3 t.py --float32', '--all', '--out', 'o']);
    expect(args).toMatchObject({ impl: [path.resolve('my/impl.ts')], testeeCommands: ['python3 t.py --float32'], all: true, out: path.resolve('o') });
    const argv = checkArguments(args, 'mine', 3, 'out/dir');
    expect(argv.slice(0, 8)).toEqual(['check', '--impl', path.resolve('my/impl.ts'), '--command', 'python3 t.py --float32', '--all', '--only', 'mine']);
    expect(parseSweepArguments([])).toMatchObject({ impl: [], testeeCommands: [], all: false });
    expect(() => parseSweepArguments(['--all'])).toThrow('--all: expected with --impl or --command (without them every shipped implementation runs)');
    expect(() => selectImplementations(['mine'], ['x'], [], 'loaded')).toThrow("--only: no loaded implementation 'x'; loaded: mine");
  });

  it('passes --runs, --max-length and --timeout to every check, which names the flag of a bad value', () => {
    const args = parseSweepArguments(['--timeout', '300000', '--runs', '50', '--max-length', '512']);
    expect(args.checkFlags).toEqual(['--runs', '50', '--max-length', '512', '--timeout', '300000']);
    expect(checkArguments(args, 'x', 1, 'o').slice(-6)).toEqual(['--runs', '50', '--max-length', '512', '--timeout', '300000']);
    expect(parseSweepArguments([]).checkFlags).toEqual([]);
    expect(() => parseSweepArguments(['--runs', '0'])).toThrow("--runs: expected a positive integer, got '0'");
    expect(() => parseSweepArguments(['--timeout', '1s'])).toThrow("--timeout: expected a positive integer, got '1s'");
    expect(() => parseSweepArguments(['--max-length=-3'])).toThrow("--max-length: expected a non-negative integer, got '-3'");
  });

  it('while runs are in flight, a status line names each with the cells it has ended', () => {
    expect(lastCellCount('reports written\n[3/24] x · ssd · vjp: pass (200 runs)\n[4/24] x · ssd · vjp-zero: pass\n')).toEqual({ ended: 4, of: 24 });
    expect(lastCellCount('sweep: nothing yet\n')).toBeUndefined();
    const progress: Parameters<typeof statusLine>[0] = new Map([
      ['1 a', { implementation: 'a', seed: 1, cell: { ended: 4, of: 24 } }],
      ['2 b', { implementation: 'b', seed: 2 }],
    ]);
    expect(statusLine(progress, 7, 40, 90_000)).toBe('… 7 of 40 runs ended, 1.5 min elapsed; running: a seed 1, cell 4 of 24; b seed 2, starting\n');
    // With the peak memory of a run's process so far, where it is known.
    progress.set('3 c', { implementation: 'c', seed: 3, cell: { ended: 9, of: 110 }, peakMemory: () => 8.6e9 });
    expect(statusLine(progress, 7, 40, 90_000)).toContain('; c seed 3, cell 9 of 110, peak memory 8.6 GB\n');
  });

  it('--resume tells user modules and commands apart by the module content and the command text', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sweep-revision-'));
    const module = path.join(dir, 'impl.ts');
    await writeFile(module, 'export default 1;\n');
    const none = { impl: [], testeeCommands: [], all: false };
    expect(sweptRevision(none)).toBe(runCodeRevision());
    const first = sweptRevision({ ...none, impl: [module] });
    expect(first.startsWith(`${runCodeRevision()}, yours `)).toBe(true);
    expect(sweptRevision({ ...none, impl: [module] })).toBe(first);
    expect(sweptRevision({ ...none, impl: [module], all: true })).not.toBe(first);
    expect(sweptRevision({ ...none, testeeCommands: ['a'] })).not.toBe(sweptRevision({ ...none, testeeCommands: ['b'] }));
    await writeFile(module, 'export default 2;\n');
    expect(sweptRevision({ ...none, impl: [module] })).not.toBe(first);
  });

  it('passes --cell-time-limit to every check, and names the flag of a bad value', () => {
    const args = parseSweepArguments(['--cell-time-limit', '600000']);
    expect(args.cellTimeLimitMs).toBe(600_000);
    const argv = checkArguments(args, 'sequential-f64', 7, 'out/dir');
    expect(argv[argv.indexOf('--cell-time-limit') + 1]).toBe('600000');
    expect(parseSweepArguments(['--cell-time-limit', '0']).cellTimeLimitMs).toBe(0);
    expect(parseSweepArguments([]).cellTimeLimitMs).toBeUndefined();
    for (const bad of ['-1', '10s', '']) expect(() => parseSweepArguments([`--cell-time-limit=${bad}`])).toThrow(`--cell-time-limit: expected a time in ms, 0 for none, got '${bad}'`);
  });

  it('the summary lists every failing cell with its message and replay, and counts a crash', () => {
    const failure = { implementation: 'x', seed: 2, family: 'lti-ssm', property: 'causality', outcome: 'fail', message: 'changing the inputs at t = 1 changed y[0, 1, 0]', replay: 'scan-conformance check --seed 2' };
    const summary: SweepSummary = {
      command: 'scan-conformance check --only <name> --deep --no-fixtures --seed <s>',
      revision: 'abc',
      commit: 'c0',
      complete: true,
      reused: 0,
      seeds: [1, 2],
      implementations: ['x'],
      families: [],
      properties: [],
      jobs: 2,
      wallMs: 1000,
      unexpectedFailures: 2,
      runs: [
        { ...RAN, implementation: 'x', seed: 1, exitCode: null, durationMs: 10, status: 'crashed', cells: 0, failures: [], error: 'no report (exit code null)', log: 'l1' },
        { ...RAN, implementation: 'x', seed: 2, exitCode: 1, durationMs: 20, status: 'ok', cells: 12, failures: [failure], log: 'l2' },
      ],
      failures: [failure],
    };
    const markdown = sweepMarkdown(summary);
    expect(markdown).toContain('❌ 2 of 2 runs failed');
    expect(markdown).toContain('| x | 💥 0.0 s | ❌ 0.0 s |');
    expect(markdown).toContain('changing the inputs at t = 1 changed y[0, 1, 0]');
    expect(markdown).toContain('replay: scan-conformance check --seed 2');
    expect(markdown).toContain('no report (exit code null)');
  });

  it('a summary written before the last run ends says INCOMPLETE, never PASS', () => {
    const partial = sweepMarkdown(passing([1, 2], [1], false));
    expect(partial).toContain('INCOMPLETE ⏸ 1 of 2 runs ended, none failed so far');
    expect(partial).not.toContain('PASS');
    expect(partial).toContain('abc (commit c0)');
    expect(sweepMarkdown(passing([1, 2], [1, 2], true))).toContain('PASS ✅ no unexpected failure');
    // An implementation with no run yet has no mean time, not 0.0 s.
    const notYet = sweepMarkdown({ ...passing([1, 2], [1], false), implementations: ['x', 'y'] });
    expect(notYet).toContain('| x | ✅ 1.0 s |  | 1.0 s |');
    expect(notYet).toContain('| y |  |  |  |');
    // The peak memory column: the largest of an implementation's runs that measured it, empty when none did.
    const measured = passing([1, 2], [1, 2], true);
    const runs = [{ ...measured.runs[0], peakMemoryBytes: 2.54e9 }, { ...measured.runs[1], peakMemoryBytes: 1.2e9 }];
    expect(sweepMarkdown({ ...measured, runs })).toMatch(/^\| x \| ✅ 1\.0 s \| ✅ 1\.0 s \| 1\.0 s \| 2\.5 GB \|$/m);
    expect(sweepMarkdown({ ...measured, runs: [{ ...measured.runs[0], peakMemoryBytes: 61e6 }, measured.runs[1]] })).toMatch(/\| 1\.0 s \| 61 MB \|$/m);
    expect(sweepMarkdown(measured)).toMatch(/\| 1\.0 s \|  \|$/m);
  });

  it('--resume reuses a run only of the same implementation, seed, filters and code revision that ended with a report', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'sweep-resume-'));
    const run: SweepRun = { ...RAN, families: ['ssd'], implementation: 'a/b', seed: 3, exitCode: 0, durationMs: 5, status: 'ok', cells: 1, failures: [], log: 'l' };
    const file = path.join(out, 'runs', 'a_b', 'seed-3', 'run.json');
    expect(await reusableRun(out, 'a/b', 3, { families: ['ssd'], properties: [] }, 'abc')).toBeUndefined();
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify(run));
    expect(await reusableRun(out, 'a/b', 3, { families: ['ssd'], properties: [] }, 'abc')).toEqual(run);
    expect(await reusableRun(out, 'a/b', 3, { families: ['ssd'], properties: [] }, 'def')).toBeUndefined();
    expect(await reusableRun(out, 'a/b', 3, { families: [], properties: [] }, 'abc')).toBeUndefined();
    expect(await reusableRun(out, 'a/b', 4, { families: ['ssd'], properties: [] }, 'abc')).toBeUndefined();
    // A run without a recorded limit ran with the default; another limit is another run.
    expect(await reusableRun(out, 'a/b', 3, { families: ['ssd'], properties: [], cellTimeLimitMs: 120_000 }, 'abc')).toEqual(run);
    expect(await reusableRun(out, 'a/b', 3, { families: ['ssd'], properties: [], cellTimeLimitMs: 600_000 }, 'abc')).toBeUndefined();
    await writeFile(file, JSON.stringify({ ...run, cellTimeLimitMs: 600_000 }));
    expect(await reusableRun(out, 'a/b', 3, { families: ['ssd'], properties: [], cellTimeLimitMs: 600_000 }, 'abc')).toEqual({ ...run, cellTimeLimitMs: 600_000 });
    expect(await reusableRun(out, 'a/b', 3, { families: ['ssd'], properties: [] }, 'abc')).toBeUndefined();
    // Other --runs, --max-length or --timeout: another run; none recorded: none given.
    await writeFile(file, JSON.stringify({ ...run, checkFlags: ['--runs', '50'] }));
    expect(await reusableRun(out, 'a/b', 3, { families: ['ssd'], properties: [], checkFlags: ['--runs', '50'] }, 'abc')).toEqual({ ...run, checkFlags: ['--runs', '50'] });
    expect(await reusableRun(out, 'a/b', 3, { families: ['ssd'], properties: [], checkFlags: ['--runs', '60'] }, 'abc')).toBeUndefined();
    expect(await reusableRun(out, 'a/b', 3, { families: ['ssd'], properties: [] }, 'abc')).toBeUndefined();
    await writeFile(file, JSON.stringify(run));
    expect(await reusableRun(out, 'a/b', 3, { families: ['ssd'], properties: [], checkFlags: [] }, 'abc')).toEqual(run);
    expect(await reusableRun(out, 'a/b', 3, { families: ['ssd'], properties: [], checkFlags: ['--timeout', '5'] }, 'abc')).toBeUndefined();
    await writeFile(file, JSON.stringify({ ...run, exitCode: null, status: 'crashed', error: 'no report (exit code null)' }));
    expect(await reusableRun(out, 'a/b', 3, { families: ['ssd'], properties: [] }, 'abc')).toBeUndefined();
    await writeFile(file, '{"implementation": "a/b", "seed": 3');
    expect(await reusableRun(out, 'a/b', 3, { families: ['ssd'], properties: [] }, 'abc')).toBeUndefined();
  });

  it('lists the passing cells short of their cases, and why: the cell time limit, declined cases, or neither', async () => {
    const cell = (property: string, outcome: string, runs: number, declined: number, durationMs: number) =>
      ({ implementation: 'x', family: 'ssd', property, outcome, runs, declined, durationMs }) as unknown as CellResult;
    const report = {
      settings: { runs: 200 },
      implementations: [
        {
          name: 'x',
          cells: [
            cell('conformance', 'pass', 200, 0, 9_000),
            cell('vjp-batch-permutation', 'pass', 91, 0, 120_400),
            cell('packed-sequences', 'pass', 160, 10_001, 30_000),
            cell('causality', 'pass', 150, 0, 1_000),
            cell('fixtures', 'pass', 13, 0, 500),
            cell('linearity', 'fail', 3, 0, 800),
          ],
        },
      ],
    } as unknown as ConformanceReport;
    const short = shortCells(report, 'x');
    expect(short.map((c) => [c.property, c.runs, c.reason])).toEqual([
      ['vjp-batch-permutation', 91, 'time limit'],
      ['packed-sequences', 160, 'declined cases'],
      ['causality', 150, 'ended early'],
    ]);
    const summary = passing([1], [1], true);
    const markdown = sweepMarkdown({ ...summary, runs: [{ ...summary.runs[0], short }] });
    expect(markdown).toContain('## Passing cells short of their cases');
    expect(markdown).toContain('- x, seed 1: ssd · vjp-batch-permutation, 91 of 200 cases (the 2.0 min cell time limit)');
    expect(markdown).toContain('- x, seed 1: ssd · packed-sequences, 160 of 200 cases (10001 declined cases)');
    expect(sweepMarkdown(summary)).not.toContain('short of their cases');

    // A run.json of an older sweep script has no short cells: --resume reads them from the run's report.
    const out = await mkdtemp(path.join(os.tmpdir(), 'sweep-short-'));
    const folder = path.join(out, 'runs', 'x', 'seed-1');
    await mkdir(folder, { recursive: true });
    await writeFile(path.join(folder, 'run.json'), JSON.stringify(summary.runs[0]));
    await writeFile(path.join(folder, 'report.json'), JSON.stringify(report));
    expect((await reusableRun(out, 'x', 1, { families: [], properties: [] }, 'abc'))?.short).toEqual(short);
  });

  it('a report that records its cell time limit marks the cut cells itself: no guess from durations', () => {
    const cell = (property: string, runs: number, durationMs: number, cutAtTimeLimitMs?: number) =>
      ({ implementation: 'x', family: 'ssd', property, outcome: 'pass', runs, declined: 0, durationMs, ...(cutAtTimeLimitMs !== undefined && { cutAtTimeLimitMs }) }) as unknown as CellResult;
    const report = {
      settings: { runs: 200, cellTimeLimitMs: 600_000 },
      implementations: [{ name: 'x', cells: [cell('vjp', 120, 600_010, 600_000), cell('vjp-zero', 150, 130_000)] }],
    } as unknown as ConformanceReport;
    expect(shortCells(report, 'x').map((c) => [c.property, c.reason])).toEqual([
      ['vjp', 'time limit'],
      ['vjp-zero', 'ended early'],
    ]);
    const summary = passing([1], [1], true);
    const markdown = sweepMarkdown({ ...summary, runs: [{ ...summary.runs[0], cellTimeLimitMs: 600_000, short: shortCells(report, 'x') }] });
    expect(markdown).toContain('- x, seed 1: ssd · vjp, 120 of 200 cases (the 10.0 min cell time limit)');
  });

  it('runs a deep check per seed, leaves run.json, and --resume then runs nothing again', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'sweep-e2e-'));
    // Two cells, the second long enough (20 selective-scan cases up to L 4096) for a status line to name the first ended.
    const argv = ['--only', 'sequential-f64', '--seeds', '1', '--family', 'prefix-sum', '--family', 'selective-scan', '--property', 'zero-input', '--runs', '20', '--jobs', '1', '--out', out];
    const printed = new PassThrough();
    const chunks: Buffer[] = [];
    printed.on('data', (c: Buffer) => chunks.push(c));
    // A status line every 50 ms while the run is in flight (every minute by default).
    expect(await sweep(argv, printed, 50)).toBe(0);
    // Linux says the check process's peak memory (/proc/<pid>/status); elsewhere the line has none.
    const peak = HAS_PROC ? ', peak memory \\d+ MB' : '';
    expect(Buffer.concat(chunks).toString()).toMatch(new RegExp(`^… 0 of 1 runs ended, [\\d.]+ s elapsed; running: sequential-f64 seed 1, cell 1 of 2${peak}$`, 'm'));
    const summary = JSON.parse(await readFile(path.join(out, 'sweep.json'), 'utf8')) as SweepSummary;
    expect(summary).toMatchObject({ complete: true, reused: 0, unexpectedFailures: 0, revision: runCodeRevision() });
    expect(summary.runs).toHaveLength(1);
    expect(summary.runs[0]).toMatchObject({ implementation: 'sequential-f64', seed: 1, exitCode: 0, status: 'ok', cells: 2 });
    // A node process running the suite holds tens of MB at least; without /proc nothing is measured.
    if (HAS_PROC) expect(summary.runs[0].peakMemoryBytes).toBeGreaterThan(30e6);
    else expect(summary.runs[0].peakMemoryBytes).toBeUndefined();
    const report = path.join(out, 'runs', 'sequential-f64', 'seed-1', 'report.json');
    const before = (await stat(report)).mtimeMs;

    const again = new PassThrough();
    const text: Buffer[] = [];
    again.on('data', (c: Buffer) => text.push(c));
    expect(await sweep([...argv, '--resume'], again)).toBe(0);
    expect(Buffer.concat(text).toString()).toContain('1 reused from earlier runs on this revision, 0 to run');
    expect((await stat(report)).mtimeMs).toBe(before);
    const resumed = JSON.parse(await readFile(path.join(out, 'sweep.json'), 'utf8')) as SweepSummary;
    expect(resumed).toMatchObject({ complete: true, reused: 1, unexpectedFailures: 0 });
    expect(await readFile(path.join(out, 'sweep.md'), 'utf8')).toContain('PASS ✅ no unexpected failure');
    expect(Buffer.concat(chunks).toString()).toMatch(/\[1\/1\] sequential-f64 seed 1: pass \(2 cells, ok\)/);

    // --summary prints the summary of the runs there and runs nothing, writing no file.
    const sweepFile = path.join(out, 'sweep.md');
    const [reportTime, sweepTime] = [(await stat(report)).mtimeMs, (await stat(sweepFile)).mtimeMs];
    const printedSummary = new PassThrough();
    const summaryText: Buffer[] = [];
    printedSummary.on('data', (c: Buffer) => summaryText.push(c));
    expect(await sweep([...argv.filter((a) => a !== '--resume'), '--summary'], printedSummary)).toBe(0);
    const markdown = Buffer.concat(summaryText).toString();
    expect(markdown).toMatch(/^# Deep sweep\n\n\*\*PASS ✅ no unexpected failure\*\* · 1 implementation\(s\) × seeds 1 · 1 jobs \(1 runs reused/);
    expect(markdown).toMatch(/\| sequential-f64 \| ✅ [\d.]+ s \|/);
    expect([(await stat(report)).mtimeMs, (await stat(sweepFile)).mtimeMs]).toEqual([reportTime, sweepTime]);
    // With seeds not run yet, it says so, and is no verdict.
    const partial = new PassThrough();
    const partialText: Buffer[] = [];
    partial.on('data', (c: Buffer) => partialText.push(c));
    const twoSeeds = argv.map((a, i) => (argv[i - 1] === '--seeds' ? '1-2' : a));
    // No verdict is no pass: a script that reads the exit code must not take it for one.
    expect(await sweep([...twoSeeds, '--summary'], partial)).toBe(1);
    expect(Buffer.concat(partialText).toString()).toContain('INCOMPLETE ⏸ 1 of 2 runs ended, none failed so far');
  });

  it("a run that fails without a failing cell says check's verdict: here nothing was checked", async () => {
    expect(checkVerdict('[1/1] x · ssd · step: pass\nFAIL ❌ 1 unexpected failure: nothing was checked · 1 implementation, 0 cells\n')).toBe(
      'FAIL ❌ 1 unexpected failure: nothing was checked · 1 implementation, 0 cells',
    );
    expect(checkVerdict('crashed before a verdict\n')).toBeUndefined();
    const out = await mkdtemp(path.join(os.tmpdir(), 'sweep-no-cell-'));
    // The module implements prefix-sum alone: --family linear-recurrence leaves it no cell.
    const correct = path.join(import.meta.dirname, 'modules', 'correct.ts');
    const printed = new PassThrough();
    const chunks: Buffer[] = [];
    printed.on('data', (c: Buffer) => chunks.push(c));
    expect(await sweep(['--impl', correct, '--family', 'linear-recurrence', '--seeds', '1', '--jobs', '1', '--out', out], printed)).toBe(1);
    const [run] = (JSON.parse(await readFile(path.join(out, 'sweep.json'), 'utf8')) as SweepSummary).runs;
    expect(run.error).toMatch(/^exit code 1 without a failing cell \(status ok\): FAIL ❌ 1 unexpected failure: nothing was checked: no cell ran .*; see .*output\.log$/);
    expect(Buffer.concat(chunks).toString()).toContain('nothing was checked');
  });

  it("a run whose check dies before its report is crashed, whatever report an earlier sweep left in its folder", async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'sweep-stale-'));
    const dir = path.join(out, 'runs', 'test_kills-its-process', 'seed-1');
    await mkdir(dir, { recursive: true });
    const stale = { implementations: [{ name: 'test/kills-its-process', status: 'ok', cells: [{ family: 'linear-recurrence', property: 'conformance', outcome: 'pass', runs: 200, declined: 0, durationMs: 1 }] }] };
    await writeFile(path.join(dir, 'report.json'), JSON.stringify(stale));
    const kills = path.join(import.meta.dirname, 'modules', 'kills-its-process.ts');
    expect(await sweep(['--impl', kills, '--only', 'test/kills-its-process', '--family', 'linear-recurrence', '--seeds', '1', '--jobs', '1', '--out', out], new PassThrough())).toBe(1);
    const [run] = (JSON.parse(await readFile(path.join(out, 'sweep.json'), 'utf8')) as SweepSummary).runs;
    expect(run).toMatchObject({ exitCode: 70, status: 'crashed', cells: 0 });
    expect(run.error).toMatch(/^no report \(exit code 70\): /);
  });

  it('scan-conformance sweep --impl … --command …: a wrong module fails with its replay, a correct one and a testee pass', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'sweep-user-'));
    const wrong = path.join(import.meta.dirname, 'modules', 'wrong.ts');
    const correct = path.join(import.meta.dirname, 'modules', 'correct.ts');
    const testee = `node ${path.join(import.meta.dirname, '..', '..', 'examples', 'testees', 'node', 'testee.mjs')}`;
    const printed = new PassThrough();
    const chunks: Buffer[] = [];
    printed.on('data', (c: Buffer) => chunks.push(c));
    const argv = ['sweep', '--impl', wrong, '--impl', correct, '--command', testee, '--seeds', '1', '--family', 'prefix-sum', '--property', 'conformance', '--runs', '40', '--jobs', '2', '--out', out];
    expect(await main(argv, { stdout: printed, stderr: printed })).toBe(1);
    const summary = JSON.parse(await readFile(path.join(out, 'sweep.json'), 'utf8')) as SweepSummary;
    expect(summary.implementations).toEqual(['test/off-by-one-prefix-sum', 'test/correct-prefix-sum', 'node-example-f64']);
    expect(summary.revision).toBe(sweptRevision({ impl: [wrong, correct], testeeCommands: [testee], all: false }));
    const byName = new Map(summary.runs.map((r) => [r.implementation, r]));
    expect(byName.get('test/correct-prefix-sum')).toMatchObject({ exitCode: 0, status: 'ok', cells: 1, failures: [], checkFlags: ['--runs', '40'] });
    const correctReport = JSON.parse(await readFile(path.join(out, 'runs', 'test_correct-prefix-sum', 'seed-1', 'report.json'), 'utf8')) as ConformanceReport;
    expect(correctReport.implementations[0].cells[0]).toMatchObject({ outcome: 'pass', runs: 40 });
    expect(byName.get('node-example-f64')).toMatchObject({ exitCode: 0, status: 'ok', cells: 1, failures: [] });
    const failure = byName.get('test/off-by-one-prefix-sum')!.failures;
    expect(failure).toHaveLength(1);
    expect(failure[0]).toMatchObject({ family: 'prefix-sum', property: 'conformance', outcome: 'fail' });
    expect(failure[0].replay).toMatch(/^npx scan-conformance check --impl \S*test\/cli\/modules\/wrong\.ts --only test\/off-by-one-prefix-sum --family prefix-sum --property conformance --seed 1 --path /);
    expect(Buffer.concat(chunks).toString()).toContain('FAIL ❌ 1 of 3 runs failed');
    // Usage errors name the flag, through the command line too.
    const errors = new PassThrough();
    const errorText: Buffer[] = [];
    errors.on('data', (c: Buffer) => errorText.push(c));
    expect(await main(['sweep', '--impl', path.join(out, 'missing.ts')], { stdout: errors, stderr: errors })).toBe(2);
    expect(Buffer.concat(errorText).toString()).toMatch(/--impl .*missing\.ts: expected a module file, found none at .*\nRun 'scan-conformance sweep --help' for the flags\./);
    // A module that throws on import, or a testee that does not start, is named with its reason before any run.
    errorText.length = 0;
    const throwing = path.join(import.meta.dirname, 'modules', 'throws-on-import.ts');
    expect(await main(['sweep', '--impl', throwing, '--command', 'no-such-program-scan-conformance', '--out', path.join(out, 'none')], { stdout: errors, stderr: errors })).toBe(2);
    const said = Buffer.concat(errorText).toString();
    expect(said).toMatch(/throws-on-import\.ts: the module failed to load: .*this module cannot be loaded/);
    expect(said).toContain('no-such-program-scan-conformance: the testee did not start');
    await expect(stat(path.join(out, 'none'))).rejects.toThrow(/ENOENT/);
  });
});
