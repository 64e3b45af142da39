/**
 * Chunk sizes over the process protocol (spec/protocol.md#run): a testee's `chunkSizes`
 * capability becomes the adapter's FamilyImplementation.chunkSizes, run settings travel as the
 * request's `settings` metadata (refused before sending when undeclared), and the suite's
 * chunk-size property runs every declared size through a testee: a Node one always, the numpy
 * example's ssd when python3 is there (REQUIRE_PYTHON=1 makes its absence a failure).
 */
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Problem } from '../../spec/families.ts';
import type { FamilyImplementation } from '../../spec/implementation.ts';
import type { OutputTensor } from '../../spec/tensor.ts';
import { tensor } from '../../spec/tensor.ts';
import { runImplementation } from '../../suite/runner.ts';
import type { CellResult } from '../../suite/results.ts';
import type { ProcessImplementation } from '../../protocol/process-implementation.ts';
import { AdapterPool, HAS_PROC, itHasPython, childrenStartedFromNow, PYTHON_EXAMPLE_TESTEE, pythonSkipNote, pythonUnavailable, rejection } from './harness.ts';
import { linearRecurrenceProblem, prefixSumProblem, tensorSource } from './problems.ts';

const CHUNKED_TESTEE = fileURLToPath(new URL('./testees/chunked-testee.mjs', import.meta.url));

const pool = new AdapterPool();
afterEach(() => pool.disposeAll());
const childrenLeft = childrenStartedFromNow();

afterAll(() => {
  if (HAS_PROC) expect(childrenLeft()).toEqual([]);
});

function chunked(mode = 'correct'): Promise<ProcessImplementation> {
  return pool.start({ command: process.execPath, args: [CHUNKED_TESTEE, mode] });
}

/** The lines the chunked testee wrote for its runs, in order. */
function runLines(adapter: ProcessImplementation): string[] {
  return stderrLines(adapter, 'run ');
}

/** The testee's stderr lines that start with `prefix`. */
function stderrLines(adapter: ProcessImplementation, prefix: string): string[] {
  return adapter.capturedStderr().split('\n').filter((line) => line.startsWith(prefix));
}

/**
 * The testee's stderr lines with `prefix` once at least `count` have arrived (stderr is read apart
 * from the answers on stdout, so a line may land just after its run's answer), or after 10 s.
 */
