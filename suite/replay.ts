/**
 * Replay commands, printed under every failure: each one runs as printed, from the folder the run
 * started in — `npx scan-conformance check` (not a bare `scan-conformance`, which a local install
 * does not put on PATH), the implementation's real module path or testee command, the fixture
 * folder or case file that selects the case again, and an --out of its own so that the replay
 * does not overwrite the report it came from.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FamilyName } from '../spec/families.ts';
import type { PropertyName } from './results.ts';
import { DEFAULT_REPORT_DIR } from './settings.ts';

/** How a replay reaches an implementation, and where the run it came from wrote its report. */
export interface ReplayContext {
  /** `--impl <path>` or `--command <command>`, shell-quoted; absent when unknown. */
  readonly target?: string;
  /** Under vitest without a known module: the test file that declared the cell. */
  readonly testFile?: string;
  /** The run's report folder: a replay writes into `<reportDir>/replay-<cell>` (default DEFAULT_REPORT_DIR, suite/settings.ts). */
  readonly reportDir?: string;
}

/** What a replay selects: one implementation's cell and the flags that pick the case. */
export interface ReplayCell {
  readonly implementation: string;
  readonly family: FamilyName;
  readonly property: PropertyName;
  /** A regime/options restriction of the cell (expected-failure splits), for distinct file names. */
  readonly restriction?: string;
}

/** Quotes a word for a POSIX shell when it needs quoting. */
export function shellQuote(text: string): string {
  return /^[\w./@:=+,-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A file-name-safe name of a cell: `<implementation>-<family>-<property>[-<restriction>]`. */
export function cellSlug(cell: ReplayCell): string {
  const raw = [cell.implementation, cell.family, cell.property, cell.restriction].filter((part) => part !== undefined && part !== '').join('-');
  return raw.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '');
}

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

/**
 * The command that replays a cell with `flags` (e.g. --seed/--path, --fixtures/--fixture or
 * --case). Without a target, under vitest, it reruns the test (fast-check's seed makes it find
 * the same counterexample); without either, it says what to add.
 */
export function replayCommand(context: ReplayContext, cell: ReplayCell, flags: readonly string[]): string {
  if (context.target === undefined && context.testFile !== undefined) {
    const title = `${cell.implementation} ${cell.family} › ${cell.property}`.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return `npx vitest run ${shellQuote(commandPath(context.testFile))} -t ${shellQuote(title)}`;
  }
  const target = context.target ?? `--impl <the module exporting ${cell.implementation}>`;
  const words = [
    'npx scan-conformance check',
    target,
    '--only',
    shellQuote(cell.implementation),
    '--family',
    cell.family,
    ...flags,
    '--out',
    shellQuote(commandPath(replayOut(context, cell))),
  ];
  return words.join(' ');
}
