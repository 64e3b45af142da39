/**
 * Hand-checked prefix sums and linear recurrences for sequential-f64 and sequential-f32. Values
 * are dyadic, so every intermediate is exact in float32 and both must match exactly — except the
 * cases built to show the float32 rounding (1 + 2^-30 is 1 in float32, not in float64).
 */
import { describe, expect, it } from 'vitest';
import { expectValues, implementations, run, t } from './helpers.ts';

const tiny = 2 ** -30;

describe.each(implementations)('$name', (implementation) => {
  const exact = implementation.precision === 'float64';

  describe('prefix-sum', () => {
    // Two rows: [1, 2, 4] and [0.5, −1, 0.25].
    const x = t([1, 2, 4, 0.5, -1, 0.25], [1, 2, 3]);
    const cases = [
      { exclusive: false, reverse: false, y: [1, 3, 7, 0.5, -0.5, -0.25] },
      { exclusive: true, reverse: false, y: [0, 1, 3, 0, 0.5, -0.5] },
      { exclusive: false, reverse: true, y: [7, 6, 4, -0.25, -0.75, 0.25] },
      { exclusive: true, reverse: true, y: [6, 4, 0, -0.75, 0.25, 0] },
    ];
    it.each(cases)('L = 3, exclusive $exclusive, reverse $reverse', async ({ exclusive, reverse, y }) => {
      const out = await run(implementation, { family: 'prefix-sum', inputs: { x }, options: { exclusive, reverse } });
      expect(out.y.shape).toEqual([1, 2, 3]);
      expectValues(out.y, y);
    });

    it.each([
      { exclusive: false, reverse: false, y: [1, 3] },
      { exclusive: true, reverse: false, y: [0, 1] },
      { exclusive: false, reverse: true, y: [3, 2] },
      { exclusive: true, reverse: true, y: [2, 0] },
    ])('L = 2, exclusive $exclusive, reverse $reverse', async ({ exclusive, reverse, y }) => {
      const out = await run(implementation, { family: 'prefix-sum', inputs: { x: t([1, 2], [1, 1, 2]) }, options: { exclusive, reverse } });
      expectValues(out.y, y);
    });

    it.each([
      { exclusive: false, reverse: false, y: [3] },
      { exclusive: true, reverse: false, y: [0] },
      { exclusive: false, reverse: true, y: [3] },
      { exclusive: true, reverse: true, y: [0] },
    ])('L = 1, exclusive $exclusive, reverse $reverse', async ({ exclusive, reverse, y }) => {
      const out = await run(implementation, { family: 'prefix-sum', inputs: { x: t([3], [1, 1, 1]) }, options: { exclusive, reverse } });
      expectValues(out.y, y);
    });

    it('L = 0, batch 0 and dim 0 give empty outputs of the right shape', async () => {
      for (const shape of [[2, 3, 0], [0, 3, 4], [2, 0, 4]]) {
        const out = await run(implementation, { family: 'prefix-sum', inputs: { x: t([], shape) }, options: { exclusive: true, reverse: true } });
        expect(out.y.shape).toEqual(shape);
        expect(out.y.data.length).toBe(0);
      }
    });

    it(`answers in ${exact ? 'float64' : 'float32'} storage and arithmetic (1 + 2^-30)`, async () => {
      const out = await run(implementation, { family: 'prefix-sum', inputs: { x: t([1, tiny], [1, 1, 2]) }, options: { exclusive: false, reverse: false } });
      expect(out.y.data).toBeInstanceOf(exact ? Float64Array : Float32Array);
      expectValues(out.y, [1, exact ? 1 + tiny : 1]);
    });
  });

  describe('linear-recurrence', () => {
    // a = [0.5, 2, −1], b = [1, 0.25, 3].
    const a = t([0.5, 2, -1], [1, 1, 3]);
    const b = t([1, 0.25, 3], [1, 1, 3]);
    const cases = [
      // forward from 0: 1, 2·1 + 0.25 = 2.25, −2.25 + 3 = 0.75
      { reverse: false, h0: undefined, h: [1, 2.25, 0.75], last: [0.75] },
      // forward from 4: 0.5·4 + 1 = 3, 6.25, −3.25
      { reverse: false, h0: [4], h: [3, 6.25, -3.25], last: [-3.25] },
      // reverse from 0: h2 = 3, h1 = 6.25, h0 = 0.5·6.25 + 1 = 4.125; last state is h_0
      { reverse: true, h0: undefined, h: [4.125, 6.25, 3], last: [4.125] },
      // reverse from 4: h2 = −4 + 3 = −1, h1 = −2 + 0.25 = −1.75, h0 = −0.875 + 1 = 0.125
      { reverse: true, h0: [4], h: [0.125, -1.75, -1], last: [0.125] },
    ];
    it.each(cases)('L = 3, reverse $reverse, h0 $h0', async ({ reverse, h0, h, last }) => {
      const inputs = h0 === undefined ? { a, b } : { a, b, h0: t(h0, [1, 1]) };
      const out = await run(implementation, { family: 'linear-recurrence', inputs, options: { reverse } });
      expectValues(out.h, h);
      expectValues(out.lastState, last);
      expect(out.lastState.shape).toEqual([1, 1]);
    });

    it.each([
      { reverse: false, h: [1, 2.25], last: [2.25] },
      // h1 = 0.25, h0 = 0.5·0.25 + 1
      { reverse: true, h: [1.125, 0.25], last: [1.125] },
    ])('L = 2, reverse $reverse', async ({ reverse, h, last }) => {
      const out = await run(implementation, {
        family: 'linear-recurrence',
        inputs: { a: t([0.5, 2], [1, 1, 2]), b: t([1, 0.25], [1, 1, 2]) },
        options: { reverse },
      });
      expectValues(out.h, h);
      expectValues(out.lastState, last);
    });

    it.each([false, true])('L = 1 from h0 = 4, reverse %s', async (reverse) => {
      const out = await run(implementation, {
        family: 'linear-recurrence',
        inputs: { a: t([0.5], [1, 1, 1]), b: t([1], [1, 1, 1]), h0: t([4], [1, 1]) },
        options: { reverse },
      });
      expectValues(out.h, [3]);
      expectValues(out.lastState, [3]);
    });

    it.each([false, true])('L = 0: empty h, lastState = h0 or zeros (reverse %s)', async (reverse) => {
      const empty = { a: t([], [2, 1, 0]), b: t([], [2, 1, 0]) };
      const withH0 = await run(implementation, { family: 'linear-recurrence', inputs: { ...empty, h0: t([4, -2], [2, 1]) }, options: { reverse } });
      expect(withH0.h.shape).toEqual([2, 1, 0]);
      expectValues(withH0.lastState, [4, -2]);
      const without = await run(implementation, { family: 'linear-recurrence', inputs: empty, options: { reverse } });
      expectValues(without.lastState, [0, 0]);
    });

    it('keeps rows apart: batch 2 × dim 2, each with its own h0', async () => {
      // Row r has a = 2, b = r + 1 and h0 = r: h = [2r + r + 1, 2(3r + 1) + r + 1].
      const out = await run(implementation, {
        family: 'linear-recurrence',
        inputs: { a: t(Array(8).fill(2), [2, 2, 2]), b: t([1, 1, 2, 2, 3, 3, 4, 4], [2, 2, 2]), h0: t([0, 1, 2, 3], [2, 2]) },
        options: { reverse: false },
      });
      expectValues(out.h, [1, 3, 4, 10, 7, 17, 10, 24]);
      expectValues(out.lastState, [3, 10, 17, 24]);
    });

    it(`answers in ${exact ? 'float64' : 'float32'} arithmetic (1 + 2^-30)`, async () => {
      const out = await run(implementation, {
        family: 'linear-recurrence',
        inputs: { a: t([1, 1], [1, 1, 2]), b: t([1, tiny], [1, 1, 2]) },
        options: { reverse: false },
      });
      expect(out.h.data).toBeInstanceOf(exact ? Float64Array : Float32Array);
      expectValues(out.h, [1, exact ? 1 + tiny : 1]);
    });
  });
});

describe('the sequential implementations', () => {
  it('are sequential-f64 (float64) and sequential-f32 (float32), each described, with every family and step', () => {
    expect(implementations.map((i) => [i.name, i.precision])).toEqual([
      ['sequential-f64', 'float64'],
      ['sequential-f32', 'float32'],
    ]);
    for (const implementation of implementations) {
      expect(implementation.description).toMatch(/\w/);
      for (const family of ['prefix-sum', 'linear-recurrence', 'selective-scan', 'lti-ssm'] as const) {
        expect(typeof implementation.families[family]?.run).toBe('function');
        expect(typeof implementation.families[family]?.step).toBe('function');
      }
    }
  });
});