async function awaitLines(adapter: ProcessImplementation, prefix: string, count: number): Promise<string[]> {
  const deadline = Date.now() + 10_000;
  while (stderrLines(adapter, prefix).length < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  return stderrLines(adapter, prefix);
}

/** The one cell of a run restricted to one family and property. */
async function onlyCell(adapter: ProcessImplementation, family: 'linear-recurrence' | 'ssd', property: 'chunk-size' | 'conformance', runs: number, maxLength: number): Promise<CellResult> {
  const report = await runImplementation(adapter, { runs, maxLength, families: [family], properties: [property] });
  expect(report.cells).toHaveLength(1);
  return report.cells[0];
}

describe('chunk sizes through a Node testee', () => {
  it('maps the chunkSizes capability to FamilyImplementation.chunkSizes, only where declared', async () => {
    const adapter = await chunked();
    expect(adapter.families['linear-recurrence']?.chunkSizes).toEqual([2, 5, 7]);
    expect(adapter.families['prefix-sum']).toBeDefined();
    expect(adapter.families['prefix-sum']?.chunkSizes).toBeUndefined();
  });

  it('sends the chunk size as settings, nothing without one, and every size gives the same scan', async () => {
    const adapter = await chunked();
    const recurrence = adapter.families['linear-recurrence'] as FamilyImplementation<'linear-recurrence'>;
    const problem = linearRecurrenceProblem('chunks', 2, 3, 13, { reverse: false, h0: true });
    const outputs: OutputTensor[] = [];
    for (const settings of [{ chunkSize: 5 }, { chunkSize: 7 }, undefined, {}]) outputs.push((await recurrence.run(problem, settings)).h);
    expect(await awaitLines(adapter, 'run ', 4)).toEqual([
      'run linear-recurrence settings {"chunkSize":5}',
      'run linear-recurrence settings {"chunkSize":7}',
      'run linear-recurrence settings {}',
      'run linear-recurrence settings {}',
    ]);
    // Chunked float64 arithmetic reassociates, so the sizes agree closely, not bit for bit.
    for (const h of outputs.slice(1)) h.data.forEach((v, i) => expect(v).toBeCloseTo(outputs[0].data[i], 12));
  });

  it('refuses an undeclared chunk size before sending, naming settings.chunkSize', async () => {
    const adapter = await chunked();
    const recurrence = adapter.families['linear-recurrence'] as FamilyImplementation<'linear-recurrence'>;
    const error = await rejection(recurrence.run(linearRecurrenceProblem('chunks', 1, 1, 4, { reverse: false, h0: false }), { chunkSize: 3 }));
    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toMatch(/linear-recurrence: settings.chunkSize: expected one of 2, 5, 7 \(the testee's handshake, families.linear-recurrence.chunkSizes\), got 3/);
    expect(runLines(adapter)).toEqual([]);
    expect(adapter.restarts()).toBe(0);
  });

  it('sends no settings to a family that declared no chunk sizes (run() ignores the size there)', async () => {
    const adapter = await chunked();
    const prefixSum = adapter.families['prefix-sum'] as FamilyImplementation<'prefix-sum'>;
    await prefixSum.run(prefixSumProblem('chunks', 1, 2, 6, { exclusive: false, reverse: false }), { chunkSize: 64 });
    expect(await awaitLines(adapter, 'run ', 1)).toEqual(['run prefix-sum settings {}']);
  });

  it('the chunk-size property runs every declared size and passes a correct chunked testee', async () => {
    const adapter = await chunked();
    const cell = await onlyCell(adapter, 'linear-recurrence', 'chunk-size', 8, 40);
    expect(cell.outcome, cell.reason).toBe('pass');
    expect(cell.runs).toBeGreaterThan(0);
    const sizes = new Set(runLines(adapter).map((line) => line.replace(/^run linear-recurrence settings /, '')));
    expect([...sizes].sort()).toEqual(['{"chunkSize":2}', '{"chunkSize":5}', '{"chunkSize":7}']);
  });

  it('the chunk-size property fails a testee wrong at one declared size only, which conformance misses', async () => {
    const buggy = await chunked('lose-carry-at-5');
    const cell = await onlyCell(buggy, 'linear-recurrence', 'chunk-size', 8, 40);
    expect(cell.outcome).toBe('fail');
    expect(cell.reason).toMatch(/chunk size 5/);
    const conformance = await onlyCell(await chunked('lose-carry-at-5'), 'linear-recurrence', 'conformance', 8, 40);
    expect(conformance.outcome, conformance.reason).toBe('pass');
  });
});

// The numpy testee with my_ssd wrapped so it reports the chunk_size it receives: the whole path
// from the request's settings metadata to the CHANGE HERE function, which the results (the numpy
// loop ignores the size) cannot show.
const SPY = [
  'import sys',
  'sys.path.insert(0, sys.argv[1])',
  'import numpy_testee as t',
  'inner = t.my_ssd',
  'def my_ssd(*args):',
  '    sys.stderr.write(f"my_ssd chunk_size={args[-1]}\\n")',
  '    return inner(*args)',
  't.my_ssd = my_ssd',
  't.main()',
].join('\n');

/** A small ssd problem (G = 1, no optional input). */
function ssdProblem(L: number): Problem<'ssd'> {
  const t = tensorSource('py-chunks');
  const [batch, H, P, N] = [1, 2, 2, 3];
  return {
    family: 'ssd',
    inputs: { x: t([batch, L, H, P]), dt: t([batch, L, H], 0.1, 1), A: t([H], -2, -0.1), B: t([batch, L, 1, N]), C: t([batch, L, 1, N]), dtLimit: tensor([0, Infinity], [2]) },
    options: { dtSoftplus: false },
  };
}

const missingPython = pythonUnavailable();
const skipNote = pythonSkipNote(missingPython);

describe('chunk sizes through the numpy example testee (ssd)', () => {
  itHasPython(missingPython);

  it.skipIf(missingPython !== undefined)(`my_ssd receives the requested chunk size, 256 without one${skipNote}`, async () => {
    const adapter = await pool.start({ command: 'python3', args: ['-c', SPY, fileURLToPath(new URL('.', `file://${PYTHON_EXAMPLE_TESTEE}`))] });
    const ssd = adapter.families.ssd as FamilyImplementation<'ssd'>;
    expect(ssd.chunkSizes).toEqual([64, 256]);
    const problem = ssdProblem(9);
    const y = [];
    for (const settings of [{ chunkSize: 64 }, { chunkSize: 256 }, undefined]) y.push((await ssd.run(problem, settings)).y);
    expect((await rejection(ssd.run(problem, { chunkSize: 100 }))).message).toMatch(/ssd: settings.chunkSize: expected one of 64, 256 .*got 100/);
    const received = await awaitLines(adapter, 'my_ssd ', 3);
    expect(received).toEqual(['my_ssd chunk_size=64', 'my_ssd chunk_size=256', 'my_ssd chunk_size=256']);
    expect(y[1].data).toEqual(y[0].data);
    expect(y[2].data).toEqual(y[0].data);
  });

  it.skipIf(missingPython !== undefined)(`the chunk-size property applies to the testee's ssd and passes${skipNote}`, async () => {
    const adapter = await pool.start({ command: 'python3', args: [PYTHON_EXAMPLE_TESTEE, '--float32'] });
    const cell = await onlyCell(adapter, 'ssd', 'chunk-size', 6, 40);
    expect(cell.outcome, cell.reason).toBe('pass');
    expect(cell.runs).toBeGreaterThan(0);
  });
});
