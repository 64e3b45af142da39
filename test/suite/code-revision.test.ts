/** The code revisions a run records (suite/code-revision.ts), in a scratch git checkout. */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCodeRevisionOf } from '../../suite/code-revision.ts';
import { toolVersion } from '../../suite/tool-version.ts';

describe('runCodeRevision', () => {
  it('changes with the code a run executes, not with tests, benchmarks, docs, the sweep or Markdown', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'code-revision-'));
    const git = (...args: string[]) => execFileSync('git', ['-C', root, ...args], { encoding: 'utf8' });
    const put = async (file: string, text: string) => {
      await mkdir(path.dirname(path.join(root, file)), { recursive: true });
      await writeFile(path.join(root, file), text);
    };
    git('init', '-q');
    for (const file of ['suite/a.ts', 'test/a.test.ts', 'bench/runs.md', 'docs/x.txt', 'README.md', 'scripts/sweep.ts']) await put(file, 'one\n');
    git('add', '-A');
    git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'one');
    const first = runCodeRevisionOf(root);
    expect(first).toMatch(/^code [0-9a-f]{16}$/);

    for (const file of ['test/a.test.ts', 'bench/runs.md', 'docs/x.txt', 'README.md', 'test/new.test.ts', 'scripts/sweep.ts']) await put(file, 'two\n');
    expect(runCodeRevisionOf(root)).toBe(first);
    git('add', '-A');
    git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'tests and notes');
    expect(runCodeRevisionOf(root)).toBe(first);

    await put('suite/a.ts', 'two\n');
    const edited = runCodeRevisionOf(root);
    expect(edited).not.toBe(first);
    git('add', '-A');
    git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'code');
    expect(runCodeRevisionOf(root)).toBe(edited);
    await put('suite/b.ts', 'new\n');
    expect(runCodeRevisionOf(root)).not.toBe(edited);
  });

  it('is the version outside a checkout', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'no-checkout-'));
    expect(runCodeRevisionOf(root)).toBe(`version ${toolVersion()}`);
  });
});
