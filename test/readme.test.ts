/** The README's examples are the real thing: the plug-in example passes the suite, the commands exist. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import example from '../examples/my-implementation.ts';
import { runImplementation } from '../suite/runner.ts';
import { FAILING_OUTCOMES } from '../suite/results.ts';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
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
    const report = await runImplementation(example, { runs: 8, fixtures: fixtureSourceFromDirectory(undefined, { maxLength: 4096 }) });
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

  it('names only commands and files that exist', () => {
    for (const file of ['examples/testees/python/numpy_testee.py', 'examples/python/check_fixture.py', 'spec/tolerance.md', 'spec/protocol.md', '.ci/install-lavapipe.sh']) {
      expect(readme).toContain(file);
      expect(() => readFileSync(new URL(`../${file}`, import.meta.url))).not.toThrow();
    }
    for (const script of ['fixtures', 'fixtures:check', 'bench', 'conformance']) expect(packageJson.scripts[script]).toBeDefined();
  });
});
