/** The deep sweep's command line and summary (scripts/sweep.ts); the runs themselves are deep and left to the nightly job. */
import { describe, expect, it } from 'vitest';
import { checkArguments, parseSeeds, parseSweepArguments, selectImplementations, sweepMarkdown, type SweepSummary } from '../../scripts/sweep.ts';

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
  });

  it('the summary lists every failing cell with its message and replay, and counts a crash', () => {
    const failure = { implementation: 'x', seed: 2, family: 'lti-ssm', property: 'causality', outcome: 'fail', message: 'changing the inputs at t = 1 changed y[0, 1, 0]', replay: 'scan-conformance check --seed 2' };
    const summary: SweepSummary = {
      command: 'scan-conformance check --only <name> --deep --no-fixtures --seed <s>',
      seeds: [1, 2],
      implementations: ['x'],
      families: [],
      properties: [],
      jobs: 2,
      wallMs: 1000,
      unexpectedFailures: 2,
      runs: [
        { implementation: 'x', seed: 1, exitCode: null, durationMs: 10, status: 'crashed', cells: 0, failures: [], error: 'no report (exit code null)', log: 'l1' },
        { implementation: 'x', seed: 2, exitCode: 1, durationMs: 20, status: 'ok', cells: 12, failures: [failure], log: 'l2' },
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
});
