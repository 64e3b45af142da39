/**
 * describeConformance under vitest's own sharding: a tiny suite (test/suite/sharding/, two files,
 * one implementation split across them) run whole, and as `vitest --shard i/2 --reporter=blob`
 * joined by `vitest --merge-reports`, gives the same report through the conformance reporter.
 * Shard 2 runs before shard 1, so the merged modules (ordered by start time) come in another order
 * than the unsharded run's: the report must not depend on it.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import type { ConformanceReport } from '../../suite/results.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const VITEST = path.join(ROOT, 'node_modules/vitest/vitest.mjs');
const CONFIG = path.join(ROOT, 'test/suite/sharding/vitest.config.ts');

let work: string | undefined;
afterAll(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

/** Runs the vitest CLI on the sharding suite; rejects with its output when it fails. */
function vitest(args: readonly string[], reportDir?: string): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // The outer vitest's variables would make the inner one think it is a worker of the outer run.
  for (const key of Object.keys(env)) if (key.startsWith('VITEST') || key === 'TEST' || key === 'NODE_OPTIONS') delete env[key];
  delete env.SHARD_SUITE_REPORT_DIR;
  if (reportDir !== undefined) env.SHARD_SUITE_REPORT_DIR = reportDir;
  Object.assign(env, { GITHUB_STEP_SUMMARY: '', NO_COLOR: '1', FORCE_COLOR: '0' });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [VITEST, ...args, '--config', CONFIG], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(output) : reject(new Error(`vitest ${args.join(' ')} exited ${code}:\n${output}`))));
  });
}

/** A report with what differs between any two runs removed: the time it was made and durations. */
function comparable(report: ConformanceReport): unknown {
  return JSON.parse(JSON.stringify(report, (key, value: unknown) => (key === 'createdAt' || key === 'durationMs' ? undefined : value)));
}

async function readReport(dir: string): Promise<ConformanceReport> {
  return JSON.parse(await readFile(path.join(dir, 'report.json'), 'utf8')) as ConformanceReport;
}

it('vitest --shard 1/2 and 2/2 with the blob reporter, merged by vitest --merge-reports, give the unsharded report', async () => {
  work = await mkdtemp(path.join(tmpdir(), 'vitest-shard-'));
  const [whole, merged, blobs] = ['whole', 'merged', 'blobs'].map((name) => path.join(work as string, name));
  const sharded = (async () => {
    const outputs: string[] = [];
    for (const shard of [2, 1]) outputs.push(await vitest(['run', '--shard', `${shard}/2`, '--reporter=blob', `--outputFile=${path.join(blobs, `blob-${shard}-2.json`)}`]));
    return outputs;
  })();
  await vitest(['run'], whole);
  for (const output of await sharded) expect(output).toMatch(/blob report written to/);
  expect((await readdir(blobs)).sort()).toEqual(['blob-1-2.json', 'blob-2-2.json']);
  // The shards wrote blobs only: the report comes from the merge alone.
  await expect(readdir(merged)).rejects.toThrow(/ENOENT/);
  const mergeOutput = await vitest(['--merge-reports', blobs], merged);
  expect(mergeOutput).toMatch(/Test Files\s+2 passed \(2\)/);

  const [a, b] = [await readReport(whole), await readReport(merged)];
  const cells = b.implementations.flatMap((i) => i.cells);
  // Both shards' cells are there: the fixture replay of one file and the generated properties of the other.
  expect(cells.map((c) => c.property).sort()).toEqual(['conformance', 'fixtures', 'reverse-flip', 'state-passing', 'step', 'zero-input']);
  expect(cells.find((c) => c.property === 'fixtures')?.runs).toBeGreaterThan(0);
  expect(b.summary.unexpectedFailures).toBe(0);
  expect(comparable(b)).toEqual(comparable(a));
}, 120_000);
