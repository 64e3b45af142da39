/**
 * The GitHub Actions workflows in .github/workflows/ are valid workflow files, by
 * @action-validator/core (the JSON schema of workflows plus GitHub's own rules, compiled to wasm:
 * it runs offline), and every npm script they call, directly or through a .ci/ script they run,
 * is a script of package.json: renaming a script breaks this test, not the nightly run.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateWorkflow } from '@action-validator/core';
import { describe, expect, it } from 'vitest';
import { parseSweepArguments, selectImplementations } from '../../scripts/sweep.ts';
import { discoverImplementations } from '../../suite/registry.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WORKFLOWS = path.join(ROOT, '.github/workflows');
const workflows = readdirSync(WORKFLOWS).filter((name) => /\.ya?ml$/.test(name)).sort();
const scripts = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

const read = (file: string): string => readFileSync(path.join(ROOT, file), 'utf8');

/** The validator's errors, one line each: where, what, and the detail. */
function errorsOf(text: string): string[] {
  return validateWorkflow(text).errors.map((e) => `${'path' in e ? e.path : `line ${e.location?.line ?? '?'}`}: ${e.title}${e.detail ? ` (${e.detail})` : ''}`);
}

/** The text a workflow runs: itself and the repository's shell scripts it runs with `bash <file>`. */
function textRun(workflow: string): string {
  const text = read(path.join('.github/workflows', workflow));
  const called = [...text.matchAll(/\bbash\s+(\.ci\/[\w./-]+)/g)].map((m) => read(m[1]));
  return [text, ...called].join('\n');
}

/** The npm scripts a text calls: `npm test`, `npm run <name>`. */
function npmScriptsCalled(text: string): string[] {
  const named = [...text.matchAll(/\bnpm\s+run(?:-script)?\s+([\w:.-]+)/g)].map((m) => m[1]);
  const builtIn = [...text.matchAll(/\bnpm\s+(test|start|stop|restart)\b/g)].map((m) => m[1]);
  return [...new Set([...named, ...builtIn])].sort();
}

describe('.github/workflows', () => {
  it('has the quick run on every push, the nightly sharded deep run, the fixtures regeneration and the nightly sweep', () => {
    expect(workflows).toEqual(['ci.yml', 'fixtures.yml', 'nightly-sweep.yml', 'nightly.yml']);
  });

  it.each(workflows)('%s is a valid workflow', (workflow) => {
    expect(errorsOf(read(path.join('.github/workflows', workflow)))).toEqual([]);
  });

  it('the validator rejects a broken workflow (it is not a validator that accepts everything)', () => {
    const text = read('.github/workflows/nightly.yml');
    expect(errorsOf(text.replace('runs-on: ubuntu-latest', 'runs_on: ubuntu-latest')).length).toBeGreaterThan(0);
    expect(errorsOf(text.replace("- cron: '43 1 * * *'", '- cron: 7')).length).toBeGreaterThan(0);
    expect(errorsOf('on: push\njobs: [\n')).not.toEqual([]);
  });

  it.each(workflows)('%s calls only npm scripts that package.json has', (workflow) => {
    const called = npmScriptsCalled(textRun(workflow));
    expect(called.length, `${workflow} calls no npm script`).toBeGreaterThan(0);
    for (const name of called) expect(scripts[name], `${workflow} calls npm run ${name}, which package.json does not define`).toBeDefined();
  });

  it('the runs the README promises are there: tests, conformance, a sharded deep run, the fixtures check, the sweep', () => {
    const all = workflows.map(textRun).join('\n');
    expect(npmScriptsCalled(all)).toEqual(expect.arrayContaining(['test', 'conformance', 'fixtures', 'fixtures:check', 'sweep']));
    expect(read('.github/workflows/nightly.yml')).toMatch(/npm run conformance -- --deep --shard \$\{\{ matrix\.shard \}\}\/\$\{\{ strategy\.job-total \}\}/);
    expect(read('.github/workflows/nightly.yml')).toMatch(/scan-conformance\.js merge shards\/\*\/report\.json --out merged/);
  });

  it('the nightly sweep runs every shipped implementation on seeds 1 to 20 (tfjs-cpu, over an hour a seed, on 1 to 3), issue 15', async () => {
    const text = read('.github/workflows/nightly-sweep.yml');
    const matrixArgs = [...text.matchAll(/^\s*- \{ name: [^,]+, args: '([^']*)' \}$/gm)].map((m) => m[1]);
    expect(matrixArgs.length).toBeGreaterThan(0);
    const shipped = (await discoverImplementations()).map((i) => i.name);
    const seedsOf = new Map<string, Set<number>>(shipped.map((name) => [name, new Set()]));
    for (const args of matrixArgs) {
      const parsed = parseSweepArguments(args.split(/\s+/));
      for (const name of selectImplementations(shipped, parsed.only, parsed.exclude)) for (const seed of parsed.seeds) seedsOf.get(name)!.add(seed);
    }
    const range = (to: number) => Array.from({ length: to }, (_, i) => i + 1);
    for (const name of shipped) expect([...seedsOf.get(name)!].sort((a, b) => a - b), name).toEqual(expect.arrayContaining(range(name === 'tfjs-cpu' ? 3 : 20)));
  });
});
