/**
 * An implementation's ImplementationDeclinedError and ImplementationUnavailableError are known by
 * name as well as by class: a module that resolves another copy of the package (an install of its
 * own, a bundle) throws classes the suite's instanceof does not see, and its declines would be
 * failures of a correct kernel.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ImplementationDeclinedError, ImplementationUnavailableError, isDeclinedError, isUnavailableError } from '../../spec/implementation.ts';
import { setUp } from '../../suite/lifecycle.ts';
import { classify } from '../../suite/pipeline.ts';
import type { ConformanceReport } from '../../suite/results.ts';
import { parseReportJson } from '../../suite/report/json.ts';
import { runCli } from '../cli/run-cli.ts';

/** The classes of another copy of the package: same names, other identities. */
class ForeignDeclined extends Error {
  override readonly name = 'ImplementationDeclinedError';
}
class ForeignUnavailable extends Error {
  override readonly name = 'ImplementationUnavailableError';
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'foreign-error-classes-'));
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('errors of the same name from another copy of the package', () => {
  it('are a decline and an unavailable machine, as this package\'s own are; other errors are neither', () => {
    expect(isDeclinedError(new ForeignDeclined('x'))).toBe(true);
    expect(isDeclinedError(new ImplementationDeclinedError('x'))).toBe(true);
    expect(isUnavailableError(new ForeignUnavailable('x'))).toBe(true);
    expect(isUnavailableError(new ImplementationUnavailableError('x'))).toBe(true);
    expect(isDeclinedError(new ForeignUnavailable('x'))).toBe(false);
    expect(isUnavailableError(new ForeignDeclined('x'))).toBe(false);
    expect(isDeclinedError(new Error('ImplementationDeclinedError'))).toBe(false);
    expect(isDeclinedError({ name: 'ImplementationDeclinedError', message: 'not an Error' })).toBe(false);
  });

  it('a thrown foreign decline classifies as declined with its reason, a foreign unavailable setup as unavailable', async () => {
    expect(classify(new ForeignDeclined('too long for this kernel'))).toEqual({ kind: 'declined', reason: 'too long for this kernel' });
    const outcome = await setUp({ name: 'x', precision: 'float32', families: {}, setup: async () => Promise.reject(new ForeignUnavailable('no adapter here')) });
    expect(outcome).toMatchObject({ status: 'unavailable', reason: 'no adapter here' });
  });

  it('a correct kernel that declines with its own class passes, its reverse cases declined', async () => {
    const out = path.join(dir, 'report');
    const result = await runCli(['check', '--impl', 'test/suite/modules/declines-with-its-own-class.ts', '--family', 'prefix-sum', '--property', 'fixtures', '--property', 'conformance', '--runs', '30', '--out', out]);
    expect(result.code, result.stderr).toBe(0);
    const report: ConformanceReport = parseReportJson(await readFile(path.join(out, 'report.json'), 'utf8'));
    for (const property of ['fixtures', 'conformance']) {
      const cell = report.implementations[0].cells.find((c) => c.property === property);
      expect(cell?.outcome, property).toBe('pass');
      expect(cell?.declined, property).toBeGreaterThan(0);
    }
  });
});
