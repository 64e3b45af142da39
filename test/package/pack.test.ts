/**
 * The package as a user gets it: `npm pack`, `npm init -y` and `npm install <tarball>` in a fresh
 * project, then every command the README gives, taken from the README's own text: the plug-in
 * example checked with `npx scan-conformance check --impl ./examples/my-implementation.ts` (a copy
 * of the shipped example), the fixtures-in-CI snippet (`fixtures generate`, then `check
 * --fixtures`), the describeConformance snippet under vitest, and the Python testee by its path in
 * node_modules; the example module from a CommonJS folder too. A wrong module's printed replays (fast-check path, `--case` file, vitest rerun)
 * run as printed there too. Flags are only appended to restrict (--family, --property, --runs).
 * Slow (a build, an install): runs only with SCAN_CONFORMANCE_PACKAGE_TEST=1 (CI sets it).
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumUnavailable } from '../../browser/chromium.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENABLED = process.env.SCAN_CONFORMANCE_PACKAGE_TEST === '1';
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const NPX = process.platform === 'win32' ? 'npx.cmd' : 'npx';
const LONG = 900_000;
const PYTHON = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;
const REQUIRE_PYTHON = process.env.REQUIRE_PYTHON === '1';
const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
/** Why the browser command cannot run here (no Chromium), unless REQUIRE_CHROMIUM=1 makes that a failure. */
const CHROMIUM_MISSING = process.env.REQUIRE_CHROMIUM === '1' ? undefined : chromiumUnavailable();

/** The fenced code blocks of the README in a language, in order. */
function readmeBlocks(language: string): string[] {
  return [...README.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);
}

