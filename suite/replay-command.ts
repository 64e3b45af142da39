/**
 * Replay commands as words, on any platform (the browser page too): the implementation's target,
 * the flags that pick the case and an --out of its own. How a path reads on a command line is the
 * platform's business (suite/replay.ts for Node), so it comes in as ReplayPaths.
 */
import type { FamilyName } from '../spec/families.ts';
import type { PropertyName } from './results.ts';

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

/** How paths read in a replay command on the platform that runs the suite. */
export interface ReplayPaths {
  /** A file path (or URL) as a command line should give it. */
  commandPath(file: string): string;
  /** The replay's own report folder. */
  replayOut(context: ReplayContext, cell: ReplayCell): string;
}

/**
 * The command that replays a cell with `flags` (e.g. --seed/--path, --fixtures/--fixture or
 * --case). Without a target, under vitest, it reruns the test (fast-check's seed makes it find
 * the same counterexample); without either, it says what to add.
 */
export function replayCommandWith(paths: ReplayPaths, context: ReplayContext, cell: ReplayCell, flags: readonly string[]): string {
  if (context.target === undefined && context.testFile !== undefined) {
    const title = `${cell.implementation} ${cell.family} › ${cell.property}`.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return `npx vitest run ${shellQuote(paths.commandPath(context.testFile))} -t ${shellQuote(title)}`;
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
    shellQuote(paths.commandPath(paths.replayOut(context, cell))),
  ];
  return words.join(' ');
}
