/**
 * The package as a user gets it: `npm pack`, install the tarball into a fresh project, write a
 * correct and a wrong implementation module there (TypeScript), and run both the bin
 * (`npx scan-conformance check --impl ./x.ts`) and a vitest file using the exported
 * describeConformance: each passes for the correct module and fails for the wrong one.
 * Slow (a build, an install): runs only with SCAN_CONFORMANCE_PACKAGE_TEST=1 (CI sets it).
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENABLED = process.env.SCAN_CONFORMANCE_PACKAGE_TEST === '1';
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const NPX = process.platform === 'win32' ? 'npx.cmd' : 'npx';
const LONG = 900_000;

let dir = '';
let project = '';

/** Runs a command, keeping its output for the failure message. */
function run(command: string, args: readonly string[], cwd: string, timeout = LONG): SpawnSyncReturns<string> {
  const env = { ...process.env };
  // The test runs inside vitest; the child vitest must not think it is a nested worker.
  for (const key of Object.keys(env)) if (key.startsWith('VITEST') || key === 'TEST' || key === 'NODE_OPTIONS') delete env[key];
  return spawnSync(command, args, { cwd, encoding: 'utf8', timeout, env: { ...env, GITHUB_STEP_SUMMARY: '', NO_COLOR: '1', FORCE_COLOR: '0' } });
}

function describeRun(result: SpawnSyncReturns<string>): string {
  return `exit ${result.status}${result.error ? ` (${result.error.message})` : ''}\n--- stdout\n${result.stdout.slice(-4000)}\n--- stderr\n${result.stderr.slice(-4000)}`;
}

const IMPLEMENTATION = (name: string, skipNewest: boolean) => `import { defineImplementation, type PrefixSumOutputs, type Problem } from 'scan-conformance';

function prefixSum(problem: Problem<'prefix-sum'>): PrefixSumOutputs {
  const { x } = problem.inputs;
  const [batch, dim, L] = x.shape;
  const y = new Float32Array(batch * dim * L);
  for (let row = 0; row < batch * dim; row++) {
    let sum = 0;
    for (let i = 0; i < L; i++) {
      const t = row * L + (problem.options.reverse ? L - 1 - i : i);
      if (problem.options.exclusive || ${skipNewest}) {
        y[t] = sum;
        sum = Math.fround(sum + x.data[t]);
      } else {
        sum = Math.fround(sum + x.data[t]);
        y[t] = sum;
      }
    }
  }
  return { y: { data: y, shape: [batch, dim, L] } };
}

export default defineImplementation({
  name: '${name}',
  precision: 'float32',
  families: { 'prefix-sum': { run: async (problem) => prefixSum(problem) } },
});
`;

/**
 * Runs the shipped multi-threaded implementations from dist/ on problems large enough to reach
 * their worker threads (which load dist's compiled worker modules), and checks the results against
 * the shipped reference; prints one JSON line.
 */
const THREADS_SCRIPT = `import { discoverImplementations, reference } from 'scan-conformance';
import { availableParallelism } from 'node:os';

const implementations = await discoverImplementations();
const pick = (name) => {
  const found = implementations.find((i) => i.name === name);
  if (found === undefined) throw new Error('not shipped: ' + name);
  return found;
};
let seed = 1;
const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const values = (n, lo, hi) => Float32Array.from({ length: n }, () => lo + (hi - lo) * next());
const L = 2 ** 16;
const problems = {
  'parallel-scan/chunked-threads-f32': { family: 'linear-recurrence', options: { reverse: false }, inputs: { a: { data: values(L, 0.5, 1), shape: [1, 1, L] }, b: { data: values(L, -1, 1), shape: [1, 1, L] } } },
  'fft-conv-f64': { family: 'lti-ssm', options: {}, inputs: { Abar: { data: values(32, 0.5, 0.99), shape: [4, 8] }, Bbar: { data: values(32, -1, 1), shape: [4, 8] }, C: { data: values(32, -1, 1), shape: [4, 8] }, u: { data: values(4 * L, -1, 1), shape: [1, 4, L] } } },
};
const results = [];
for (const [name, problem] of Object.entries(problems)) {
  const implementation = pick(name);
  await implementation.setup?.();
  const outputs = await implementation.families[problem.family].run(problem);
  const workers = implementation.environment?.().workers;
  await implementation.dispose?.();
  const key = problem.family === 'lti-ssm' ? 'y' : 'h';
  const expected = reference(problem).outputs[key].data;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(outputs[key].data[i] - expected[i]) / (1 + Math.abs(expected[i])));
  results.push({ name, workers, expectedWorkers: String(availableParallelism() - 1), worst });
}
console.log(JSON.stringify(results));
`;

const VITEST_FILE = (module: string) => `import { describeConformance } from 'scan-conformance';
import implementation from './${module}';

describeConformance(implementation, { runs: 5 });
`;

