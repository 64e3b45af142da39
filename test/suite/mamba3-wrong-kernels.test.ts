/**
 * Issue 18's wrong mamba3-siso kernels: each fails a quick run of conformance (generated cases
 * only, the default seed) with a shrunk counterexample no longer than two chunks plus one,
 * L ≤ 2·Q + 1, and the same chunked kernel without its bug passes. Q = 16 keeps the cases short.
 */
import { describe, expect, it } from 'vitest';
import type { CellResult, PropertyName } from '../../suite/results.ts';
import { MODES } from '../../suite/settings.ts';
import { chunkedMamba3Implementation, DEFAULT_CHUNK, type Mamba3Bugs } from './mamba3-mutants.ts';
import { lengthOf, quickRun } from './quick-run.ts';

const Q = DEFAULT_CHUNK;

/** The counterexample's sizes and inputs, for the failure messages and the checks on what each bug needs. */
function shrunk(cell: CellResult | undefined) {
  const request = cell?.counterexample?.request;
  return { dims: request?.dims, inputs: request?.optionalInputs };
}

const wrongKernels: { bug: keyof Mamba3Bugs; what: string; also?: PropertyName; needs?: (c: ReturnType<typeof shrunk>) => void }[] = [
  // Only the phase entering a second chunk is wrong.
  { bug: 'phaseNotCarried', what: 'the rotary phase not carried from one chunk to the next', needs: ({ dims }) => expect(dims!.length).toBeGreaterThan(Q) },
  { bug: 'betaGammaSwapped', what: 'β and γ swapped' },
  { bug: 'kPrevUnrotated', what: "the previous token's k kept before rotation instead of after" },
  // h % G and ⌊h/(H/G)⌋ differ only with G ≥ 2 Q/K heads of H/G ≥ 2 V heads each.
  // grouped-heads is the property aimed at it (the run against the groups repeated in blocks).
  { bug: 'interleavedHeads', what: 'grouped heads repeated interleaved (h % G) instead of in blocks', also: 'grouped-heads', needs: ({ dims }) => {
    expect(dims!.groups).toBeGreaterThanOrEqual(2);
    expect(dims!.heads! / dims!.groups!).toBeGreaterThanOrEqual(2);
  } },
  { bug: 'dAfterGate', what: 'D added after the gate', needs: ({ inputs }) => expect(inputs).toMatchObject({ D: true, Z: true }) },
];

describe(`wrong chunked mamba3-siso kernels (Q = ${Q}) fail conformance with L ≤ 2·Q + 1; the right one passes`, () => {
  it('the chunked kernel without bugs passes conformance and grouped-heads, every generated case run', async () => {
    const properties: PropertyName[] = ['conformance', 'grouped-heads'];
    const cells = await quickRun(chunkedMamba3Implementation(), 'mamba3-siso', properties);
    expect(cells.map((c) => [c.property, c.outcome, c.counterexample?.message, c.runs])).toEqual(properties.map((p) => [p, 'pass', undefined, MODES.quick.runs]));
  });

  for (const { bug, what, also, needs } of wrongKernels) {
    it(`${what} fails conformance with L ≤ ${2 * Q + 1}${also ? ` (and ${also})` : ''}`, async () => {
      const properties: PropertyName[] = ['conformance', ...(also ? [also] : [])];
      const cells = await quickRun(chunkedMamba3Implementation({ [bug]: true }), 'mamba3-siso', properties);
      for (const property of properties) {
        const failing = cells.find((c) => c.property === property);
        expect(failing?.outcome, `${property}: ${failing?.reason}`).toBe('fail');
      }
      const cell = cells.find((c) => c.property === 'conformance');
      expect(cell?.counterexample?.message).toMatch(/outside the tolerance/);
      const L = lengthOf(cell)!;
      expect(L).toBeLessThanOrEqual(2 * Q + 1);
      needs?.(shrunk(cell));
    });
  }
});
