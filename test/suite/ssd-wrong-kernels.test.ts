/**
 * Issue 16's wrong ssd kernels: each fails a quick run of the suite (generated cases only, the
 * default seed) with a shrunk counterexample no longer than two chunks plus one, L ≤ 2·Q + 1, and
 * the same chunked kernel without its bug passes the same cells. Q = 16 keeps the cases short.
 */
import { describe, expect, it } from 'vitest';
import type { PropertyName } from '../../suite/results.ts';
import { MODES } from '../../suite/settings.ts';
import { lengthOf, quickRun } from './quick-run.ts';
import { chunkedSsdImplementation, DEFAULT_CHUNK, type SsdBugs } from './ssd-mutants.ts';

const Q = DEFAULT_CHUNK;

const wrongKernels: { bug: keyof SsdBugs; what: string; also?: PropertyName; length?: (L: number) => void }[] = [
  // packed-sequences is the property aimed at it; its own shrunk case may be longer (the length
  // arbitrary's chunk-crossing lengths are built on 32 and up), conformance's is the short one.
  { bug: 'stateNotReset', what: 'the state not reset where seqIdx changes', also: 'packed-sequences' },
  // The first chunk's decay is right: only the state entering a second chunk is wrong.
  { bug: 'previousChunkDecay', what: "chunk-start decay taken from the previous chunk's cumulative sum", length: (L) => expect(L).toBeGreaterThan(Q) },
  { bug: 'tailDropped', what: 'the tail chunk dropped when L is not a multiple of Q', length: (L) => expect(L % Q).not.toBe(0) },
  { bug: 'moduloGroups', what: 'head→group mapping h % G' },
  { bug: 'clampBeforeSoftplus', what: 'dtLimit applied before softplus' },
  { bug: 'initialStatesIgnored', what: 'initialStates ignored' },
];

describe(`wrong chunked ssd kernels (Q = ${Q}) fail with L ≤ 2·Q + 1; the right one passes`, () => {
  it('the chunked kernel without bugs passes conformance, state-passing and packed-sequences', async () => {
    const cells = await quickRun(chunkedSsdImplementation(), 'ssd', ['conformance', 'state-passing', 'packed-sequences']);
    expect(cells.map((c) => [c.property, c.outcome, c.counterexample?.message])).toEqual(
      ['conformance', 'state-passing', 'packed-sequences'].map((p) => [p, 'pass', undefined]),
    );
    expect(cells.every((c) => c.runs === MODES.quick.runs)).toBe(true);
  });

  for (const { bug, what, also, length } of wrongKernels) {
    it(`${what} fails conformance with L ≤ ${2 * Q + 1}`, async () => {
      const properties: PropertyName[] = ['conformance', ...(also ? [also] : [])];
      const cells = await quickRun(chunkedSsdImplementation({ [bug]: true }), 'ssd', properties);
      for (const property of properties) {
        const cell = cells.find((c) => c.property === property);
        expect(cell?.outcome, `${property}: ${cell?.reason}`).toBe('fail');
      }
      const conformance = cells.find((c) => c.property === 'conformance');
      expect(conformance?.counterexample?.message).toMatch(/outside the tolerance/);
      const L = lengthOf(conformance)!;
      expect(L).toBeLessThanOrEqual(2 * Q + 1);
      length?.(L);
    });
  }
});
