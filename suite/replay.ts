/**
 * Replay commands, printed under every failure: each one runs as printed, from the folder the run
 * started in — `npx scan-conformance check` (not a bare `scan-conformance`, which a local install
 * does not put on PATH), the implementation's real module path or testee command, the fixture
 * folder or case file that selects the case again, and an --out of its own so that the replay
 * does not overwrite the report it came from.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cellSlug, replayCommandWith, shellQuote, type ReplayCell, type ReplayContext, type ReplayPaths } from './replay-command.ts';
import { DEFAULT_REPORT_DIR } from './settings.ts';

/** A path as a command line should give it: relative to the current folder when inside it (with ./), absolute otherwise. */
export function commandPath(file: string): string {
  const absolute = path.resolve(file.startsWith('file:') ? fileURLToPath(file) : file);
  const relative = path.relative(process.cwd(), absolute);
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) return absolute;
  return `./${relative.split(path.sep).join('/')}`;
}

/** The --impl flag that loads a module again. */
export function moduleTarget(modulePath: string): string {
  return `--impl ${shellQuote(commandPath(modulePath))}`;
}

/** The --command flag that starts a testee again. */
export function commandTarget(command: string): string {
  return `--command ${shellQuote(command)}`;
}

/** The replay's own report folder: `<reportDir>/replay-<cell>` (a replay of a replay keeps its folder). */
export function replayOut(context: ReplayContext, cell: ReplayCell): string {
  const base = context.reportDir ?? DEFAULT_REPORT_DIR;
  if (path.basename(base).startsWith('replay-')) return base;
  return path.join(base, `replay-${cellSlug(cell)}`);
}

/** Paths as a command line in the current folder gives them. */
export const NODE_REPLAY_PATHS: ReplayPaths = { commandPath, replayOut };

/** The command that replays a cell with `flags`, paths relative to the current folder (replayCommandWith in suite/replay-command.ts). */
export function replayCommand(context: ReplayContext, cell: ReplayCell, flags: readonly string[]): string {
  return replayCommandWith(NODE_REPLAY_PATHS, context, cell, flags);
}

export { cellSlug, shellQuote, type ReplayCell, type ReplayContext };
