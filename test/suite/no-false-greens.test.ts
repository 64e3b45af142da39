/**
 * No false greens: an invalid declaration is a named error (exit 2), a run that checked nothing
 * fails (exit 1) unless --allow-empty, an all-declined cell is skipped under vitest, NaN answers
 * fail every property, a wrong-shaped answer is an invalid output with every mismatch, and a
 * thrown error keeps its stack in report.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { TestModule } from 'vitest/node';
import ConformanceReporter from '../../suite/vitest-reporter.ts';
import { repositoryModule, runChildVitest } from './child-vitest.ts';
import fc from 'fast-check';
import fftConv from '../../implementations/fft-conv/index.ts';
import type { FamilyName, LinearRecurrenceOutputs, Problem } from '../../spec/families.ts';
import type { FamilyImplementation, ScanImplementation } from '../../spec/implementation.ts';
import { propertyByName } from '../../suite/properties/index.ts';
import { fixtureSourceFromDirectory } from '../../suite/fixture-source.ts';
import { InvalidImplementationError, validateImplementation } from '../../suite/implementation-check.ts';
import { disallowedNonFinite } from '../../suite/pipeline.ts';
import type { ConformanceReport } from '../../suite/results.ts';
import { declarationOf, runImplementation } from '../../suite/runner.ts';
import { describeConformance } from '../../suite/vitest.ts';
import { ROOT, runCli } from '../cli/run-cli.ts';

const TINY = ['--family', 'prefix-sum', '--property', 'conformance', '--property', 'zero-input', '--runs', '3', '--no-fixtures', '--max-length', '32'];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'scan-conformance-no-false-greens-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes a module exporting `source` as its default export and returns its path. */
async function moduleFile(name: string, source: string): Promise<string> {
  const file = path.join(dir, `${name}.mjs`);
  await writeFile(file, source);
  return file;
}

/** A float32 prefix-sum run, as module source. */
const PREFIX_SUM_RUN = `async ({ inputs: { x } }) => {
  const [batch, dim, L] = x.shape;
  const y = new Float32Array(batch * dim * L);
  for (let row = 0; row < batch * dim; row++) { let s = 0; for (let t = 0; t < L; t++) { s = Math.fround(s + x.data[row * L + t]); y[row * L + t] = s; } }
  return { y: { data: y, shape: [batch, dim, L] } };
}`;

