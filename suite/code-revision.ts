/**
 * The revision of the code a run ran, so that shards of one run can be told from shards of two:
 * in a git checkout, the commit and a hash of every uncommitted change (tracked diffs and the
 * names of untracked files); in an installed package, its version.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { toolVersion } from './tool-version.ts';

let cached: string | undefined;

/** `<commit>` or `<commit>+<hash of uncommitted changes>` in a git checkout of the package; `version <v>` elsewhere. */
export function codeRevision(): string {
  if (cached !== undefined) return cached;
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const git = (...args: string[]) => execFileSync('git', ['-C', root, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 256 * 1024 * 1024 });
  try {
    // Only when the package itself is the checkout's top (not a package installed inside someone's repository).
    if (path.resolve(git('rev-parse', '--show-toplevel').trim()) !== root) throw new Error('not the checkout of this package');
    const commit = git('rev-parse', 'HEAD').trim();
    const changes = git('diff', 'HEAD', '--binary') + git('ls-files', '--others', '--exclude-standard');
    cached = changes === '' ? commit : `${commit}+${createHash('sha256').update(changes).digest('hex').slice(0, 16)}`;
  } catch {
    cached = `version ${toolVersion()}`;
  }
  return cached;
}
