/**
 * The varlen property: it fails varlen kernels with the classic bugs of the variable-length form,
 * each with a counterexample that replays, and passes the right kernels (the test loop and the
 * shipped sequential and chunked implementations); it does not apply where there is no runVarlen.
 */
import { describe, expect, it } from 'vitest';
import { createSequential } from '../../implementations/sequential/sequential.ts';
import { createSsdChunked } from '../../implementations/ssd-chunked/ssd-chunked.ts';
import type { ScanImplementation } from '../../spec/implementation.ts';
import type { CellResult } from '../../suite/results.ts';
import { runImplementation } from '../../suite/runner.ts';
import { validateImplementation } from '../../suite/implementation-check.ts';
import { varlen } from '../../suite/properties/varlen.ts';
import { varlenLoopImplementation, type VarlenBugs } from './ssd-varlen-mutants.ts';

/** Runs and length of the cells here: enough for the bugs to show, quick enough for npm test. */
const RUNS = 25;
const MAX_LENGTH = 70;

async function varlenCell(implementation: ScanImplementation, options: { seed?: number; path?: string } = {}): Promise<CellResult> {
  const report = await runImplementation(implementation, { runs: RUNS, maxLength: MAX_LENGTH, families: ['ssd'], properties: ['varlen'], ...options });
  expect(report.cells).toHaveLength(1);
  return report.cells[0];
}

const wrongKernels: { bug: keyof VarlenBugs; what: string; message: RegExp }[] = [
  { bug: 'perSequenceInitialIgnored', what: "ignores every sequence's initial state but the first", message: /sequence [1-9]/ },
  { bug: 'chunkStateAsFinal', what: "returns the state at the end of the sequence's last chunk as its final state", message: /finalStates/ },
  { bug: 'leakInsideChunk', what: 'carries the state across a sequence boundary inside a chunk', message: /sequence [1-9]/ },
  { bug: 'runIgnoresInitialStates', what: 'agrees with the reference in runVarlen but whose run() ignores initialStates', message: /run\(\) on the padded batch gives/ },
];

describe('the varlen property', () => {
  it('passes the right varlen kernels: the test loop, sequential-f32/f64 and ssd-chunked-f32/f64', async () => {
    const implementations = [varlenLoopImplementation(), createSequential('float32'), createSequential('float64'), createSsdChunked('float32'), createSsdChunked('float64')];
    for (const implementation of implementations) {
      const cell = await varlenCell(implementation);
      expect([implementation.name, cell.outcome, cell.counterexample?.message]).toEqual([implementation.name, 'pass', undefined]);
      expect(cell.runs).toBe(RUNS);
    }
  });

  for (const { bug, what, message } of wrongKernels) {
    it(`fails a kernel that ${what}, and its counterexample replays`, async () => {
      const implementation = varlenLoopImplementation({ [bug]: true });
      const cell = await varlenCell(implementation);
      expect(cell.outcome, cell.reason).toBe('fail');
      const counterexample = cell.counterexample!;
      expect(counterexample.message).toMatch(message);
      expect(counterexample.message).toMatch(/cuSeqlens \[/);
      // The lengths are parameters of the case: the seed and path find the same case and failure.
      const replayed = await varlenCell(implementation, { seed: counterexample.seed, path: counterexample.path });
      expect(replayed.outcome).toBe('fail');
      expect(replayed.counterexample?.message).toBe(counterexample.message);
      expect(replayed.counterexample?.parameters).toEqual(counterexample.parameters);
    });
  }

  it('does not apply to an ssd without runVarlen, nor to other families', () => {
    const ssd = createSequential('float64').families.ssd!;
    const { runVarlen: _dropped, ...withoutVarlen } = ssd;
    expect(varlen.notApplicable('ssd', withoutVarlen as never)).toMatch(/no runVarlen/);
    expect(varlen.notApplicable('ssd', ssd as never)).toBeUndefined();
    expect(varlen.notApplicable('selective-scan', createSequential('float64').families['selective-scan'] as never)).toMatch(/no variable-length form/);
  });

  it('an implementation is checked when it loads: runVarlen only on ssd, and a function', () => {
    const sequential = createSequential('float64');
    const prefixSum = sequential.families['prefix-sum']!;
    expect(() => validateImplementation({ name: 'misplaced', precision: 'float64', families: { 'prefix-sum': { ...prefixSum, runVarlen: async () => ({}) } as never } })).toThrow(
      "families['prefix-sum'].runVarlen: expected absent: only ssd has a variable-length form (runVarlen), got a function",
    );
    expect(() => validateImplementation({ name: 'not-a-function', precision: 'float64', families: { ssd: { ...sequential.families.ssd!, runVarlen: 3 } as never } })).toThrow(
      "families['ssd'].runVarlen: expected absent or a function (problem, settings?) => Promise<{ y, finalStates }>, got number 3",
    );
    expect(validateImplementation(sequential).families.ssd?.runVarlen).toBeTypeOf('function');
  });
});
