/**
 * Replays run as printed: a deliberately wrong kernel's failures print commands that, run by a
 * shell from the same folder, fail the same way and write their own report; each counterexample
 * file holds the case's inputs, expected and actual outputs, is read by the fixture loader and by
 * numpy, and `check --case` replays exactly it. Fixture folders given with --fixtures (several)
 * are recorded in report.json and named in their replays. `fixtures generate` runs through the CLI.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFixture } from '../../fixtures/loader.ts';
import { ROOT, runCli as run } from './run-cli.ts';
import type { CellResult, ConformanceReport } from '../../suite/results.ts';
import { moduleTarget, replayCommand } from '../../suite/replay.ts';

const WRONG = './test/cli/modules/wrong.ts';
const CORRECT = './test/cli/modules/correct.ts';
const PYTHON = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;
const REQUIRE_PYTHON = process.env.REQUIRE_PYTHON === '1';

let out: string;
beforeAll(async () => {
  out = await mkdtemp(path.join(os.tmpdir(), 'scan-conformance-replay-'));
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});



/** Runs a printed command line with a shell, from the repository root, as a user would paste it. */
function shell(command: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync('sh', ['-c', command], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, GITHUB_STEP_SUMMARY: '' } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

async function reportOf(dir: string): Promise<ConformanceReport> {
  return JSON.parse(await readFile(path.join(dir, 'report.json'), 'utf8')) as ConformanceReport;
}

function failingCell(report: ConformanceReport, property: string): CellResult {
  const cell = report.implementations.flatMap((i) => i.cells).find((c) => c.property === property && c.outcome === 'fail');
  if (cell?.counterexample === undefined) throw new Error(`no failing ${property} cell with a counterexample in the report`);
  return cell;
}

describe('replays of a wrong kernel', () => {
  let report: ConformanceReport;
  const dir = () => path.join(out, 'wrong');

  beforeAll(async () => {
    const result = await run(['check', '--impl', WRONG, '--family', 'prefix-sum', '--property', 'fixtures', '--property', 'conformance', '--fixture', 'prefix-sum/generic/L00033-b1d2-inclusive-forward', '--runs', '4', '--max-length', '64', '--out', dir()]);
    expect(result.code).toBe(1);
    report = await reportOf(dir());
  });

  it('the property replay runs as printed: same failure, its own --out', async () => {
    const cell = failingCell(report, 'conformance');
    const replay = cell.counterexample!.replay;
    expect(replay).toMatch(/^npx scan-conformance check --impl \.\/test\/cli\/modules\/wrong\.ts --only test\/off-by-one-prefix-sum --family prefix-sum --property conformance --seed -?\d+ --path [\d:]+ --max-length 64 --no-fixtures --out \S+$/);
    const result = shell(replay);
    expect(result.status, result.stderr).toBe(1);
    const outFlag = /--out (\S+)$/.exec(replay)?.[1] ?? '';
    expect(path.resolve(ROOT, outFlag)).toBe(path.join(dir(), 'replay-test_off-by-one-prefix-sum-prefix-sum-conformance'));
    const again = failingCell(await reportOf(path.resolve(ROOT, outFlag)), 'conformance');
    expect(again.counterexample!.request).toEqual(cell.counterexample!.request);
    expect(again.counterexample!.worst).toEqual(cell.counterexample!.worst);
  });

  it('the fixture replay runs as printed and fails on the same fixture', async () => {
    const cell = failingCell(report, 'fixtures');
    expect(cell.counterexample!.replay).toContain('--property fixtures --fixture prefix-sum/generic/L00033-b1d2-inclusive-forward --out ');
    const result = shell(cell.counterexample!.replay);
    expect(result.status, result.stderr).toBe(1);
    expect(result.stderr).toContain('fixture prefix-sum/generic/L00033-b1d2-inclusive-forward: ');
  });

  it('writes each counterexample as a fixture-format file with the inputs, expected and actual outputs', async () => {
    const cell = failingCell(report, 'conformance');
    const file = path.resolve(ROOT, cell.counterexample!.file ?? '');
    expect(file).toBe(path.join(dir(), 'counterexamples', 'test_off-by-one-prefix-sum-prefix-sum-conformance.safetensors'));
    const decoded = decodeFixture(await readFile(file));
    expect(decoded.family).toBe('prefix-sum');
    expect(decoded.metadata.caseId).toBe('counterexample/test_off-by-one-prefix-sum-prefix-sum-conformance');
    const x = (decoded.problem.inputs as { x: { shape: readonly number[] } }).x;
    expect(x.shape[2]).toBe(cell.counterexample!.request.dims.length);
    const worst = cell.counterexample!.worst!;
    const expected = decoded.expected.outputs as unknown as Record<string, { data: Float64Array; shape: number[] }>;
    const flat = (coordinates: readonly number[], shape: readonly number[]) => coordinates.reduce((n, c, k) => n * shape[k] + c, 0);
    const at = flat(worst.coordinates, expected.y.shape);
    expect(expected.y.data[at]).toBe(worst.expected);
    expect(decoded.actual?.y.data[at]).toBe(worst.got);
  });

  it.skipIf(!PYTHON && !REQUIRE_PYTHON)(`numpy reads a counterexample file${PYTHON ? '' : ' (skipped: python3 with numpy not found; REQUIRE_PYTHON=1 makes this a failure)'}`, () => {
    const cell = failingCell(report, 'conformance');
    const script = [
      'import sys',
      "sys.path.insert(0, 'examples/python')",
      'from check_fixture import read_safetensors',
      'metadata, tensors = read_safetensors(sys.argv[1])',
      "print(metadata['property'], tensors['input.x'].dtype, tensors['output.y'].dtype, tensors['actual.y'].dtype, tensors['actual.y'].shape == tensors['output.y'].shape)",
    ].join('\n');
    const result = spawnSync('python3', ['-c', script, path.resolve(ROOT, cell.counterexample!.file ?? '')], { cwd: ROOT, encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe('conformance float32 float64 float32 True');
  });

  it('check --case replays exactly that case: printed command fails the wrong kernel; the correct one passes it', async () => {
    const cell = failingCell(report, 'conformance');
    const caseReplay = cell.counterexample!.caseReplay ?? '';
    expect(caseReplay).toMatch(/^npx scan-conformance check --impl \.\/test\/cli\/modules\/wrong\.ts --only test\/off-by-one-prefix-sum --family prefix-sum --case \S+\.safetensors --out \S+$/);
    const result = shell(caseReplay);
    expect(result.status, result.stderr).toBe(1);
    const replayed = failingCell(await reportOf(path.resolve(ROOT, /--out (\S+)$/.exec(caseReplay)?.[1] ?? '')), 'fixtures');
    expect(replayed.runs).toBe(1);
    expect(replayed.counterexample!.worst).toMatchObject({ expected: cell.counterexample!.worst!.expected, got: cell.counterexample!.worst!.got });

    const correct = await run(['check', '--impl', CORRECT, '--case', cell.counterexample!.file ?? '', '--out', path.join(out, 'case-correct')]);
    expect(correct.code, correct.stderr).toBe(0);
    const passed = await reportOf(path.join(out, 'case-correct'));
    expect(passed.implementations[0].cells.map((c) => [c.property, c.outcome, c.runs])).toEqual([['fixtures', 'pass', 1]]);
    expect(passed.settings.fixtureFolders).toEqual([path.resolve(ROOT, cell.counterexample!.file ?? '')]);
  });
});

describe('fixture folders of your own', () => {
  it('fixtures generate through the CLI, then check with --fixtures twice: both folders recorded, replays name the folder', async () => {
    const first = path.join(out, 'fixtures-a');
    const second = path.join(out, 'fixtures-b');
    for (const [dir, seed] of [[first, 'a'], [second, 'b']] as const) {
      const generated = await run(['fixtures', 'generate', '--family', 'prefix-sum', '--length', '1,9', '--seed', seed, '--out', dir, '--quiet']);
      expect(generated.code, generated.stderr).toBe(0);
      expect(generated.stdout).toMatch(/^Wrote 2 fixtures/);
    }
    const dir = path.join(out, 'two-folders');
    const result = await run(['check', '--impl', WRONG, '--family', 'prefix-sum', '--property', 'fixtures', '--fixtures', first, '--fixtures', second, '--out', dir]);
    expect(result.code).toBe(1);
    const report = await reportOf(dir);
    expect(report.settings.fixtureFolders).toEqual([first, second]);
    const cell = failingCell(report, 'fixtures');
    expect(cell.runs).toBe(4);
    expect(cell.counterexample!.replay).toContain(`--fixtures ${first} --property fixtures --fixture `);
    const replayed = shell(cell.counterexample!.replay);
    expect(replayed.status, replayed.stderr).toBe(1);
    expect(replayed.stderr).toContain(cell.counterexample!.message.split(':')[0]);
  });

  it('fixtures --help answers through the CLI with the fixtures command\'s flags', async () => {
    const result = await run(['fixtures', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: scan-conformance fixtures <command> [flags]');
    expect(result.stdout).toContain('--length L[,L...]');
  });
});

describe('replay lines', () => {
  const cell = { implementation: 'my kernel', family: 'prefix-sum', property: 'conformance' } as const;
  it('under vitest without a module: rerun the test file with a -t pattern that matches the test', () => {
    const command = replayCommand({ testFile: path.join(process.cwd(), 'test/x.test.ts') }, cell, ['--seed', '1']);
    expect(command).toBe(`npx vitest run ./test/x.test.ts -t 'my kernel prefix-sum › conformance'`);
    expect(command).not.toContain('module exporting');
  });
  it("describeConformance's module option (import.meta.url style) becomes --impl with a path from the current folder", () => {
    expect(moduleTarget(pathToFileURL(path.join(process.cwd(), 'examples/my-implementation.ts')).href)).toBe('--impl ./examples/my-implementation.ts');
    expect(moduleTarget('/elsewhere/k.ts')).toBe('--impl /elsewhere/k.ts');
  });
  it('with a known module: npx scan-conformance check --impl <path>, quoted for the shell, and an --out of its own', () => {
    expect(replayCommand({ target: "--impl './a b.ts'", reportDir: 'reports' }, cell, ['--seed', '1'])).toBe(
      "npx scan-conformance check --impl './a b.ts' --only 'my kernel' --family prefix-sum --seed 1 --out ./reports/replay-my_kernel-prefix-sum-conformance",
    );
  });
});