describe('an invalid implementation is a named error, exit 2, through the real CLI', () => {
  it.each([
    [
      'a typo in a family key',
      'typo',
      `{ name: 'typo', precision: 'float32', families: { 'linear_recurrence': { run: async () => ({}) } } }`,
      /InvalidImplementationError: implementation 'typo' \(.*typo\.mjs\) is invalid, 1 problem:\n {2}families\['linear_recurrence'\]: expected a family key, one of 'prefix-sum', 'linear-recurrence', 'selective-scan', 'lti-ssm', 'ssd', 'mamba3-siso' \(did you mean 'linear-recurrence'\?\), got key 'linear_recurrence'/,
    ],
    [
      'an invalid precision',
      'f32',
      `{ name: 'f32', precision: 'f32', families: { 'prefix-sum': { run: ${PREFIX_SUM_RUN} } } }`,
      /InvalidImplementationError: implementation 'f32' .* is invalid, 1 problem:\n {2}precision: expected one of 'float64', 'float32', 'float16', 'bfloat16' \(did you mean 'float32'\?\), got "f32"/,
    ],
    [
      'a missing run',
      'no-run',
      `{ name: 'no-run', precision: 'float32', families: { 'prefix-sum': { step: async () => ({}) } } }`,
      /InvalidImplementationError: implementation 'no-run' .* is invalid, 1 problem:\n {2}families\['prefix-sum'\]\.run: expected a function \(problem\) => Promise<outputs>, got undefined \(missing\)/,
    ],
    [
      // It had left the chunk-size property not applicable: the kernel's other chunk sizes never ran.
      'a typo in a family entry field',
      'chunk-typo',
      `{ name: 'chunk-typo', precision: 'float32', families: { 'prefix-sum': { run: ${PREFIX_SUM_RUN}, chunkSize: [32, 64] } } }`,
      /InvalidImplementationError: implementation 'chunk-typo' .* is invalid, 1 problem:\n {2}families\['prefix-sum'\]\.chunkSize: expected no such field \(fields: run, decline, step, vjp, errorModel, chunkSizes, runVarlen\) \(did you mean 'chunkSizes'\?\), got key 'chunkSize'/,
    ],
    [
      'chunk sizes that are not a list of distinct positive integers',
      'chunk-sizes',
      `{ name: 'chunk-sizes', precision: 'float32', families: { 'prefix-sum': { run: ${PREFIX_SUM_RUN}, chunkSizes: [64, 0, 64] }, 'linear-recurrence': { run: async () => ({}), chunkSizes: 64 } } }`,
      /is invalid, 3 problems:\n {2}families\['prefix-sum'\]\.chunkSizes\[1\]: expected a positive safe integer, got number 0\n {2}families\['prefix-sum'\]\.chunkSizes\[2\]: expected a size not listed before \(each size once\), got 64 again \(also at \[0\]\)\n {2}families\['linear-recurrence'\]\.chunkSizes: expected a non-empty array of positive integers \(the chunk sizes a run may ask for\), got number 64/,
    ],
  ])('%s', async (_, name, source, message) => {
    const file = await moduleFile(name, `export default ${source};\n`);
    const result = await runCli(['check', '--impl', file, ...TINY, '--out', path.join(dir, 'never')]);
    expect(result.stderr).toMatch(message);
    expect(result.code).toBe(2);
  });

  it('lists every problem at once, expectedFailures included', async () => {
    const file = await moduleFile(
      'many',
      `export default {
        name: 'many', precision: 'f16', accumulation: 'double', subnormals: 'ftz',
        families: { 'prefix-sum': { run: 'not a function', errorModel: 'normal' }, 'lti_ssm': { run: async () => ({}) } },
        expectedFailures: [{ family: 'selective-scan', propery: 'conformance', regime: 'hug', options: { reversed: true }, reason: '' }],
      };\n`,
    );
    const result = await runCli(['check', '--impl', file, ...TINY]);
    expect(result.code).toBe(2);
    const fields = [...result.stderr.matchAll(/^ {2}(\S+): expected/gm)].map((m) => m[1]);
    expect(fields).toEqual([
      'precision',
      'accumulation',
      'subnormals',
      "families['prefix-sum'].run",
      "families['prefix-sum'].errorModel",
      "families['lti_ssm']",
      'expectedFailures[0].propery',
      'expectedFailures[0].family',
      'expectedFailures[0].regime',
      'expectedFailures[0].options.reversed',
      'expectedFailures[0].reason',
    ]);
    expect(result.stderr).toContain("expectedFailures[0].propery: expected no such key (keys: family, property, regime, options, reason) (did you mean 'property'?), got key 'propery'");
    expect(result.stderr).toContain("precision: expected one of 'float64', 'float32', 'float16', 'bfloat16' (did you mean 'float16'?), got \"f16\"");
  });

  it('rejects an accumulation narrower than the precision (the tolerance would ignore it)', () => {
    const narrow = { name: 'narrow', precision: 'float32', accumulation: 'bfloat16', families: { 'prefix-sum': { run: async () => ({}) } } };
    expect(() => validateImplementation(narrow)).toThrow("accumulation: expected absent or at least as wide as precision 'float32' ('float64', 'float32'), got \"bfloat16\"");
    expect(validateImplementation({ ...narrow, precision: 'float16', accumulation: 'float32' }).accumulation).toBe('float32');
  });

  it('describeConformance throws it when declared', () => {
    const bad = { name: 'bad', precision: 'float32', families: { 'linear_recurrence': { run: async () => ({}) } } } as unknown as ScanImplementation;
    expect(() => describeConformance(bad)).toThrow(InvalidImplementationError);
    expect(() => describeConformance(bad)).toThrow(/describeConformance.*\n {2}families\['linear_recurrence'\]: expected a family key/);
  });
});

