/**
 * A FixtureSource over a fixtures folder (the committed `fixtures/` or a user's), read through the
 * fixture loader, so every case is checked (paths, sizes, SHA-256, safetensors rules, the spec)
 * before an implementation sees it. Cases are loaded once per family and kept for later
 * implementations of the same run.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { FIXTURES_DIR } from '../fixtures/folder.ts';
import { decodeFixture, loadFixtureCase, loadManifest } from '../fixtures/loader.ts';
import type { FamilyName } from '../spec/families.ts';
import { fixtureCaseOf } from './fixture-case.ts';
import type { FixtureCase, FixtureSource } from './fixture-replay.ts';
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
  const loaded = new Map<FamilyName, Promise<FixtureCase[]>>();
  const load = async (family: FamilyName): Promise<FixtureCase[]> => {
    const manifest = await loadManifest(dir);
    const entries = manifest.cases.filter(
      (e) =>
        e.family === family && (options.maxLength === undefined || e.dims.length <= options.maxLength) && (options.ids === undefined || options.ids.includes(e.id)),
    );
    const cases: FixtureCase[] = [];
    for (const entry of entries) {
      const fixture = await loadFixtureCase(entry, dir);
      cases.push(fixtureCaseOf(fixture, entry.file, [...(committed ? [] : ['--fixtures', commandPath(folder)]), '--property', 'fixtures', '--fixture', fixture.id]));
    }
    return cases;
  };
  return {
    folders: [folder],
    async *cases(family: FamilyName): AsyncIterable<FixtureCase> {
      let pending = loaded.get(family);
      if (pending === undefined) {
        pending = load(family);
        loaded.set(family, pending);
        // A failed load is not cached: the next implementation gets the same error, not a stale rejection.
        pending.catch(() => loaded.delete(family));
      }
      yield* await pending;
    },
  };
}

/** The cases of several sources in turn (several --fixtures folders). */
export function concatFixtureSources(sources: readonly FixtureSource[]): FixtureSource {
  return {
    folders: sources.flatMap((s) => s.folders ?? []),
    async *cases(family: FamilyName): AsyncIterable<FixtureCase> {
      for (const source of sources) yield* source.cases(family);
    },
  };
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
