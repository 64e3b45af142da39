/**
 * Generated inputs alone (no fixtures) reach the bug classes that once only the committed fixtures
 * caught: a head→group mapping d % G, a softplus without its threshold, and a chunked scan whose
 * carry is not accumulated past the second chunk. Each wrong kernel fails a quick run of the
 * suite's own runner (8 runs per cell, the default seed), the same kernel without its bug passes
 * the same cells, and so does the float32 sequential baseline.
 */
import { describe, expect, it } from 'vitest';
import type { FamilyName } from '../../spec/families.ts';
import type { ScanImplementation } from '../../spec/implementation.ts';
import { CHUNK_SIZES } from '../../suite/arbitraries.ts';
import { runImplementation } from '../../suite/runner.ts';
import type { PropertyName } from '../../suite/results.ts';
import { MODES } from '../../suite/settings.ts';
import { createSequential } from '../../implementations/sequential/sequential.ts';
import { measureCoverage } from './generated-coverage.ts';
import { chunkedCarry, groupMapping, softplusThreshold } from './variants.ts';

/** The cells that compare with the reference, the ones a numerical bug fails. */
const PROPERTIES: readonly PropertyName[] = ['conformance', 'state-passing', 'linearity'];

/** A quick run without fixtures (what `check --no-fixtures` does), with the default seed. */
async function quickRun(implementation: ScanImplementation, family: FamilyName) {
  return runImplementation(implementation, { runs: MODES.quick.runs, maxLength: MODES.quick.maxLength, families: [family], properties: PROPERTIES });
}

/** Every cell that applies passes, conformance among them. */
function expectPasses(report: Awaited<ReturnType<typeof quickRun>>): void {
  const applicable = report.cells.filter((c) => c.outcome !== 'not-applicable');
  expect(applicable.map((c) => c.property)).toContain('conformance');
  expect(applicable.map((c) => [c.property, c.outcome, c.counterexample?.message])).toEqual(applicable.map((c) => [c.property, 'pass', undefined]));
}

const blindSpots: { wrong: ScanImplementation; right: ScanImplementation; family: FamilyName; smallest: (dims: { dim: number; groups?: number; length: number }) => void }[] = [
  {
    wrong: groupMapping(true),
    right: groupMapping(false),
    family: 'selective-scan',
    // The bug needs two groups of two channels: the counterexample shrinks to exactly that.
    smallest: (dims) => expect([dims.groups, dims.dim, dims.length]).toEqual([2, 4, 1]),
  },
  {
    wrong: softplusThreshold(true),
    right: softplusThreshold(false),
    family: 'selective-scan',
    smallest: (dims) => expect([dims.groups, dims.dim, dims.length]).toEqual([1, 1, 1]),
  },
  ...CHUNK_SIZES.map((chunk) => ({
    wrong: chunkedCarry(chunk, true),
    right: chunkedCarry(chunk, false),
    family: 'prefix-sum' as const,
    // The third chunk's first element is the first wrong one.
    smallest: (dims: { length: number }) => expect(dims.length).toBe(2 * chunk + 1),
  })),
];

describe('generated inputs alone catch what only fixtures used to', () => {
  for (const { wrong, right, family, smallest } of blindSpots) {
    it(`${wrong.name} fails ${family} conformance in a quick run without fixtures; ${right.name} passes`, async () => {
      const report = await quickRun(wrong, family);
      const conformance = report.cells.find((c) => c.property === 'conformance');
      expect(conformance?.outcome, conformance?.reason).toBe('fail');
      // A numerical miss, or an overflow to ±Inf where the reference is finite (softplus without its threshold).
      expect(conformance?.counterexample?.message).toMatch(/outside the tolerance|non-finite output: .* where the reference is finite/);
      smallest(conformance!.counterexample!.request.dims);

      expectPasses(await quickRun(right, family));
    });
  }

  it('sequential-f32 passes the same quick cells', async () => {
    for (const family of ['prefix-sum', 'selective-scan'] as const) expectPasses(await quickRun(createSequential('float32'), family));
  });

  it('a fair share of quick cases is in each class (over 40 cells)', () => {
    const scan = measureCoverage('selective-scan', 40);
    expect(scan.groupedShare).toBeGreaterThan(0.2);
    expect(scan.expOverflowShare).toBeGreaterThan(0.2);
    const sums = measureCoverage('prefix-sum', 40);
    for (const chunk of CHUNK_SIZES) expect(sums.chunkCrossingShare[chunk], `L > 2·${chunk}`).toBeGreaterThan(0.2);
  });
});
