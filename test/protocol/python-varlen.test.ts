/**
 * ssd's variable-length form over the process protocol: the numpy example testee declares
 * `varlen` and answers varlen requests, so the suite's varlen property and the catalogue's varlen
 * fixtures judge it (spec/protocol.md#varlen); a copy whose varlen ignores the per-sequence
 * initial states is caught by both, and one that answers a final state short is refused by name.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConformanceReport } from '../../suite/results.ts';
import { runCli } from '../cli/run-cli.ts';
import { itHasPython, PYTHON_EXAMPLE_TESTEE, pythonSkipNote, pythonUnavailable } from './harness.ts';

const missingPython = pythonUnavailable();
const skipNote = pythonSkipNote(missingPython);
let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'python-varlen-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** check of the testee's ssd varlen property and fixtures, one process; the run and its report. */
async function checkVarlen(testee: string, out: string): Promise<{ code: number; stdout: string; report: ConformanceReport }> {
  const run = await runCli(['check', '--command', `python3 ${testee}`, '--family', 'ssd', '--property', 'varlen', '--property', 'fixtures', '--runs', '4', '--jobs', '1', '--out', out]);
  return { code: run.code, stdout: run.stdout, report: JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8')) as ConformanceReport };
}

describe('the numpy example testee answers varlen requests', () => {
  itHasPython(missingPython);

  it.skipIf(missingPython !== undefined)(`and passes the varlen property and every varlen fixture${skipNote}`, async () => {
    const { code, report } = await checkVarlen(PYTHON_EXAMPLE_TESTEE, path.join(dir, 'correct'));
    expect(code).toBe(0);
    const cells = report.implementations[0].cells;
    expect(cells.find((c) => c.property === 'varlen')?.outcome).toBe('pass');
    const fixtures = cells.find((c) => c.property === 'fixtures')!;
    expect(fixtures.outcome).toBe('pass');
    // Every ssd fixture ran, the 27 varlen ones included: none is left "not run" for want of runVarlen.
    expect(JSON.stringify(fixtures)).not.toContain('has no runVarlen');
  });

  it.skipIf(missingPython !== undefined)(`a varlen that ignores each sequence's initial state fails both${skipNote}`, async () => {
    const source = await readFile(PYTHON_EXAMPLE_TESTEE, 'utf8');
    const correct = 'h0 = None if initial_states is None else initial_states[s:s + 1]';
    expect(source).toContain(correct);
    const broken = path.join(dir, 'broken_testee.py');
    await writeFile(broken, source.replace(correct, 'h0 = None'));
    const { code, report } = await checkVarlen(broken, path.join(dir, 'broken'));
    expect(code).toBe(1);
    const cells = report.implementations[0].cells;
    expect(cells.find((c) => c.property === 'varlen')?.outcome).toBe('fail');
    expect(cells.find((c) => c.property === 'fixtures')?.outcome).toBe('fail');
  });

  it.skipIf(missingPython !== undefined)(`a varlen answer with a final state missing is refused, naming finalStates and both shapes${skipNote}`, async () => {
    const source = await readFile(PYTHON_EXAMPLE_TESTEE, 'utf8');
    const correct = 'return np.concatenate(ys, axis=1), np.concatenate(finals, axis=0)';
    expect(source).toContain(correct);
    const misshapen = path.join(dir, 'misshapen_testee.py');
    await writeFile(misshapen, source.replace(correct, `${correct}[:-1]`));
    const { code, report } = await checkVarlen(misshapen, path.join(dir, 'misshapen'));
    expect(code).toBe(1);
    const cells = report.implementations[0].cells;
    // One state fewer than sequences: the adapter's check of the answer names the output and both shapes.
    const refused = /invalid output .*finalStates\.shape: expected \[(\d+), 1, 1, 1\], got \[(\d+), 1, 1, 1\]/;
    for (const property of ['varlen', 'fixtures']) {
      const cell = cells.find((c) => c.property === property)!;
      expect(cell.outcome, property).toBe('fail');
      const [, expected, got] = refused.exec(JSON.stringify(cell)) ?? [];
      expect(Number(got), `${property}: ${JSON.stringify(cell).slice(0, 600)}`).toBe(Number(expected) - 1);
    }
  });
});
