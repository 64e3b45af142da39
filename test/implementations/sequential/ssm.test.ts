/**
 * Hand-checked selective scans and lti-ssm recurrences for sequential-f64 and sequential-f32.
 * Decays are exp(0) = 1 or exp(−800) = 0 and gates silu(z) with exp(−z) below half an ulp of 1,
 * so values stay dyadic and both precisions must match exactly; the few cases that need a real
 * exp or log1p compare with the closed form to a few ulps.
 */
import { describe, expect, it } from 'vitest';
import type { SelectiveScanInputs } from '../../../spec/families.ts';
import { expectClose, expectValues, expTolerance, implementations, run, t } from './helpers.ts';

const tiny = 2 ** -30;

/** The base case: batch 1, dim 1, N 2, L 3, decay 1 (A = 0), time-invariant B = [1, 2], C = [1, 0.5]. */
const base: SelectiveScanInputs = {
  u: t([1, 2, 4], [1, 1, 3]),
  delta: t([0.5, 0.25, 1], [1, 1, 3]),
  A: t([0, 0], [1, 2]),
  B: t([1, 2], [1, 2]),
  C: t([1, 0.5], [1, 2]),
};

/** N = 1, decay 1, B = C = 1, delta = 1: y is the running sum of u. */
function unitScan(u: readonly number[], extra: Partial<SelectiveScanInputs> = {}): SelectiveScanInputs {
  const L = u.length;
  return {
    u: t(u, [1, 1, L]),
    delta: t(Array(L).fill(1), [1, 1, L]),
    A: t([0], [1, 1]),
    B: t([1], [1, 1]),
    C: t([1], [1, 1]),
    ...extra,
  };
}

