/**
 * The revision of the code a run ran, so that shards of one run can be told from shards of two:
 * in a git checkout, the commit and a hash of every uncommitted change (tracked diffs and the
 * names of untracked files), or of the code a run executes alone (runCodeRevision); in an installed package, its version.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { toolVersion } from './tool-version.ts';

let cached: string | undefined;
let cachedRunCode: string | undefined;

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Runs git in the checkout whose top is `root` (`input` on its stdin); throws outside one (not a package installed inside someone's repository). */
function gitOfPackage(root = ROOT): (args: string[], input?: string) => string {
  const git = (args: string[], input = '') => execFileSync('git', ['-C', root, ...args], { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'ignore'], maxBuffer: 256 * 1024 * 1024 });
  if (path.resolve(git(['rev-parse', '--show-toplevel']).trim()) !== path.resolve(root)) throw new Error('not the checkout of this package');
  return git;
}

/** `<commit>` or `<commit>+<hash of uncommitted changes>` in a git checkout of the package; `version <v>` elsewhere. */
export function codeRevision(): string {
  if (cached !== undefined) return cached;
  try {
    const git = gitOfPackage();
    const commit = git(['rev-parse', 'HEAD']).trim();
    const changes = git(['diff', 'HEAD', '--binary']) + git(['ls-files', '--others', '--exclude-standard']);
    cached = changes === '' ? commit : `${commit}+${createHash('sha256').update(changes).digest('hex').slice(0, 16)}`;
  } catch {
    cached = `version ${toolVersion()}`;
  }
  return cached;
}

/** The checkout's paths that a run does not execute: tests, benchmarks, docs, CI set-up, the sweep that starts runs, and Markdown. */
const NOT_RUN = ['test', 'bench', 'docs', '.github', '.ci', 'scripts/sweep.ts'];

/**
 * The revision of the code a run executes: `code <hash>` of the content of every file of the
 * checkout (committed or not, ignored ones left out) but tests, benchmarks, docs, CI set-up, the
 * sweep and Markdown, so that a commit of notes or tests keeps it (a long sweep resumed across such
 * commits); `version <v>` outside a checkout.
 */
export function runCodeRevision(): string {
  cachedRunCode ??= runCodeRevisionOf(ROOT);
  return cachedRunCode;
}

/** runCodeRevision of the checkout at `root`. */
export function runCodeRevisionOf(root: string): string {
  try {
    const git = gitOfPackage(root);
    const pathspec = ['--', '.', ...NOT_RUN.map((p) => `:(exclude)${p}`), ':(exclude)*.md'];
    // Every tracked or untracked (not ignored) file as it is on disk, by its blob hash: the same
    // files give the same revision whether or not they are committed yet.
    const files = git(['ls-files', '-z', '--cached', '--others', '--exclude-standard', ...pathspec])
      .split('\0')
      .filter((file) => file !== '' && existsSync(path.join(root, file)));
    const unique = [...new Set(files)].sort();
    const blobs = unique.length === 0 ? '' : git(['hash-object', '--stdin-paths'], unique.join('\n'));
    const listing = blobs.split('\n').filter(Boolean).map((blob, i) => `${blob} ${unique[i]}`).join('\n');
    return `code ${createHash('sha256').update(listing).digest('hex').slice(0, 16)}`;
  } catch {
    return `version ${toolVersion()}`;
  }
}
