/** The README's examples are the real thing: the plug-in example passes the suite, the commands exist. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import example from '../examples/my-implementation.ts';
import { runImplementation } from '../suite/runner.ts';
import { FAILING_OUTCOMES } from '../suite/results.ts';
import { ENVIRONMENT, MODES } from '../suite/settings.ts';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const toleranceDoc = readFileSync(new URL('../spec/tolerance.md', import.meta.url), 'utf8');
const packageJson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };

describe('README', () => {
  it('shows examples/my-implementation.ts verbatim, in about 20 lines of code', () => {
    const source = readFileSync(new URL('../examples/my-implementation.ts', import.meta.url), 'utf8').trimEnd();
    expect(readme).toContain(source);
    const code = source.split('\n').filter((line) => line.trim() !== '' && !line.trim().startsWith('//'));
    expect(code.length).toBeLessThanOrEqual(25);
  });

  it('the plug-in example passes every property and the fixtures of its family', async () => {
    const { fixtureSourceFromDirectory } = await import('../suite/fixture-source.ts');
    const report = await runImplementation(example, { runs: MODES.quick.runs, fixtures: fixtureSourceFromDirectory(undefined, { maxLength: MODES.quick.fixtureMaxLength }) });
    expect(report.status).toBe('ok');
    const failing = report.cells.filter((c) => FAILING_OUTCOMES.includes(c.outcome));
    expect(failing.map((c) => `${c.property}: ${c.reason}`)).toEqual([]);
    expect(report.cells.filter((c) => c.outcome === 'pass').map((c) => c.property)).toContain('fixtures');
  });

  it('gives the two set-up commands, and both are scripts of package.json', () => {
    expect(readme).toContain('npm ci && npm run conformance');
    expect(readme).toMatch(/^npm test\b/m);
    expect(packageJson.scripts.conformance).toBeDefined();
    expect(packageJson.scripts.test).toBeDefined();
  });

  it('states the defaults of suite/settings.ts, the one place they are set', () => {
    const { quick, deep } = MODES;
    expect(readme).toContain(`a quick default (${quick.runs} cases per property, L ≤ ${quick.maxLength})`);
    expect(readme).toContain(`\`describeConformance\` (quick mode) replays the fixtures up to L = ${quick.fixtureMaxLength}`);
    expect(readme).toContain(`\`${ENVIRONMENT.deep}=1\` (${deep.runs} cases per property, L ≤ ${deep.maxLength})`);
    expect(readme).toContain(`\`${ENVIRONMENT.runs}\` and \`${ENVIRONMENT.seed}\` override runs and seed`);
    // The measurements of spec/tolerance.md were taken at these settings: a new default asks for new measurements.
    expect(toleranceDoc).toContain(`(${quick.runs} cases per property, L ≤ ${quick.maxLength}, every committed fixture;`);
    expect(toleranceDoc).toContain(`${ENVIRONMENT.deep}=1 npx vitest run test/suite/sound-and-sharp.test.ts\`: ${deep.runs} cases per cell,\nL ≤ ${deep.maxLength}`);
  });

  it('documents the sharding flags check and merge have', async () => {
    const { HELP, parseCliArguments } = await import('../scripts/cli-arguments.ts');
    for (const flag of ['--jobs', '--shard', '--timings', '--allow-incomplete', 'merge']) {
      expect(readme).toContain(flag);
      expect(HELP).toContain(flag);
    }
    expect(readme).toContain(ENVIRONMENT.jobs);
    expect(parseCliArguments(['check', '--shard', '2/3', '--out', 'reports/shard-2'])).toMatchObject({ shard: { index: 2, count: 3 } });
    expect(parseCliArguments(['merge', 'a/report.json', 'b/report.json', '--out', 'reports'])).toEqual({ command: 'merge', files: ['a/report.json', 'b/report.json'], out: 'reports', allowIncomplete: false });
  });

  it('names only commands and files that exist', () => {
    for (const file of ['examples/testees/python/numpy_testee.py', 'examples/python/check_fixture.py', 'spec/tolerance.md', 'spec/protocol.md', '.ci/install-lavapipe.sh']) {
      expect(readme).toContain(file);
      expect(() => readFileSync(new URL(`../${file}`, import.meta.url))).not.toThrow();
    }
    for (const script of ['fixtures', 'fixtures:check', 'bench', 'conformance']) expect(packageJson.scripts[script]).toBeDefined();
  });
});
