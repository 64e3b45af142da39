import { describe, expect, it } from 'vitest';
import { FLOAT32 } from '../../../implementations/parallel-scan/arithmetic.ts';
import type { ScanJob } from '../../../implementations/parallel-scan/job.ts';
import { allocateOutputs } from '../../../implementations/parallel-scan/job.ts';
import { programOf } from '../../../implementations/parallel-scan/programs/index.ts';
import type { SliceSync } from '../../../implementations/parallel-scan/time-slices.ts';
import {
  abortSlices,
  createSliceSync,
  INPUT_ROUNDS,
  inputRound,
  publishInputRounds,
  runTimeSlice,
  runTimeSliceAsync,
} from '../../../implementations/parallel-scan/time-slices.ts';
import { Workspace } from '../../../implementations/parallel-scan/workspace.ts';

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

describe('runTimeSlice when another thread failed', () => {
  const L = 64;
  const job: ScanJob = {
    problem: {
      family: 'linear-recurrence',
      options: { reverse: false },
      inputs: { a: { data: new Float32Array(L).fill(0.5), shape: [1, 1, L] }, b: { data: new Float32Array(L).fill(1), shape: [1, 1, L] } },
    },
    initialState: undefined,
  };
  const slice = (sliceIndex: number, staged: boolean, sync: SliceSync) => () => {
    const workspace = new Workspace(FLOAT32);
    const program = programOf(job, allocateOutputs(job, FLOAT32), FLOAT32, workspace);
    const [p0, p1] = sliceIndex === 0 ? [0, L / 2] : [L / 2, L];
    runTimeSlice({ program, workspace, sync, slice: sliceIndex, count: 2, p0, p1, staged });
  };
  const lastSliceAsync = (sync: SliceSync, outputs = allocateOutputs(job, FLOAT32)): Promise<void> => {
    const workspace = new Workspace(FLOAT32);
    const program = programOf(job, outputs, FLOAT32, workspace);
    return runTimeSliceAsync({ program, workspace, sync, slice: 1, count: 2, p0: L / 2, p1: L, staged: false });
  };

  it("the calling thread's slice awaits its carry with its event loop turning, so an abort from a callback reaches it", async () => {
    const sync = createSliceSync(2, 1);
    setTimeout(() => abortSlices(sync), 20);
    await expect(lastSliceAsync(sync)).rejects.toThrow(/time slice 1: aborted, another thread failed/);
  });

  it("the calling thread's slice finishes once a callback publishes its carry", async () => {
    const sync = createSliceSync(2, 1);
    const outputs = allocateOutputs(job, FLOAT32);
    setTimeout(() => {
      sync.carries[0] = 2;
      Atomics.store(sync.progress, 0, 1);
      Atomics.notify(sync.progress, 0);
    }, 20);
    await lastSliceAsync(sync, outputs);
    // From h = 2, h = h/2 + 1 stays at 2.
    expect(Array.from(outputs.primary.subarray(L / 2))).toEqual(new Array(L / 2).fill(2));
    expect(outputs.finalState?.[0]).toBe(2);
  });

  it('a slice waiting for its carry throws instead of waiting forever', () => {
    const sync = createSliceSync(2, 1);
    abortSlices(sync);
    expect(slice(1, false, sync)).toThrow(/time slice 1: aborted, another thread failed/);
  });

  it('a worker waiting for its input rounds throws instead of waiting forever', () => {
    const sync = createSliceSync(2, 1);
    publishInputRounds(sync, 3);
    abortSlices(sync);
    expect(slice(0, true, sync)).toThrow(/time slice 0: aborted, another thread failed/);
  });

  it('a worker whose input rounds are all in runs to the end and publishes its carry', () => {
    const sync = createSliceSync(2, 1);
    publishInputRounds(sync, INPUT_ROUNDS);
    slice(0, true, sync)();
    // h after 32 steps of h = h/2 + 1 from 0 is 2 − 2^-31, rounded to float32: 2.
    expect(Array.from(sync.progress.subarray(0, 1))).toEqual([1]);
    expect(sync.carries[0]).toBe(Math.fround(2 - 2 ** -31));
  });
});
