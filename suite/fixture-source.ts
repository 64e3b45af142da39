/**
 * A FixtureSource over a fixtures folder (the committed `fixtures/` or a user's), read through the
 * fixture loader, so every case is checked (paths, sizes, SHA-256, safetensors rules, the spec)
 * before an implementation sees it. Each case is loaded once and kept for later
 * implementations of the same run.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { FIXTURES_DIR } from '../fixtures/folder.ts';
import { decodeFixture, loadFixtureCase, loadManifest } from '../fixtures/loader.ts';
import type { FamilyName } from '../spec/families.ts';
import { fixtureCaseOf } from './fixture-case.ts';
import type { CaseRange, FixtureCase, FixtureSource } from './fixture-replay.ts';
import { commandPath } from './replay.ts';

/** Options of fixtureSourceFromDirectory. */
export interface FixtureSourceOptions {
  /** Only cases with L ≤ maxLength (quick runs leave the longest fixtures to deep runs); all when absent. */
  readonly maxLength?: number;
  /** Only the cases with these ids (a fixture failure's replay command names one); all when absent. */
  readonly ids?: readonly string[];
}

/** A FixtureSource reading `<dir>/manifest.json` and its files (default: the committed fixtures). */
export function fixtureSourceFromDirectory(dir: string = FIXTURES_DIR, options: FixtureSourceOptions = {}): FixtureSource {
  const folder = path.resolve(dir);
  // The committed fixtures are the CLI's default, so their replays need no --fixtures.
  const committed = folder === path.resolve(FIXTURES_DIR);
  // Each case is loaded once and kept for later implementations of the same run; a sharded run loads only its range.
  const loaded = new Map<string, Promise<FixtureCase>>();
  let manifest: ReturnType<typeof loadManifest> | undefined;
  const entriesOf = async (family: FamilyName) => {
    manifest ??= loadManifest(dir);
    // A failed read is not kept: the next call reads again and says the same error.
    manifest.catch(() => (manifest = undefined));
    return (await manifest).cases.filter(
      (e) => e.family === family && (options.maxLength === undefined || e.dims.length <= options.maxLength) && (options.ids === undefined || options.ids.includes(e.id)),
    );
  };
  const load = (entry: Awaited<ReturnType<typeof entriesOf>>[number]): Promise<FixtureCase> => {
    let pending = loaded.get(entry.id);
    if (pending === undefined) {
      pending = loadFixtureCase(entry, dir).then((fixture) =>
        fixtureCaseOf(fixture, entry.file, [...(committed ? [] : ['--fixtures', commandPath(folder)]), '--property', 'fixtures', '--fixture', fixture.id]),
      );
      loaded.set(entry.id, pending);
      // A failed load is not cached: the next implementation gets the same error, not a stale rejection.
      pending.catch(() => loaded.delete(entry.id));
    }
    return pending;
  };
  return {
    folders: [folder],
    async *cases(family: FamilyName, range?: CaseRange): AsyncIterable<FixtureCase> {
      const entries = await entriesOf(family);
      const chosen = range === undefined ? entries : entries.slice(range.start, range.end);
      // Every case is loaded and verified before the first is yielded, as a whole family always was.
      const cases: FixtureCase[] = [];
      for (const entry of chosen) cases.push(await load(entry));
      yield* cases;
    },
    async sizes(family: FamilyName): Promise<readonly number[]> {
      return (await entriesOf(family)).map((e) => e.bytes);
    },
  };
}

/** The cases of several sources in turn (several --fixtures folders). */
export function concatFixtureSources(sources: readonly FixtureSource[]): FixtureSource {
  return {
    folders: sources.flatMap((s) => s.folders ?? []),
    async *cases(family: FamilyName, range?: CaseRange): AsyncIterable<FixtureCase> {
      if (range === undefined) {
        for (const source of sources) yield* source.cases(family);
        return;
      }
      // A range over the concatenation: each source gets the part of it that falls in its own cases.
      let offset = 0;
      for (const source of sources) {
        const count = (await sizesOf(source, family)).length;
        const start = Math.max(range.start - offset, 0);
        const end = Math.min(range.end - offset, count);
        if (start < end) yield* source.cases(family, { start, end });
        offset += count;
      }
    },
    ...(sources.every((s) => s.sizes !== undefined) && {
      async sizes(family: FamilyName): Promise<readonly number[]> {
        return (await Promise.all(sources.map((s) => sizesOf(s, family)))).flat();
      },
    }),
  };
}

/** A source's case sizes (only called on sources that have them). */
function sizesOf(source: FixtureSource, family: FamilyName): Promise<readonly number[]> {
  if (source.sizes === undefined) throw new Error('a fixture source without sizes cannot be split by case');
  return source.sizes(family);
}

/**
 * A FixtureSource over single case files (`check --case`): counterexample files or fixture
 * files, decoded and checked by the fixture loader (no manifest, so no hash to check).
 */
export function fixtureSourceFromCaseFiles(files: readonly string[]): FixtureSource {
  const absolute = files.map((f) => path.resolve(f));
  let decoded: Promise<FixtureCase[]> | undefined;
  const load = async (): Promise<FixtureCase[]> =>
    Promise.all(
      absolute.map(async (file) => {
        const fixture = decodeFixture(await readFile(file));
        return fixtureCaseOf(fixture, file, ['--case', commandPath(file)]);
      }),
    );
  return {
    folders: absolute,
    async *cases(family: FamilyName): AsyncIterable<FixtureCase> {
      decoded ??= load();
      for (const c of await decoded) if (c.family === family) yield c;
    },
  };
}
