/**
 * Runs one test file under a vitest of its own (a child process, forks pool) in a temporary
 * folder: for tests of what describeConformance shows through vitest's own reporters.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The file URL of a module of this repository, as a JavaScript string literal for an import. */
export function repositoryModule(relative: string): string {
  return JSON.stringify(pathToFileURL(path.join(ROOT, relative)).href);
}

/**
 * Writes `source` as `<name>.test.ts` in a new folder (or `folder`), runs vitest there with the given
 * reporter flags and extra environment, and returns what it printed; the new folder is removed after.
 */
export async function runChildVitest(name: string, source: string, options: { readonly reporter?: readonly string[]; readonly env?: NodeJS.ProcessEnv; readonly folder?: string } = {}): Promise<SpawnSyncReturns<string>> {
  const dir = options.folder ?? (await mkdtemp(path.join(tmpdir(), `${name}-vitest-`)));
  try {
    await writeFile(path.join(dir, `${name}.test.ts`), source);
    await writeFile(path.join(dir, 'vitest.config.mjs'), `export default { test: { include: ['${name}.test.ts'], pool: 'forks' } };\n`);
    const reporter = options.reporter ?? ['--reporter=verbose'];
    return spawnSync(process.execPath, [path.join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--root', dir, '--config', path.join(dir, 'vitest.config.mjs'), ...reporter], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...options.env },
    });
  } finally {
    if (options.folder === undefined) await rm(dir, { recursive: true, force: true });
  }
}
