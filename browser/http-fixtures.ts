/**
 * A FixtureSource over the fixtures the server serves under /fixtures/: the manifest and each
 * case's bytes fetched, their size and SHA-256 checked against the manifest (WebCrypto), then
 * decoded and validated by fixtures/decode.ts, as the Node loader does with files.
 */
import { FixtureHashError, FixtureReadError, FixtureSizeError, checkRelativePath, decodeFixture, parseManifest } from '../fixtures/decode.ts';
import type { Manifest } from '../fixtures/manifest.ts';
import type { FamilyName } from '../spec/families.ts';
import { fixtureCaseOf } from '../suite/fixture-case.ts';
import type { FixtureCase, FixtureSource } from '../suite/fixture-replay.ts';

/** Lowercase hex SHA-256 of bytes, by WebCrypto. */
async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Fetches bytes, or says which URL failed and how. */
async function fetchBytes(url: string): Promise<Uint8Array<ArrayBuffer>> {
  const response = await fetch(url);
  if (!response.ok) throw new FixtureReadError(`${url}: expected the file, got HTTP ${response.status} ${response.statusText}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** The fixtures under `base` (e.g. '/fixtures/'), cases with L ≤ maxLength, each family fetched once. */
export function fixtureSourceFromUrl(base: string, options: { readonly maxLength?: number; readonly folder: string }): FixtureSource {
  let manifest: Promise<Manifest> | undefined;
  const loaded = new Map<FamilyName, Promise<FixtureCase[]>>();
  const load = async (family: FamilyName): Promise<FixtureCase[]> => {
    manifest ??= fetchBytes(`${base}manifest.json`).then((bytes) => parseManifest(new TextDecoder().decode(bytes), `${base}manifest.json`));
    const entries = (await manifest).cases.filter((e) => e.family === family && (options.maxLength === undefined || e.dims.length <= options.maxLength));
    const cases: FixtureCase[] = [];
    for (const entry of entries) {
      checkRelativePath(entry.file);
      const bytes = await fetchBytes(`${base}${entry.file}`);
      if (bytes.byteLength !== entry.bytes) throw new FixtureSizeError(`${entry.file} (case ${entry.id}): expected ${entry.bytes} bytes (manifest), got ${bytes.byteLength}`);
      const actual = await sha256(bytes);
      if (actual !== entry.sha256) throw new FixtureHashError(`${entry.file} (case ${entry.id}): expected SHA-256 ${entry.sha256} (manifest), got ${actual}`);
      cases.push(fixtureCaseOf(decodeFixture(bytes, entry), entry.file, ['--property', 'fixtures', '--fixture', entry.id]));
    }
    return cases;
  };
  return {
    folders: [options.folder],
    async *cases(family: FamilyName): AsyncIterable<FixtureCase> {
      let pending = loaded.get(family);
      if (pending === undefined) {
        pending = load(family);
        loaded.set(family, pending);
        pending.catch(() => loaded.delete(family));
      }
      yield* await pending;
    },
  };
}