describe('a run that checked nothing fails unless --allow-empty', () => {
  it('zero cells: exit 1 with the reason in words; exit 0 with --allow-empty', async () => {
    const file = await moduleFile('prefix-only', `export default { name: 'prefix-only', precision: 'float32', families: { 'prefix-sum': { run: ${PREFIX_SUM_RUN} } } };\n`);
    const args = ['check', '--impl', file, '--family', 'lti-ssm', '--no-fixtures', '--runs', '2'];
    const failed = await runCli([...args, '--out', path.join(dir, 'empty')]);
    expect(failed.stdout).toContain('❌ 1 unexpected failure: nothing was checked: no cell ran (prefix-only has no cell (none of its families was asked for)) · 1 implementation, 0 cells');
    expect(failed.code).toBe(1);
    const allowed = await runCli([...args, '--allow-empty', '--out', path.join(dir, 'empty-allowed')]);
    expect(allowed.stdout).toContain('PASS ✅ no unexpected failure: nothing was checked: no cell ran');
    expect(allowed.stdout).toContain('(allowed by --allow-empty)');
    expect(allowed.code).toBe(0);
    const report = JSON.parse(await readFile(path.join(dir, 'empty-allowed', 'report.json'), 'utf8')) as ConformanceReport;
    expect(report.settings.allowEmpty).toBe(true);
    expect(report.summary.nothingChecked).toMatch(/^nothing was checked/);
  });

  it('cases without an output element compared nothing: --max-length 0 leaves prefix-sum no cell that ran, linear-recurrence its final state', async () => {
    const wrong = path.join(import.meta.dirname, '..', 'cli', 'modules', 'wrong.ts');
    const result = await runCli(['check', '--impl', wrong, '--family', 'prefix-sum', '--property', 'conformance', '--runs', '5', '--no-fixtures', '--max-length', '0', '--out', path.join(dir, 'length-0')]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('❌ 1 unexpected failure: nothing was checked: no cell ran a case (1 cell: 1 not-applicable)');
    const [cell] = (JSON.parse(await readFile(path.join(dir, 'length-0', 'report.json'), 'utf8')) as ConformanceReport).implementations[0].cells;
    expect(cell).toMatchObject({ outcome: 'not-applicable', runs: 0, reason: 'every case it drew (5) had no output element (an empty sequence or batch: --max-length 0): nothing was compared' });
    const withState = await runCli(['check', '--only', 'sequential-f32', '--family', 'linear-recurrence', '--property', 'conformance', '--runs', '5', '--no-fixtures', '--max-length', '0', '--out', path.join(dir, 'length-0-state')]);
    expect(withState.code).toBe(0);
    expect(withState.stdout).toContain('PASS ✅ no unexpected failure · 1 implementation, 1 cell: 1 pass');
  });

  const declining = `export default { name: 'decliner', precision: 'float32', families: { 'prefix-sum': { run: ${PREFIX_SUM_RUN}, decline: () => 'this kernel takes no input at all' } } };\n`;

  it('every case declined: exit 1, the verdict says so', async () => {
    const file = await moduleFile('decliner', declining);
    const result = await runCli(['check', '--impl', file, '--family', 'prefix-sum', '--property', 'fixtures', '--property', 'conformance', '--runs', '2', '--out', path.join(dir, 'declined')]);
    expect(result.stdout).toContain(
      '❌ 1 unexpected failure: nothing was checked: every case was declined (2 cells: 2 declined; first decline reason: this kernel takes no input at all)',
    );
    expect(result.code).toBe(1);
  });

  it('under vitest, an all-declined cell is skipped with its reason, never passed', async () => {
    const file = await moduleFile('decliner-vitest', declining);
    const json = path.join(dir, 'vitest.json');
    const result = await runChildVitest(
      'declines',
      `import { describeConformance } from ${repositoryModule('suite/vitest.ts')};
import implementation from ${JSON.stringify(pathToFileURL(file).href)};
describeConformance(implementation, { runs: 2, properties: ['fixtures', 'conformance', 'zero-input'] });
`,
      { reporter: ['--reporter=json', `--outputFile=${json}`], env: { SCAN_CONFORMANCE_RUNS: '2' }, folder: dir },
    );
    const output = JSON.parse(await readFile(json, 'utf8')) as {
      numPassedTests: number;
      numPendingTests: number;
      testResults: { assertionResults: { title: string; status: string; meta?: { scanConformanceCell?: { outcome: string; declineReason?: string } } }[] }[];
    };
    const tests = output.testResults.flatMap((r) => r.assertionResults);
    expect(tests.map((t) => [t.title, t.status])).toEqual([
      ['prefix-sum › fixtures', 'skipped'],
      ['prefix-sum › conformance', 'skipped'],
      ['prefix-sum › zero-input', 'skipped'],
    ]);
    for (const t of tests) expect(t.meta?.scanConformanceCell).toMatchObject({ outcome: 'declined', declineReason: 'this kernel takes no input at all' });
    expect(output.numPassedTests).toBe(0);
    expect(result.status, result.stderr).toBe(0);
  }, 60_000);
});

describe("the vitest reporter's report agrees with vitest", () => {
  it('an implementation whose setup or dispose throws is crashed in the report, and a correct cell slower than vitest\'s 5 s passes', async () => {
    const work = await mkdtemp(path.join(os.tmpdir(), 'scan-conformance-reporter-'));
    try {
      const out = path.join(work, 'report');
      await writeFile(
        path.join(work, 'crashes.test.ts'),
        `import { describeConformance } from ${repositoryModule('suite/vitest.ts')};
import { correctPrefixSum, prefixSumF32 } from ${repositoryModule('test/cli/modules/prefix-sums.ts')};
const options = { runs: 4, maxLength: 8, properties: ['conformance'] as const, fixtures: false as const };
describeConformance({ ...correctPrefixSum, name: 'setup-throws', setup: async () => { throw new Error('no device here'); } }, options);
describeConformance({ ...correctPrefixSum, name: 'dispose-throws', dispose: async () => { throw new Error('leaked a buffer'); } }, options);
// 4 cases of 1.6 s: past vitest's default test timeout, which the suite's own limits replace.
describeConformance({ ...correctPrefixSum, name: 'slow-correct', families: { 'prefix-sum': { run: async (p) => { await new Promise((r) => setTimeout(r, 1600)); return prefixSumF32(p, false); } } } }, options);
`,
      );
      await writeFile(
        path.join(work, 'vitest.config.mjs'),
        `export default { test: { include: ['crashes.test.ts'], pool: 'forks', reporters: ['default', [${repositoryModule('suite/vitest-reporter.ts')}, { outDir: ${JSON.stringify(out)} }]] } };\n`,
      );
      const result = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--root', work, '--config', path.join(work, 'vitest.config.mjs')], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      });
      expect(result.status, result.stdout + result.stderr).toBe(1);
      const report = JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8')) as ConformanceReport;
      const byName = new Map(report.implementations.map((i) => [i.name, i]));
      expect(byName.get('setup-throws')).toMatchObject({ status: 'crashed', statusReason: 'Error: no device here' });
      expect(byName.get('setup-throws')?.cells).toMatchObject([{ property: 'conformance', outcome: 'error', reason: 'not run: Error: no device here' }]);
      expect(byName.get('dispose-throws')).toMatchObject({ status: 'crashed', statusReason: 'Error: dispose threw: leaked a buffer' });
      expect(byName.get('slow-correct')?.cells).toMatchObject([{ property: 'conformance', outcome: 'pass', runs: 4 }]);
      expect(report.summary.unexpectedFailures).toBe(3);
      expect(await readFile(path.join(out, 'report.md'), 'utf8')).toMatch(/FAIL ❌\**:? 3 unexpected failures/);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('the vitest reporter, on a test that failed before its cell ended', () => {
  it('writes an error cell naming the failure, so its report cannot pass', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'scan-conformance-unended-'));
    const facts = { name: 'test/unended', precision: 'float32' as const, errorModels: {}, environment: {} };
    const test = {
      meta: () => ({ scanConformanceImplementation: facts, scanConformancePlanned: { implementation: facts, family: 'prefix-sum', property: 'conformance' } }),
      result: () => ({ state: 'failed', errors: [{ message: 'the suite threw (simulated)' }] }),
      parent: { type: 'suite', state: () => 'passed', errors: () => [] },
      diagnostic: () => ({ duration: 3 }),
    };
    const module = { children: { allTests: () => [test] } } as unknown as TestModule;
    const said = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await new ConformanceReporter({ outDir: out }).onTestRunEnd([module]);
      const report = JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8')) as ConformanceReport;
      expect(report.implementations[0].cells).toMatchObject([{ property: 'conformance', outcome: 'error', reason: 'the test failed before its cell ended: the suite threw (simulated)' }]);
      // The error cell, and the run that ran no case: nothing was checked.
      expect(report.summary.unexpectedFailures).toBe(2);
    } finally {
      said.mockRestore();
      await rm(out, { recursive: true, force: true });
    }
  });
});

/** A linear recurrence returning `fill` everywhere (NaN: the answer of a broken kernel). */
function constantRecurrence(name: string, fill: number): ScanImplementation {
  return {
    name,
    precision: 'float32',
    families: {
      'linear-recurrence': {
        async run(problem: Problem<'linear-recurrence'>): Promise<LinearRecurrenceOutputs> {
          const [batch, dim, L] = problem.inputs.a.shape;
          return {
            h: { data: new Float32Array(batch * dim * L).fill(fill), shape: [batch, dim, L] },
            lastState: { data: new Float32Array(batch * dim).fill(fill), shape: [batch, dim] },
          };
        },
      },
    },
  };
}

describe('answers that are not numbers, or not the right tensors', () => {
  it('an all-NaN implementation fails every property, each naming the non-finite output', async () => {
    const report = await runImplementation(constantRecurrence('test/all-nan', Number.NaN), {
      runs: 4,
      maxLength: 32,
      fixtures: fixtureSourceFromDirectory(undefined, { maxLength: 8 }),
    });
    const outcomes = Object.fromEntries(report.cells.map((c) => [c.property, c.outcome]));
    for (const property of ['fixtures', 'conformance', 'state-passing', 'scaling', 'linearity', 'identity-padding', 'zero-input', 'reverse-flip', 'causality', 'batch-permutation']) {
      expect(outcomes[property], property).toBe('fail');
    }
    // Determinism is informational: reported, never required; it must not read as a pass.
    expect(outcomes.determinism).toBe('informational');
    for (const property of ['scaling', 'identity-padding', 'reverse-flip', 'causality', 'batch-permutation', 'determinism']) {
      const cell = report.cells.find((c) => c.property === property);
      expect(cell?.counterexample?.message, property).toMatch(/^non-finite output: \d+ of \d+ elements are NaN or ±Inf where the reference is finite; first (h|lastState)\[[\d, ]+\]: NaN where the reference is /);
      expect(cell?.counterexample?.worst?.got, property).toBeNaN();
    }
  });

  it('+Inf where the true sum leaves the float32 range is allowed (a correct kernel is never rejected); NaN there is not', () => {
    const problem = { family: 'prefix-sum', inputs: { x: { data: Float32Array.of(3e38, 3e38, -1), shape: [1, 1, 3] } }, options: { exclusive: false, reverse: false } } as const;
    const declaration = { precision: 'float32', errorModel: 'componentwise' } as const;
    const answer = (last: number) => ({ y: { data: Float32Array.of(3e38, Number.POSITIVE_INFINITY, last), shape: [1, 1, 3] } });
    expect(disallowedNonFinite(problem as never, answer(Number.POSITIVE_INFINITY), declaration)).toBeUndefined();
    const finiteWhereOverflowed = { y: { data: Float32Array.of(Number.NaN, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY), shape: [1, 1, 3] } };
    expect(disallowedNonFinite(problem as never, finiteWhereOverflowed, declaration)?.message).toMatch(/^non-finite output: 1 of 3 elements .* first y\[0, 0, 0\]: NaN where the reference is 3\.0000000054977558e\+38/);
  });

  it('a wrong-shaped answer is an invalid output listing every mismatch, once per cell', async () => {
    const wrongShape: ScanImplementation = {
      name: 'test/wrong-shape',
      precision: 'float32',
      families: {
        'linear-recurrence': {
          run: async (problem) => {
            const [batch, dim, L] = problem.inputs.a.shape;
            return { h: { data: new Float32Array(batch * dim * L), shape: [batch * dim * L] }, state: { data: new Float32Array(batch * dim), shape: [batch, dim] } } as never;
          },
        },
      },
    };
    const report = await runImplementation(wrongShape, {
      runs: 3,
      maxLength: 16,
      properties: ['fixtures', 'conformance', 'scaling'],
      fixtures: fixtureSourceFromDirectory(undefined, { maxLength: 4 }),
    });
    for (const cell of report.cells) {
      expect(cell.outcome, cell.property).toBe('fail');
      const c = cell.counterexample;
      expect(c?.message, cell.property).toMatch(/invalid output \(3 mismatches\): linear-recurrence outputs: state: expected no such output \(outputs: h, lastState\), got key 'state'; h\.shape: expected \[\d+, \d+, \d+\], got \[\d+\]; lastState: expected a tensor of shape \[\d+, \d+\], got undefined \(missing\)$/);
      expect(c?.message).not.toContain('threw');
      expect(c?.mismatches?.map((m) => m.field), cell.property).toEqual(['state', 'h.shape', 'lastState']);
    }
  });

  it("a throwing kernel's stack is in report.json; report.md keeps the one-line message", async () => {
    const file = await moduleFile(
      'thrower',
      `function explodingKernel() { throw new RangeError('kernel exploded'); }
export default { name: 'thrower', precision: 'float32', families: { 'prefix-sum': { run: async () => explodingKernel() } } };\n`,
    );
    const out = path.join(dir, 'thrower-report');
    const result = await runCli(['check', '--impl', file, '--family', 'prefix-sum', '--property', 'conformance', '--property', 'fixtures', '--runs', '2', '--max-length', '8', '--out', out]);
    expect(result.code).toBe(1);
    const report = JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8')) as ConformanceReport;
    const cells = report.implementations[0].cells;
    expect(cells.map((c) => c.property).sort()).toEqual(['conformance', 'fixtures']);
    for (const cell of cells) {
      expect(cell.counterexample?.message).toMatch(/the implementation threw: RangeError: kernel exploded$/);
      expect(cell.counterexample?.stack).toMatch(/^RangeError: kernel exploded\n\s+at explodingKernel \(.*thrower\.mjs:1:/);
    }
    const markdown = await readFile(path.join(out, 'report.md'), 'utf8');
    expect(markdown).toContain('the implementation threw: RangeError: kernel exploded');
    expect(markdown).not.toContain('at explodingKernel');
  });
});

describe('a convolution kernel gets real causality cases, and no identity-padding cell that checks nothing', () => {
  const fft = fftConv.find((i) => i.name === 'fft-conv-f32')!;
  const entry = fft.families['selective-scan'] as FamilyImplementation<FamilyName>;

  it('causality keeps a convolution case (constant Δ) a convolution, so the FFT computes it instead of declining', async () => {
    const causality = propertyByName('causality')!;
    const cases = fc.sample(causality.arbitrary('selective-scan', { maxLength: 64 }), { numRuns: 200, seed: 42 }).filter((c) => c.timeInvariant && c.problem.inputs.delta.shape[2] >= 2);
    expect(cases.length).toBeGreaterThan(10);
    const context = { family: 'selective-scan' as FamilyName, entry, declaration: declarationOf(fft, 'selective-scan'), timeoutMs: 60_000 };
    for (const c of cases.slice(0, 12)) {
      const result = await causality.check(context, c);
      expect(result.kind, JSON.stringify(c.request)).toBe('pass');
    }
  });

  it('identity-padding is not applicable to a normwise selective-scan (identity steps break its constant Δ)', async () => {
    const report = await runImplementation(fft, { families: ['selective-scan'], properties: ['identity-padding'], runs: 3 });
    expect(report.cells.map((c) => [c.property, c.outcome])).toEqual([['identity-padding', 'not-applicable']]);
    expect(report.cells[0].reason).toMatch(/constant over time/);
  });
});

describe('the step property consults decline, as every property does', () => {
  it('a step cell whose every problem is declined is declined, not run', async () => {
    let steps = 0;
    const declining: ScanImplementation = {
      name: 'test/declines-everything-with-a-step',
      precision: 'float32',
      families: {
        'prefix-sum': {
          run: async () => {
            throw new Error('never called');
          },
          decline: () => 'this kernel takes nothing',
          step: async () => {
            steps++;
            throw new Error('never called');
          },
        },
      },
    };
    const report = await runImplementation(declining, { properties: ['step'], runs: 3 });
    expect(report.cells.map((c) => [c.property, c.outcome, c.declineReason])).toEqual([['step', 'declined', 'this kernel takes nothing']]);
    expect(steps).toBe(0);
  });
});