describe.each(implementations)('$name', (implementation) => {
  const exact = implementation.precision === 'float64';
  const scan = (inputs: SelectiveScanInputs, deltaSoftplus = false) =>
    run(implementation, { family: 'selective-scan', inputs, options: { deltaSoftplus } });

  describe('selective-scan', () => {
    // δu = [0.5, 0.5, 4]; h_0 = [0.5, 1, 5], h_1 = 2·h_0; y = h_0 + 0.5·h_1.
    it('L = 3, N = 2, time-invariant B and C', async () => {
      const out = await scan(base);
      expectValues(out.y, [1, 2, 10]);
      expectValues(out.lastState, [5, 10]);
      expect(out.lastState.shape).toEqual([1, 1, 2]);
    });

    it('adds D·u', async () => {
      expectValues((await scan({ ...base, D: t([2], [1]) })).y, [3, 6, 18]);
    });

    it('gates with silu(z) after D (z = 200, 0, 64 give gates 200, 0, 64)', async () => {
      const out = await scan({ ...base, D: t([2], [1]), z: t([200, 0, 64], [1, 1, 3]) });
      expectValues(out.y, [600, 0, 1152]);
      expectValues(out.lastState, [5, 10]);
    });

    it('gates with silu(1) = 1 / (1 + e^-1)', async () => {
      const out = await scan(unitScan([1], { z: t([1], [1, 1, 1]) }));
      expectClose(out.y, [1 / (1 + Math.exp(-1))], expTolerance(implementation));
    });

    it('adds deltaBias to delta before everything', async () => {
      // δ' = [0.75, 0.5, 1.25]; δ'u = [0.75, 1, 5]; h_0 = [0.75, 1.75, 6.75], h_1 = 2·h_0.
      const out = await scan({ ...base, deltaBias: t([0.25], [1]) });
      expectValues(out.y, [1.5, 3.5, 13.5]);
      expectValues(out.lastState, [6.75, 13.5]);
    });

    it('starts from h0', async () => {
      // h_0 = 10 + [0.5, 1, 5], h_1 = 20 + [1, 2, 10].
      const out = await scan({ ...base, h0: t([10, 20], [1, 1, 2]) });
      expectValues(out.y, [21, 22, 30]);
      expectValues(out.lastState, [15, 30]);
    });

    it('softplus is the identity above the threshold 20', async () => {
      const out = await scan(unitScan([1, 1, 1], { delta: t([24, 32, 21], [1, 1, 3]) }), true);
      expectValues(out.y, [24, 56, 77]);
    });

    it('softplus(0) = ln 2 below the threshold, after deltaBias', async () => {
      const out = await scan(unitScan([1, 1], { delta: t([-0.5, 23.5], [1, 1, 2]), deltaBias: t([0.5], [1]) }), true);
      expectClose(out.y, [Math.LN2, Math.LN2 + 24], expTolerance(implementation));
    });

    it('decays by exp(delta·A): A = −1, delta = 1', async () => {
      const e = Math.exp(-1);
      const out = await scan(unitScan([1, 1, 1], { A: t([-1], [1, 1]) }));
      expectClose(out.y, [1, e + 1, e * (e + 1) + 1], expTolerance(implementation));
    });

    it('reads A per channel: decay 1 on channel 0, exp(−800) = 0 on channel 1', async () => {
      const out = await scan({
        u: t([1, 2, 4, 1, 2, 4], [1, 2, 3]),
        delta: t(Array(6).fill(1), [1, 2, 3]),
        A: t([0, -800], [2, 1]),
        B: t([1, 1], [2, 1]),
        C: t([1, 1], [2, 1]),
      });
      expectValues(out.y, [1, 3, 7, 1, 2, 4]);
      expectValues(out.lastState, [7, 4]);
    });

    it('time-varying B and C (batch, N, L), shared by all channels', async () => {
      const out = await scan({
        u: t([1, 1, 1, 2, 2, 2], [1, 2, 3]),
        delta: t(Array(6).fill(1), [1, 2, 3]),
        A: t([0, 0], [2, 1]),
        B: t([1, 2, 4], [1, 1, 3]),
        C: t([1, 0.5, 0.25], [1, 1, 3]),
      });
      expectValues(out.y, [1, 1.5, 1.75, 2, 3, 3.5]);
      expectValues(out.lastState, [7, 14]);
    });

    it('grouped B and C, dim 4, G = 2: channels 0, 1 read group 0 and 2, 3 group 1', async () => {
      const out = await scan({
        u: t([1, 1, 2, 2, 3, 3, 4, 4], [1, 4, 2]),
        delta: t(Array(8).fill(1), [1, 4, 2]),
        A: t([0, 0, 0, 0], [4, 1]),
        B: t([1, 2, 4, 8], [1, 2, 1, 2]),
        C: t([1, 1, 0.5, 0.5], [1, 2, 1, 2]),
      });
      expectValues(out.y, [1, 3, 2, 6, 6, 18, 8, 24]);
      expectValues(out.lastState, [3, 6, 36, 48]);
    });

    it('grouped with G = dim: each channel its own group', async () => {
      const out = await scan({
        u: t([1, 1, 1, 1], [1, 4, 1]),
        delta: t([1, 1, 1, 1], [1, 4, 1]),
        A: t([0, 0, 0, 0], [4, 1]),
        B: t([1, 2, 3, 4], [1, 4, 1, 1]),
        C: t([2, 2, 2, 2], [1, 4, 1, 1]),
      });
      expectValues(out.y, [2, 4, 6, 8]);
      expectValues(out.lastState, [1, 2, 3, 4]);
    });

    it('grouped with G = 1 and N = 2: one group for all channels', async () => {
      const out = await scan({
        u: t([1, 3], [1, 2, 1]),
        delta: t([1, 1], [1, 2, 1]),
        A: t([0, 0, 0, 0], [2, 2]),
        B: t([1, 2], [1, 1, 2, 1]),
        C: t([4, 8], [1, 1, 2, 1]),
      });
      expectValues(out.y, [20, 60]);
      expectValues(out.lastState, [1, 2, 3, 6]);
    });

    it('B and C layouts are independent: time-invariant B with time-varying C over batch 2', async () => {
      const out = await scan({
        u: t([1, 1, 2, 2], [2, 1, 2]),
        delta: t([1, 1, 1, 1], [2, 1, 2]),
        A: t([0], [1, 1]),
        B: t([1], [1, 1]),
        C: t([1, 2, 4, 8], [2, 1, 2]),
      });
      expectValues(out.y, [1, 4, 8, 32]);
      expectValues(out.lastState, [2, 4]);
    });

    it('B and C layouts are independent: grouped B with time-invariant C', async () => {
      const out = await scan({
        u: t([1, 1], [1, 2, 1]),
        delta: t([1, 1], [1, 2, 1]),
        A: t([0, 0], [2, 1]),
        B: t([3, 5], [1, 2, 1, 1]),
        C: t([1, 2], [2, 1]),
      });
      expectValues(out.y, [3, 10]);
    });

    it('L = 2 and L = 1 of the base case', async () => {
      const cut = (L: number): SelectiveScanInputs => ({
        ...base,
        u: t([1, 2, 4].slice(0, L), [1, 1, L]),
        delta: t([0.5, 0.25, 1].slice(0, L), [1, 1, L]),
      });
      expectValues((await scan(cut(2))).y, [1, 2]);
      const one = await scan(cut(1));
      expectValues(one.y, [1]);
      expectValues(one.lastState, [0.5, 1]);
    });

    it('L = 0: empty y, lastState = h0 or zeros', async () => {
      const empty: SelectiveScanInputs = { ...base, u: t([], [1, 1, 0]), delta: t([], [1, 1, 0]) };
      const without = await scan(empty);
      expect(without.y.shape).toEqual([1, 1, 0]);
      expectValues(without.lastState, [0, 0]);
      expectValues((await scan({ ...empty, h0: t([3, -1], [1, 1, 2]) })).lastState, [3, -1]);
    });

    it(`answers in ${exact ? 'float64' : 'float32'} arithmetic (1 + 2^-30)`, async () => {
      const out = await scan(unitScan([1, tiny]));
      expect(out.y.data).toBeInstanceOf(exact ? Float64Array : Float32Array);
      expectValues(out.y, [1, exact ? 1 + tiny : 1]);
    });
  });

  describe('lti-ssm', () => {
    // Channel with N = 2: h_0 = 0.5·h + u, h_1 = −h + 2u; y = h_0 + 0.25·h_1.
    const params = { Abar: t([0.5, -1], [1, 2]), Bbar: t([1, 2], [1, 2]), C: t([1, 0.25], [1, 2]) };
    const lti = (u: readonly number[], D?: number) =>
      run(implementation, {
        family: 'lti-ssm',
        inputs: { ...params, u: t(u, [1, 1, u.length]), ...(D === undefined ? {} : { D: t([D], [1]) }) },
        options: {},
      });

    it('L = 3, N = 2 (also the convolution K = [1.5, 0, 0.75])', async () => {
      expectValues((await lti([1, 2, 4])).y, [1.5, 3, 6.75]);
    });

    it('adds D·u', async () => {
      expectValues((await lti([1, 2, 4], 2)).y, [3.5, 7, 14.75]);
    });

    it('L = 2, 1, 0', async () => {
      expectValues((await lti([1, 2])).y, [1.5, 3]);
      expectValues((await lti([1])).y, [1.5]);
      const empty = await lti([]);
      expect(empty.y.shape).toEqual([1, 1, 0]);
    });

    it('batch 2 × dim 2, parameters per channel', async () => {
      const out = await run(implementation, {
        family: 'lti-ssm',
        inputs: {
          Abar: t([0.5, 2], [2, 1]),
          Bbar: t([1, 0.5], [2, 1]),
          C: t([2, 1], [2, 1]),
          D: t([1, -1], [2]),
          u: t([1, 1, 2, 2, 4, 0, 0, 8], [2, 2, 2]),
        },
        options: {},
      });
      expectValues(out.y, [3, 4, -1, 1, 12, 4, 0, -4]);
    });

    it(`answers in ${exact ? 'float64' : 'float32'} arithmetic (1 + 2^-30)`, async () => {
      const out = await run(implementation, {
        family: 'lti-ssm',
        inputs: { Abar: t([1], [1, 1]), Bbar: t([1], [1, 1]), C: t([1], [1, 1]), u: t([1, tiny], [1, 1, 2]) },
        options: {},
      });
      expect(out.y.data).toBeInstanceOf(exact ? Float64Array : Float32Array);
      expectValues(out.y, [1, exact ? 1 + tiny : 1]);
    });
  });
});
