/**
 * The scan-conformance command line: flags and their error messages, exit codes (0 clean, 1
 * unexpected failure, 2 usage), crashing modules reported while the others go on, reports written
 * where --out says. Most cases call main() in-process; two spawn the real program for its exit code.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HELP, parseCliArguments, UsageError } from '../../scripts/cli-arguments.ts';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../../protocol/process-implementation.ts';
import { DEFAULT_REPORT_DIR, DEFAULT_RUN_TIMEOUT_MS, DEFAULT_SEED, ENVIRONMENT, MODES } from '../../suite/settings.ts';
import { ROOT, runCli as run } from './run-cli.ts';
import type { ConformanceReport } from '../../suite/results.ts';

const MODULES = 'test/cli/modules';
const TINY = ['--family', 'prefix-sum', '--property', 'conformance', '--property', 'zero-input', '--runs', '3', '--no-fixtures', '--max-length', '64'];

let out: string;
beforeAll(async () => {
  out = await mkdtemp(path.join(os.tmpdir(), 'scan-conformance-cli-'));
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});



describe('flags', () => {
  it.each([
    [['check', '--runs', '0'], "--runs: expected a positive integer, got '0'"],
    [['check', '--runs', 'many'], "--runs: expected a positive integer, got 'many'"],
    [['check', '--seed', '1.5'], "--seed: expected an integer, got '1.5'"],
    [['check', '--family', 'cumsum'], "--family: expected one of prefix-sum, linear-recurrence, selective-scan, lti-ssm, ssd, mamba3-siso, got 'cumsum'"],
    [['check', '--property', 'speed'], "--property: expected one of fixtures, conformance,"],
    [['check', '--frobnicate'], "check: unknown flag '--frobnicate'; expected one of --impl,"],
    [['check', '--out'], '--out: expected a value, got the end of the command line'],
    [['check', '--impl', '--deep'], "--impl: expected a value, got '--deep'"],
    [['check', '--path', '3:1'], '--path: expected --seed too'],
    [['check', '--path', 'x', '--seed', '1'], "--path: expected a fast-check path such as '3:1:0', got 'x'"],
    [['check', '--fixtures', 'f', '--no-fixtures'], '--fixtures: expected either --fixtures <dir> or --no-fixtures, got both'],
    [['check', '--fixtures', ''], "--fixtures: expected a folder, got ''"],
    [['check', '--fixture', 'prefix-sum/generic/L00008', '--no-fixtures'], '--fixture: expected fixtures to replay, got --no-fixtures too'],
    [['check', '--case', ''], "--case: expected a .safetensors file, got ''"],
    [['check', '--runs', '3', '--runs', '4'], "--runs: expected at most one value, got 2 ('3', '4')"],
    [['check', '--deep=yes'], "--deep: expected no value, got 'yes'"],
    [['check', '--help=yes'], "--help: expected no value, got 'yes'"],
    [['check', 'fast'], "check: expected a flag (--name), got 'fast'"],
    [['check', '-x'], "check: expected a flag (--name), got '-x'"],
    [['check', '--', '--runs', '3'], "check: expected a flag (--name), got '--'"],
    [['list', '--runs', '3'], "list: unknown flag '--runs'; expected one of --impl, --command, --only, --all"],
    [['verify'], "command: expected one of check, list, browser, merge, fixtures, sweep, help, version, got 'verify'"],
    [['check', '--case', 'c.safetensors', '--fixtures', 'f'], '--case: expected the case file(s) alone (a case replaces the fixtures folders), got --fixtures too'],
    [['check', '--case', 'c.safetensors', '--property', 'scaling'], '--case: expected no --property (a case is replayed against its expected outputs), got --property scaling'],
    [['check', '--shard', '3/2'], "--shard: expected i/n with 1 ≤ i ≤ n (shard i of n, e.g. 2/3), got '3/2'"],
    [['check', '--shard', '1/2', '--jobs', '2'], '--jobs: expected either --jobs (shards in child processes) or --shard (one shard), got both'],
    [['check', '--shard-file', 'r.json'], '--shard-file: expected --shard i/n too, got --shard-file alone'],
    [['check', '--shard', '1/2', '--shard-file', ''], "--shard-file: expected a file, got ''"],
    [['check', '--timings', ''], "--timings: expected an earlier report.json, got ''"],
    [['merge'], 'merge: expected the report.json of every shard, got none'],
    [['merge', 'a.json', '--frobnicate'], "merge: unknown flag '--frobnicate'; expected report.json files, --out <dir> and --allow-incomplete"],
    [['merge', 'a.json', '--allow-incomplete=yes'], "--allow-incomplete: expected no value, got 'yes'"],
    [['merge', 'a.json', '--out'], '--out: expected a folder, got the end of the command line'],
    [['merge', 'a.json', '--out', 'x', '--out', 'y'], "--out: expected at most one value, got 'x' and 'y'"],
    [['browser', '--implementation', ''], "--implementation: expected an ES module file or URL, got ''"],
    [['browser', '--implementation', 'kernel.ts'], "--implementation: expected a JavaScript ES module (a .js or .mjs file, which the browser imports as is, or an http(s) URL), got 'kernel.ts'"],
    [['browser', '--command', ''], "--command: expected a non-empty value, got ''"],
    [['browser', '--browser', ''], "--browser: expected the path of a Chromium executable, got ''"],
    [['browser', '--out', ''], "--out: expected a folder, got ''"],
    [['browser', '--port', '70000'], "--port: expected a port number from 0 to 65535, got '70000'"],
    [['browser', '--family', 'cumsum'], "--family: expected one of prefix-sum,"],
    [['browser', '--property', 'speed'], "--property: expected one of fixtures,"],
  ])('%j is refused with a message naming the flag', (argv, message) => {
    expect(() => parseCliArguments(argv)).toThrow(UsageError);
    expect(() => parseCliArguments(argv)).toThrow(message);
  });

  it('parses a full check command line', () => {
    expect(
      parseCliArguments(['check', '--impl', 'a.ts', '--impl=b.ts', '--command', 'python3 t.py', '--only', 'x', '--family', 'lti-ssm', '--runs', '5', '--seed', '-7', '--path', '2:0', '--deep', '--out', 'o', '--fixtures', 'fx', '--fixtures', 'fy', '--fixture', 'id1', '--timeout', '100']),
    ).toEqual({
      command: 'check',
      impl: ['a.ts', 'b.ts'],
      testeeCommands: ['python3 t.py'],
      all: false,
      only: ['x'],
      families: ['lti-ssm'],
      runs: 5,
      seed: -7,
      path: '2:0',
      deep: true,
      out: 'o',
      fixtures: ['fx', 'fy'],
      fixtureIds: ['id1'],
      timeoutMs: 100,
      argv: ['--impl', 'a.ts', '--impl=b.ts', '--command', 'python3 t.py', '--only', 'x', '--family', 'lti-ssm', '--runs', '5', '--seed', '-7', '--path', '2:0', '--deep', '--out', 'o', '--fixtures', 'fx', '--fixtures', 'fy', '--fixture', 'id1', '--timeout', '100'],
    });
    expect(parseCliArguments([])).toEqual({ command: 'help' });
    expect(parseCliArguments(['check', '--help'])).toEqual({ command: 'help' });
    expect(parseCliArguments(['fixtures', 'generate', '--family', 'prefix-sum'])).toEqual({ command: 'fixtures', argv: ['generate', '--family', 'prefix-sum'] });
    expect(parseCliArguments(['check', '--case', 'a.safetensors', '--case', 'b.safetensors'])).toMatchObject({ cases: ['a.safetensors', 'b.safetensors'] });
    expect(parseCliArguments(['check', '--no-fixtures', '--allow-empty', '--max-length=0', '-h'])).toEqual({ command: 'help' });
    expect(parseCliArguments(['check', '--no-fixtures', '--allow-empty', '--max-length=0', '--seed=-3'])).toMatchObject({ fixtures: false, allowEmpty: true, maxLength: 0, seed: -3 });
    expect(parseCliArguments(['list', '--all', '--impl', 'a.ts'])).toEqual({ command: 'list', impl: ['a.ts'], testeeCommands: [], all: true, only: [] });
  });

  it('--help states the defaults of suite/settings.ts', () => {
    expect(HELP).toContain(`(default ${MODES.quick.runs} quick, ${MODES.deep.runs} deep; ${ENVIRONMENT.runs})`);
    expect(HELP).toContain(`(default ${DEFAULT_SEED}; ${ENVIRONMENT.seed})`);
    expect(HELP).toContain(`(default ${MODES.quick.maxLength} quick, ${MODES.deep.maxLength} deep)`);
    expect(HELP).toContain(`(default ${DEFAULT_RUN_TIMEOUT_MS}; a testee's own request timeout, ${DEFAULT_REQUEST_TIMEOUT_MS} by default, is set to it)`);
    expect(HELP).toContain(`(default ${DEFAULT_REPORT_DIR}/)`);
    expect(parseCliArguments(['check'])).toMatchObject({ out: DEFAULT_REPORT_DIR });
    // The suite's limit of a call must outlast the testee's own timeout, which restarts the testee cleanly.
    expect(DEFAULT_RUN_TIMEOUT_MS).toBeGreaterThan(DEFAULT_REQUEST_TIMEOUT_MS);
  });
});

describe('check', () => {
  it('exits 2 with the message for a usage error: a missing module, an unknown --only, a bad fixtures folder', async () => {
    const missing = await run(['check', '--impl', `${MODULES}/nope.ts`, ...TINY]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/scan-conformance: --impl test\/cli\/modules\/nope\.ts: expected a module file, found none at .*nope\.ts\nRun 'scan-conformance --help'/);
    const only = await run(['check', '--impl', `${MODULES}/correct.ts`, '--only', 'nobody', ...TINY]);
    expect(only.code).toBe(2);
    expect(only.stderr).toContain("--only: expected the name of an implementation (test/correct-prefix-sum), got 'nobody'");
    const fixtures = await run(['check', '--impl', `${MODULES}/correct.ts`, '--fixtures', out, '--runs', '1']);
    expect(fixtures.code).toBe(2);
    expect(fixtures.stderr).toMatch(/--fixtures: expected a fixtures folder with a valid manifest\.json, got .*manifest\.json: expected a fixture manifest/);
  });

  it('exits 2 naming the flag for a --case file that is no case, a --fixture id no manifest lists, a module given twice, a missing browser, a merge input that is no report', async () => {
    const junk = path.join(out, 'junk.safetensors');
    await writeFile(junk, 'not safetensors');
    const notACase = await run(['check', '--impl', `${MODULES}/correct.ts`, '--case', junk]);
    expect(notACase.code).toBe(2);
    expect(notACase.stderr).toContain('--case: expected a counterexample or fixture file (safetensors in the fixture format), got ');
    const unknownId = await run(['check', '--impl', `${MODULES}/correct.ts`, '--fixture', 'prefix-sum/generic/L99999', '--runs', '1']);
    expect(unknownId.code).toBe(2);
    expect(unknownId.stderr).toMatch(/--fixture: expected the id of a case in .*fixtures\/manifest\.json, got 'prefix-sum\/generic\/L99999'/);
    const twice = await run(['list', '--impl', `${MODULES}/correct.ts`, '--impl', `${MODULES}/correct.ts`]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain("implementation name 'test/correct-prefix-sum' is registered twice; names must be unique");
    const noBrowser = await run(['browser', '--headless', '--browser', path.join(out, 'no-chromium-here')]);
    expect(noBrowser.code).toBe(2);
    expect(noBrowser.stderr).toContain('--browser: expected a Chromium executable, got ');
    const notAReport = path.join(out, 'not-a-report.json');
    await writeFile(notAReport, 'not JSON');
    const merge = await run(['merge', notAReport, '--out', path.join(out, 'merged')]);
    expect(merge.code).toBe(2);
    expect(merge.stderr).toContain(`merge: expected a shard's report.json, got ${notAReport}: `);
  });

  it('list names each implementation with its precision and, per family, its error model, step and vjp', async () => {
    const listed = await run(['list', '--impl', `${MODULES}/correct.ts`, '--impl', 'implementations/sequential/index.ts']);
    expect(listed.code).toBe(0);
    const lines = listed.stdout.split('\n');
    expect(lines[0]).toMatch(/^implementation +precision +families \(error model; step and vjp where given\)$/);
    expect(lines).toContainEqual(expect.stringMatching(/^test\/correct-prefix-sum +float32 +prefix-sum \(componentwise\)$/));
    expect(lines).toContainEqual(expect.stringMatching(/^sequential-f64 +float64 +prefix-sum \(componentwise, step, vjp\), .*mamba3-siso \(componentwise, step, vjp\)$/));
    // --only lists the names given (it had listed everything), and names what exists for one that does not.
    const only = await run(['list', '--impl', `${MODULES}/correct.ts`, '--impl', 'implementations/sequential/index.ts', '--only', 'sequential-f32']);
    expect(only.code).toBe(0);
    expect(only.stdout.trim().split('\n').slice(1).map((line) => line.split(/ +/)[0])).toEqual(['sequential-f32']);
    const unknown = await run(['list', '--impl', `${MODULES}/correct.ts`, '--only', 'sequential-f32']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("--only: expected the name of an implementation (test/correct-prefix-sum), got 'sequential-f32'");
  });

  it('a malformed environment variable is a usage error naming it (exit 2, not an internal error), as a malformed flag is', async () => {
    const cases = [
      ['SCAN_CONFORMANCE_RUNS', 'abc', "SCAN_CONFORMANCE_RUNS: expected an integer, got 'abc'"],
      ['SCAN_CONFORMANCE_SEED', '1.5', "SCAN_CONFORMANCE_SEED: expected an integer, got '1.5'"],
      ['SCAN_CONFORMANCE_CELL_TIME_LIMIT', '-5', "SCAN_CONFORMANCE_CELL_TIME_LIMIT: expected a time in ms, 0 for none, got '-5'"],
      ['SCAN_CONFORMANCE_JOBS', '0', "SCAN_CONFORMANCE_JOBS: expected a positive integer, got '0'"],
    ] as const;
    for (const [name, value, message] of cases) {
      const saved = process.env[name];
      process.env[name] = value;
      try {
        const result = await run(['check', '--impl', `${MODULES}/correct.ts`, ...TINY, '--out', path.join(out, 'environment')]);
        expect(result.code, name).toBe(2);
        expect(result.stderr, name).toContain(`scan-conformance: ${message}\nRun 'scan-conformance --help' for the flags.`);
      } finally {
        if (saved === undefined) delete process.env[name];
        else process.env[name] = saved;
      }
    }
  });

  it('--only keeps a module that failed to load in the report, as crashed: a run of the others is no pass', async () => {
    const result = await run(['check', '--impl', `${MODULES}/throws-on-import.ts`, '--impl', `${MODULES}/correct.ts`, '--only', 'test/correct-prefix-sum', ...TINY, '--out', path.join(out, 'only-failed-load')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/throws-on-import\.ts: crashed: the module failed to load: .*this module cannot be loaded/);
    expect(result.stdout).toMatch(/^FAIL ❌ 1 unexpected failure · 2 implementations, 2 cells: 2 pass$/m);
    const missing = await run(['check', '--impl', `${MODULES}/throws-on-import.ts`, '--impl', `${MODULES}/correct.ts`, '--only', 'nope', ...TINY]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--only: expected the name of an implementation \(test\/correct-prefix-sum\), got 'nope'; not loaded: .*throws-on-import\.ts: the module failed to load: .*this module cannot be loaded/);
  });

  it('exits 0 for a correct implementation and writes the three reports where --out says', async () => {
    const dir = path.join(out, 'correct');
    const result = await run(['check', '--impl', `${MODULES}/correct.ts`, ...TINY, '--out', dir]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`reports written to ${path.join(dir, 'report.json')}, ${path.join(dir, 'report.md')}, ${path.join(dir, 'report.html')}`);
    expect(result.stdout).toMatch(/PASS ✅ no unexpected failure · 1 implementation, 2 cells: 2 pass/);
    expect(result.stderr).toContain('[1/2] test/correct-prefix-sum · prefix-sum · conformance: pass (3 runs');
    expect((await readdir(dir)).sort()).toEqual(['report.html', 'report.json', 'report.md']);
  });

  it('exits 1 when an implementation fails, printing the counterexample and its replay command', async () => {
    const dir = path.join(out, 'wrong');
    const result = await run(['check', '--impl', `${MODULES}/wrong.ts`, '--impl', `${MODULES}/correct.ts`, ...TINY, '--out', dir]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/FAIL ❌ \d+ unexpected failures? · 2 implementations/);
    expect(result.stderr).toContain('test/off-by-one-prefix-sum · prefix-sum · conformance: fail');
    expect(result.stderr).toMatch(
      /npx scan-conformance check --impl \.\/test\/cli\/modules\/wrong\.ts --only test\/off-by-one-prefix-sum --family prefix-sum --property conformance --seed -?\d+ --path [\d:]+ --max-length 64 --no-fixtures --out \S+\/wrong\/replay-test_off-by-one-prefix-sum-prefix-sum-conformance\n/,
    );
    const report = JSON.parse(await readFile(path.join(dir, 'report.json'), 'utf8')) as ConformanceReport;
    expect(report.implementations.find((i) => i.name === 'test/correct-prefix-sum')?.cells.every((c) => c.outcome === 'pass')).toBe(true);
  });

  it('replays a counterexample from its --seed and --path', async () => {
    const dir = path.join(out, 'replay');
    const first = await run(['check', '--impl', `${MODULES}/wrong.ts`, ...TINY, '--property', 'conformance', '--out', dir]);
    // The printed command carries the run's --max-length: the path replays only under the same one.
    const replay = first.stderr.match(/--seed (-?\d+) --path ([\d:]+) --max-length 64/);
    expect(replay).not.toBeNull();
    const again = await run(['check', '--impl', `${MODULES}/wrong.ts`, '--family', 'prefix-sum', '--property', 'conformance', '--no-fixtures', '--seed', replay?.[1] ?? '', '--path', replay?.[2] ?? '', '--max-length', '64', '--out', dir]);
    expect(again.code).toBe(1);
    const report = JSON.parse(await readFile(path.join(dir, 'report.json'), 'utf8')) as ConformanceReport;
    const cell = report.implementations[0].cells[0];
    expect(cell.outcome).toBe('fail');
    expect(cell.counterexample?.request.dims.length).toBeGreaterThan(0);
  });

  it('reports crashing modules (import throws, setup throws, run throws) and runs the others', async () => {
    const dir = path.join(out, 'crashing');
    const result = await run(['check', '--impl', `${MODULES}/throws-on-import.ts`, '--impl', `${MODULES}/crashing.ts`, '--impl', `${MODULES}/correct.ts`, ...TINY, '--out', dir]);
    expect(result.code).toBe(1);
    const report = JSON.parse(await readFile(path.join(dir, 'report.json'), 'utf8')) as ConformanceReport;
    const byName = new Map(report.implementations.map((i) => [i.name, i]));
    expect(byName.get(`${MODULES}/throws-on-import.ts`)).toMatchObject({ status: 'crashed', statusReason: 'the module failed to load: this module cannot be loaded' });
    expect(byName.get('test/setup-throws')).toMatchObject({ status: 'crashed', statusReason: 'setup threw: no device here' });
    expect(byName.get('test/run-throws')?.cells.some((c) => c.outcome === 'fail')).toBe(true);
    expect(byName.get('test/correct-prefix-sum')?.cells.map((c) => c.outcome)).toEqual(['pass', 'pass']);
    expect(result.stderr).toContain('test/setup-throws: crashed: setup threw: no device here');
    const markdown = await readFile(path.join(dir, 'report.md'), 'utf8');
    expect(markdown).toContain('**crashed:** the module failed to load: this module cannot be loaded');
  });
});

describe('check --command', () => {
  it('runs a testee program through the protocol, and reports one that does not start while the others go on', async () => {
    const dir = path.join(out, 'command');
    const result = await run([
      'check',
      '--command',
      `${JSON.stringify(process.execPath)} examples/testees/node/testee.mjs`,
      '--command',
      'definitely-not-a-program-on-path',
      ...TINY,
      '--out',
      dir,
    ]);
    const report = JSON.parse(await readFile(path.join(dir, 'report.json'), 'utf8')) as ConformanceReport;
    const testee = report.implementations.find((i) => i.status === 'ok');
    expect(testee?.cells.map((c) => c.outcome)).toEqual(['pass', 'pass']);
    const missing = report.implementations.find((i) => i.name === 'definitely-not-a-program-on-path');
    expect(missing?.status).toBe('crashed');
    expect(missing?.statusReason).toMatch(/^the testee did not start: /);
    expect(result.code).toBe(1);
  });
});

describe('the program', () => {
  const tsx = ['--import', 'tsx', path.join(ROOT, 'scripts/cli.ts')];
  it('prints --help and exits 0; exits 2 on a bad flag', () => {
    const help = spawnSync(process.execPath, [...tsx, '--help'], { cwd: ROOT, encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: scan-conformance <command> [flags]');
    const bad = spawnSync(process.execPath, [...tsx, 'check', '--runs', '-1'], { cwd: ROOT, encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("--runs: expected a positive integer, got '-1'");
  });

  it('exits 1 through the bin shim when an implementation fails', () => {
    const result = spawnSync(process.execPath, [path.join(ROOT, 'bin/scan-conformance.js'), 'check', '--impl', `${MODULES}/wrong.ts`, ...TINY, '--out', path.join(out, 'bin')], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(result.stderr).toContain('conformance: fail');
    expect(result.status).toBe(1);
  });
});