describe.skipIf(!ENABLED)(`the packed package in a fresh project${ENABLED ? '' : ' (skipped: slow; set SCAN_CONFORMANCE_PACKAGE_TEST=1 to run it)'}`, () => {
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'scan-conformance-pack-'));
    const packed = run(NPM, ['pack', '--pack-destination', dir], ROOT);
    if (packed.status !== 0) throw new Error(`npm pack failed: ${describeRun(packed)}`);
    const tarball = (await readdir(dir)).find((f) => f.endsWith('.tgz'));
    if (tarball === undefined) throw new Error(`npm pack wrote no tarball into ${dir}: ${describeRun(packed)}`);
    project = path.join(dir, 'project');
    await import('node:fs/promises').then((fs) => fs.mkdir(project));
    await writeFile(path.join(project, 'package.json'), JSON.stringify({ name: 'user-project', private: true, type: 'module' }, null, 2));
    const vitestVersion = (JSON.parse(await readFile(path.join(ROOT, 'node_modules/vitest/package.json'), 'utf8')) as { version: string }).version;
    const installed = run(NPM, ['install', '--prefer-offline', '--no-audit', '--no-fund', path.join(dir, tarball), `vitest@${vitestVersion}`], project);
    if (installed.status !== 0) throw new Error(`npm install failed: ${describeRun(installed)}`);
    await writeFile(path.join(project, 'my-impl.ts'), IMPLEMENTATION('user/correct-prefix-sum', false));
    await writeFile(path.join(project, 'wrong-impl.ts'), IMPLEMENTATION('user/off-by-one-prefix-sum', true));
    await writeFile(path.join(project, 'correct.test.ts'), VITEST_FILE('my-impl.ts'));
    await writeFile(path.join(project, 'wrong.test.ts'), VITEST_FILE('wrong-impl.ts'));
    await writeFile(path.join(project, 'threads.mjs'), THREADS_SCRIPT);
  }, LONG);

  afterAll(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('npx scan-conformance check passes a correct TypeScript module (exit 0) and writes the reports', async () => {
    const result = run(NPX, ['scan-conformance', 'check', '--impl', './my-impl.ts', '--no-fixtures', '--runs', '5'], project);
    expect(result.status, describeRun(result)).toBe(0);
    expect(result.stdout).toMatch(/no unexpected failure · 1 implementation/);
    expect((await readdir(path.join(project, 'reports'))).sort()).toEqual(['report.html', 'report.json', 'report.md']);
  }, LONG);

  it('npx scan-conformance check fails a wrong module (exit 1) with a replay command', () => {
    const result = run(NPX, ['scan-conformance', 'check', '--impl', './wrong-impl.ts', '--no-fixtures', '--runs', '5'], project);
    expect(result.status, describeRun(result)).toBe(1);
    expect(result.stderr).toMatch(/scan-conformance check --impl \.\/wrong-impl\.ts --only "user\/off-by-one-prefix-sum" --family prefix-sum --property conformance --seed -?\d+ --path/);
  }, LONG);

  it('finds the shipped implementations and fixtures from dist/', () => {
    const listed = run(NPX, ['scan-conformance', 'list'], project);
    expect(listed.status, describeRun(listed)).toBe(0);
    expect(listed.stdout).toMatch(/^sequential-f32 +float32 +prefix-sum/m);
    const checked = run(NPX, ['scan-conformance', 'check', '--only', 'sequential-f32', '--family', 'prefix-sum', '--property', 'fixtures', '--out', 'reports/shipped'], project);
    expect(checked.status, describeRun(checked)).toBe(0);
    expect(checked.stdout).toMatch(/1 implementation, 1 cell: 1 pass/);
  }, LONG);

  it('the shipped multi-threaded implementations run their workers from dist/ and agree with the reference', () => {
    const result = run(process.execPath, ['threads.mjs'], project);
    expect(result.status, describeRun(result)).toBe(0);
    const results = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '[]') as { name: string; workers: string; expectedWorkers: string; worst: number }[];
    expect(results.map((r) => r.name)).toEqual(['parallel-scan/chunked-threads-f32', 'fft-conv-f64']);
    for (const r of results) {
      expect(r.workers, r.name).toBe(r.expectedWorkers);
      // float32 over 2^16 steps with |a| < 1 (errors stay ~1e-6), float64 FFT (~1e-14).
      expect(r.worst, r.name).toBeLessThan(r.name.endsWith('f32') ? 1e-4 : 1e-10);
    }
  }, LONG);

  it('a vitest file using the exported describeConformance passes for the correct module, and the reporter writes its report', async () => {
    const result = run(NPX, ['vitest', 'run', 'correct.test.ts', '--reporter=default', '--reporter=scan-conformance/vitest-reporter'], project);
    expect(result.status, describeRun(result)).toBe(0);
    expect(result.stdout).toMatch(/Tests\s+\d+ passed/);
    const report = JSON.parse(await readFile(path.join(project, 'reports/vitest/report.json'), 'utf8')) as { implementations: { name: string }[]; summary: { unexpectedFailures: number } };
    expect(report.implementations.map((i) => i.name)).toEqual(['user/correct-prefix-sum']);
    expect(report.summary.unexpectedFailures).toBe(0);
  }, LONG);

  it('the same vitest file fails for the wrong module, naming the counterexample', () => {
    const result = run(NPX, ['vitest', 'run', 'wrong.test.ts'], project);
    expect(result.status, describeRun(result)).toBe(1);
    expect(`${result.stdout}${result.stderr}`).toMatch(/prefix-sum › conformance/);
    expect(`${result.stdout}${result.stderr}`).toMatch(/counterexample \(after \d+ shrinks\)/);
  }, LONG);
});

