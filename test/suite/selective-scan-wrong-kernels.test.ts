/**
 * A selective-scan kernel that ignores seqIdx (a Mamba-1 kernel given a packed batch it does not
 * know about) fails conformance and packed-sequences with a short counterexample; the same kernel
 * honouring seqIdx passes them. The kernel is the float32 sequential baseline, with seqIdx dropped.
 */
import { describe, expect, it } from 'vitest';
import { createSequential } from '../../implementations/sequential/sequential.ts';
import type { FamilyImplementation, ScanImplementation } from '../../spec/implementation.ts';
import { problemOfCase } from '../../suite/arbitraries.ts';
import { withInputs } from '../../suite/transforms.ts';
import { lengthOf, quickRun } from './quick-run.ts';

/** The float32 sequential baseline; with `ignoreSeqIdx` its selective scan runs every packed row as one sequence. */
function sequentialSelectiveScan(ignoreSeqIdx: boolean): ScanImplementation {
  const base = createSequential('float32');
  const correct = base.families['selective-scan']!;
  const family: FamilyImplementation<'selective-scan'> = ignoreSeqIdx ? { ...correct, run: (problem, settings) => correct.run(withInputs(problem, { seqIdx: undefined }), settings) } : correct;
  return { ...base, name: ignoreSeqIdx ? 'sequential-f32-ignoring-seqIdx' : base.name, families: { 'selective-scan': family } };
}

describe('a selective scan that ignores seqIdx', () => {
  it('fails conformance and packed-sequences with a counterexample of L ≤ 3 whose row packs two or more sequences', async () => {
    const cells = await quickRun(sequentialSelectiveScan(true), 'selective-scan', ['conformance', 'packed-sequences']);
    for (const property of ['conformance', 'packed-sequences']) {
      const cell = cells.find((c) => c.property === property);
      expect(cell?.outcome, `${property}: ${cell?.reason}`).toBe('fail');
      expect(cell?.counterexample?.request.optionalInputs?.seqIdx).toBe(true);
    }
    const conformance = cells.find((c) => c.property === 'conformance');
    expect(conformance?.counterexample?.message).toMatch(/outside the tolerance/);
    expect(lengthOf(conformance)).toBeLessThanOrEqual(3);
    // Replayed, its seqIdx changes somewhere: the failure is a missed reset, not something else.
    const { request, valueSeed } = conformance!.counterexample!;
    const ids = problemOfCase(request, valueSeed).inputs as { seqIdx?: { data: Float32Array } };
    expect(new Set(ids.seqIdx?.data).size).toBeGreaterThanOrEqual(2);
    expect(cells.find((c) => c.property === 'packed-sequences')?.counterexample?.message).toMatch(/run alone gives/);
  });

  it('passes them when it honours seqIdx', async () => {
    const cells = await quickRun(sequentialSelectiveScan(false), 'selective-scan', ['conformance', 'packed-sequences']);
    expect(cells.map((c) => [c.property, c.outcome, c.counterexample?.message])).toEqual([
      ['conformance', 'pass', undefined],
      ['packed-sequences', 'pass', undefined],
    ]);
  });
});