/** The README's command that starts with `prefix` (in sh blocks, or a yaml `- run:` step with its continuation lines). */
function readmeCommand(prefix: string): string {
  const sh = readmeBlocks('sh').flatMap((block) => block.split('\n')).map((line) => line.replace(/\s+#.*$/, '').trim());
  const yaml = readmeBlocks('yaml').flatMap((block) => block.split(/^- run: /m).map((step) => step.replace(/\s*\n\s*/g, ' ').trim()));
  const found = [...sh, ...yaml].filter((command) => command.startsWith(prefix));
  if (found.length !== 1) throw new Error(`expected one README command starting with '${prefix}', found ${found.length}: ${JSON.stringify(found)}`);
  return found[0];
}

/** Splits a README command into words as a POSIX shell would (double quotes only, as the README uses). */
function words(command: string): string[] {
  return [...command.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]);
}

let dir = '';
let project = '';

/** Runs a command, keeping its output for the failure message. */
function run(command: string, args: readonly string[], cwd: string, timeout = LONG, extraEnv: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  const env = { ...process.env, ...extraEnv };
  // The test runs inside vitest; the child vitest must not think it is a nested worker.
  for (const key of Object.keys(env)) if (key.startsWith('VITEST') || key === 'TEST' || key === 'NODE_OPTIONS') delete env[key];
  return spawnSync(command, args, { cwd, encoding: 'utf8', timeout, env: { ...env, GITHUB_STEP_SUMMARY: '', NO_COLOR: '1', FORCE_COLOR: '0' } });
}

/** Runs a command line (a README command, or a printed replay) with a shell, as a user pastes it. */
function shell(command: string, cwd: string, extraEnv: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return run('sh', ['-c', command], cwd, LONG, extraEnv);
}

interface Report {
  settings: { fixtureFolders?: string[] };
  implementations: { name: string; cells: { family: string; property: string; outcome: string; runs: number; counterexample?: { replay: string; caseReplay?: string; file?: string } }[] }[];
  summary: { unexpectedFailures: number };
}

async function reportIn(dir: string): Promise<Report> {
  return JSON.parse(await readFile(path.join(dir, 'report.json'), 'utf8')) as Report;
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

/** "./my-kernel.ts" of the README's CI snippet: a selective-scan kernel, here the shipped sequential one. */
const MY_KERNEL = `import { discoverImplementations } from 'scan-conformance';

const implementation = (await discoverImplementations()).find((i) => i.name === 'sequential-f32');
if (implementation === undefined) throw new Error('sequential-f32 is not shipped');
export default implementation;
`;

describe.skipIf(!ENABLED)(`the packed package in a fresh project${ENABLED ? '' : ' (skipped: slow; set SCAN_CONFORMANCE_PACKAGE_TEST=1 to run it)'}`, () => {
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'scan-conformance-pack-'));
    const packed = run(NPM, ['pack', '--pack-destination', dir], ROOT);
    if (packed.status !== 0) throw new Error(`npm pack failed: ${describeRun(packed)}`);
    const tarball = (await readdir(dir)).find((f) => f.endsWith('.tgz'));
    if (tarball === undefined) throw new Error(`npm pack wrote no tarball into ${dir}: ${describeRun(packed)}`);
    project = path.join(dir, 'project');
    await mkdir(project);
    const init = run(NPM, ['init', '-y'], project);
    if (init.status !== 0) throw new Error(`npm init failed: ${describeRun(init)}`);
    // The README's examples are ES modules (import/export, top-level await in my-kernel.ts).
    const type = run(NPM, ['pkg', 'set', 'type=module'], project);
    if (type.status !== 0) throw new Error(`npm pkg set failed: ${describeRun(type)}`);
    const vitestVersion = (JSON.parse(await readFile(path.join(ROOT, 'node_modules/vitest/package.json'), 'utf8')) as { version: string }).version;
    const installed = run(NPM, ['install', '--prefer-offline', '--no-audit', '--no-fund', path.join(dir, tarball), `vitest@${vitestVersion}`], project);
    if (installed.status !== 0) throw new Error(`npm install failed: ${describeRun(installed)}`);
    await writeFile(path.join(project, 'wrong-impl.ts'), IMPLEMENTATION('user/off-by-one-prefix-sum', true));
    await writeFile(path.join(project, 'wrong.test.ts'), VITEST_FILE('wrong-impl.ts'));
    await writeFile(path.join(project, 'threads.mjs'), THREADS_SCRIPT);
    // The README: copy the shipped example into examples/ to run its command as is.
    await mkdir(path.join(project, 'examples'));
    await copyFile(path.join(project, 'node_modules/scan-conformance/examples/my-implementation.ts'), path.join(project, 'examples/my-implementation.ts'));
    const snippet = readmeBlocks('ts').find((block) => block.includes('describeConformance(myImplementation);'));
    if (snippet === undefined) throw new Error('the README has no describeConformance snippet');
    await writeFile(path.join(project, 'examples/my-implementation.test.ts'), snippet);
    await writeFile(path.join(project, 'my-kernel.ts'), MY_KERNEL);
  }, LONG);

  afterAll(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('README: npx scan-conformance check --impl ./examples/my-implementation.ts passes (exit 0), replaying the shipped fixtures', async () => {
    const command = readmeCommand('npx scan-conformance check --impl ./examples/my-implementation.ts');
    // As on a user's machine with two or more cores: the check runs in child processes, which must
    // load the TypeScript module too (the other tests here run in-process, SCAN_CONFORMANCE_JOBS=1).
    const result = shell(`${command} --runs 4`, project, { SCAN_CONFORMANCE_JOBS: '2' });
    expect(result.status, describeRun(result)).toBe(0);
    expect(result.stdout).toMatch(/no unexpected failure · 1 implementation/);
    expect((await readdir(path.join(project, 'reports'))).sort()).toEqual(['report.html', 'report.json', 'report.md']);
    const report = await reportIn(path.join(project, 'reports'));
    expect(report.implementations.map((i) => i.name)).toEqual(['my-linear-recurrence']);
    expect(report.implementations[0].cells.find((c) => c.property === 'fixtures')).toMatchObject({ outcome: 'pass' });
    expect(report.settings.fixtureFolders).toEqual([path.join(project, 'node_modules/scan-conformance/dist/fixtures')]);
  }, LONG);

  it("the README's example module as TypeScript in a CommonJS project (npm init's default, no \"type\": \"module\") loads as the ES module it is", async () => {
    const folder = path.join(project, 'commonjs');
    await mkdir(folder);
    await writeFile(path.join(folder, 'package.json'), '{ "type": "commonjs" }\n');
    await copyFile(path.join(project, 'examples/my-implementation.ts'), path.join(folder, 'my-implementation.ts'));
    const result = run(NPX, ['scan-conformance', 'check', '--impl', './my-implementation.ts', '--family', 'linear-recurrence', '--property', 'conformance', '--runs', '4', '--no-fixtures', '--out', 'reports'], folder);
    expect(result.status, describeRun(result)).toBe(0);
    expect(result.stdout).toMatch(/1 implementation, 1 cell: 1 pass/);
  }, LONG);

  it('README: npx scan-conformance sweep --impl ./examples/my-implementation.ts runs deep checks per seed from the installed package', async () => {
    const command = readmeCommand('npx scan-conformance sweep --impl ./examples/my-implementation.ts');
    // The README's sweep, narrowed to one cheap cell on two seeds (the later flags win).
    const result = shell(`${command} --seeds 1-2 --property conformance --family linear-recurrence --out reports/sweep`, project);
    expect(result.status, describeRun(result)).toBe(0);
    expect(result.stdout).toMatch(/\[2\/2\] my-linear-recurrence seed \d: pass \(1 cells, ok\)/);
    const summary = await readFile(path.join(project, 'reports/sweep/sweep.md'), 'utf8');
    expect(summary).toContain('PASS ✅ no unexpected failure');
    expect(summary).toMatch(/\| my-linear-recurrence \| ✅ [\d.]+ s \| ✅ [\d.]+ s \|/);
    // Outside a checkout the tool's revision is its version, and the module's content is hashed beside it.
    expect(summary).toMatch(/· version [^,]+, yours [0-9a-f]{16} \(commit version /);
  }, LONG);

  it('README: fixtures generate for your own shapes, then check --fixtures against them, the folder recorded in report.json', async () => {
    const generate = readmeCommand('npx scan-conformance fixtures generate');
    const generated = shell(generate, project);
    expect(generated.status, describeRun(generated)).toBe(0);
    expect(generated.stdout).toMatch(/^Wrote \d+ fixtures/m);
    const check = readmeCommand('npx scan-conformance check --impl ./my-kernel.ts --fixtures fixtures-ci');
    const checked = shell(`${check} --family selective-scan --property fixtures --out reports/ci`, project);
    expect(checked.status, describeRun(checked)).toBe(0);
    const report = await reportIn(path.join(project, 'reports/ci'));
    const cell = report.implementations[0].cells[0];
    expect(cell).toMatchObject({ family: 'selective-scan', property: 'fixtures', outcome: 'pass' });
    const manifest = JSON.parse(await readFile(path.join(project, 'fixtures-ci/manifest.json'), 'utf8')) as { cases: unknown[] };
    expect(cell.runs).toBe(manifest.cases.length);
    expect(report.settings.fixtureFolders).toEqual([path.join(project, 'fixtures-ci')]);
  }, LONG);

  it.skipIf(!PYTHON && !REQUIRE_PYTHON)(`README: the Python testee from its path in node_modules${PYTHON ? '' : ' (skipped: python3 with numpy not found; REQUIRE_PYTHON=1 makes this a failure)'}`, async () => {
    const command = readmeCommand('npx scan-conformance check --command "python3 node_modules/scan-conformance/examples/testees/python/numpy_testee.py"');
    expect(words(command)).toContain('python3 node_modules/scan-conformance/examples/testees/python/numpy_testee.py');
    const result = shell(`${command} --family linear-recurrence --runs 4 --out reports/python`, project);
    expect(result.status, describeRun(result)).toBe(0);
    const report = await reportIn(path.join(project, 'reports/python'));
    expect(report.implementations[0].cells.filter((c) => c.outcome === 'pass').length).toBeGreaterThan(5);
  }, LONG);

  it('a wrong module fails (exit 1); its printed replay and its --case replay run as printed in the project', async () => {
    const result = run(NPX, ['scan-conformance', 'check', '--impl', './wrong-impl.ts', '--no-fixtures', '--runs', '5', '--out', 'reports/wrong'], project);
    expect(result.status, describeRun(result)).toBe(1);
    expect(result.stderr).toMatch(/npx scan-conformance check --impl \.\/wrong-impl\.ts --only user\/off-by-one-prefix-sum --family prefix-sum --property conformance --seed -?\d+ --path [\d:]+ --max-length \d+ --no-fixtures --out \.\/reports\/wrong\/replay-/);
    const cell = (await reportIn(path.join(project, 'reports/wrong'))).implementations[0].cells.find((c) => c.property === 'conformance');
    const replay = cell?.counterexample?.replay ?? '';
    const replayed = shell(replay, project);
    expect(replayed.status, describeRun(replayed)).toBe(1);
    expect(replayed.stderr).toContain('user/off-by-one-prefix-sum · prefix-sum · conformance: fail');
    const caseReplay = cell?.counterexample?.caseReplay ?? '';
    expect(caseReplay).toContain('--case ./reports/wrong/counterexamples/user_off-by-one-prefix-sum-prefix-sum-conformance.safetensors');
    const fromFile = shell(caseReplay, project);
    expect(fromFile.status, describeRun(fromFile)).toBe(1);
    expect(fromFile.stderr).toContain('fixture counterexample/user_off-by-one-prefix-sum-prefix-sum-conformance: ');
  }, LONG);

  it.skipIf(CHROMIUM_MISSING !== undefined)(`runs the README's browser command from the installed package, its page bundled at build time${CHROMIUM_MISSING === undefined ? '' : ` (skipped: ${CHROMIUM_MISSING})`}`, async () => {
    const command = readmeCommand('npx scan-conformance browser');
    const browsed = shell(`${command} --out reports/browser`, project);
    expect(browsed.status, describeRun(browsed)).toBe(0);
    expect(browsed.stdout).toMatch(/PASS ✅ no unexpected failure · 1 implementation, \d+ cells/);
    const report = await reportIn(path.join(project, 'reports/browser'));
    expect(report.implementations.map((i) => i.name)).toEqual(['webgpu-f32']);
    expect(report.implementations[0].cells.some((c) => c.outcome === 'pass' && c.runs > 0)).toBe(true);
    await expect(readFile(path.join(project, 'node_modules/scan-conformance/dist/browser/page-bundle.js'))).resolves.toBeDefined();
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

  it('README: the describeConformance snippet passes under vitest, and the reporter writes its report', async () => {
    const result = run(NPX, ['vitest', 'run', 'examples/my-implementation.test.ts', '--reporter=default', '--reporter=scan-conformance/vitest-reporter'], project, LONG, { SCAN_CONFORMANCE_RUNS: '4' });
    expect(result.status, describeRun(result)).toBe(0);
    expect(result.stdout).toMatch(/Tests\s+\d+ passed/);
    const report = JSON.parse(await readFile(path.join(project, 'reports/vitest/report.json'), 'utf8')) as { implementations: { name: string }[]; summary: { unexpectedFailures: number } };
    expect(report.implementations.map((i) => i.name)).toEqual(['my-linear-recurrence']);
    expect(report.summary.unexpectedFailures).toBe(0);
  }, LONG);

  it('under vitest a wrong module fails naming the counterexample, and the printed rerun runs as printed', () => {
    const result = run(NPX, ['vitest', 'run', 'wrong.test.ts'], project);
    expect(result.status, describeRun(result)).toBe(1);
    const output = `${result.stdout}${result.stderr}`;
    expect(output).toMatch(/prefix-sum › conformance/);
    expect(output).toMatch(/counterexample \(after \d+ shrinks\)/);
    expect(output).not.toContain('module exporting');
    // The fixtures cell fails first (describeConformance replays the fixtures too); take the conformance cell's rerun.
    const rerun = /npx vitest run \.\/wrong\.test\.ts -t '[^']+› conformance'/.exec(output)?.[0];
    expect(rerun, output).toBe("npx vitest run ./wrong.test.ts -t 'user/off-by-one-prefix-sum prefix-sum › conformance'");
    const again = shell(rerun ?? '', project);
    expect(again.status, describeRun(again)).toBe(1);
    expect(`${again.stdout}${again.stderr}`).toMatch(/Tests\s+1 failed \| \d+ skipped/);
  }, LONG);
});
