import { describe, expect, it } from 'vitest';
import { INPUT_ROUNDS, inputRound } from '../../../implementations/parallel-scan/time-slices.ts';

describe('inputRound (the blocks a worker\'s inputs are copied in)', () => {
  for (const [p0, p1] of [
    [0, 0],
    [0, 1],
    [5, 8],
    [3, 40],
    [1000, 1000 + 2 ** 19 + 7],
  ] as const) {
    it(`covers each half of [${p0}, ${p1}) once, in order, the second half's blocks no longer than the first's`, () => {
      const half = Math.ceil((p1 - p0) / 2);
      const covered = new Uint8Array(p1 - p0);
      let firstEnd: number = p0;
      let secondEnd = p0 + half;
      for (let round = 0; round < INPUT_ROUNDS; round++) {
        const [[f0, f1], [s0, s1]] = inputRound(p0, p1, round);
        expect([f0, s0]).toEqual([firstEnd, secondEnd]);
        expect(s1 - s0).toBeLessThanOrEqual(f1 - f0);
        for (let p = f0; p < f1; p++) covered[p - p0]++;
        for (let p = s0; p < s1; p++) covered[p - p0]++;
        [firstEnd, secondEnd] = [f1, s1];
      }
      expect([firstEnd, secondEnd]).toEqual([p0 + half, p1]);
      expect(covered.every((count) => count === 1)).toBe(true);
    });
  }
});
