/**
 * The chunked-threads backward split across the pool like the forward: forced into channel ranges
 * and into time slices (a carry chain of 3), it passes the suite's vjp properties on every family;
 * at the default thresholds a long few-channel problem and a many-channel one are really split
 * (the tasks reach the worker), and their gradients equal the single-threaded chunked backward's
 * within a float64 bound.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChunkedScan } from '../../../implementations/parallel-scan/algorithms/chunked.ts';
import { FLOAT32, FLOAT64 } from '../../../implementations/parallel-scan/arithmetic.ts';
import type { ScannedProblem } from '../../../implementations/parallel-scan/job.ts';
import { SCANNED_FAMILIES } from '../../../implementations/parallel-scan/job.ts';
import { backwardPlan, threadedVjp } from '../../../implementations/parallel-scan/threads/backward.ts';
import type { BackwardContext } from '../../../implementations/parallel-scan/threads/backward.ts';
import { ThreadState } from '../../../implementations/parallel-scan/threads/execute.ts';
import { DEFAULT_THRESHOLDS } from '../../../implementations/parallel-scan/threads/plan.ts';
import type { PoolTask } from '../../../implementations/parallel-scan/threads/task.ts';
import { shapeOf, threadedImplementation } from '../../../implementations/parallel-scan/threads/threaded.ts';
import { parallelBackwardScans } from '../../../implementations/parallel-scan/vjp.ts';
import { vjpWithScans } from '../../../implementations/sequential/vjp.ts';
import { siblingModule } from '../../../implementations/threads/pool.ts';
import { PooledThreads } from '../../../implementations/threads/pooled-threads.ts';
import type { GradientTensor } from '../../../spec/gradients.ts';
import type { Tensor } from '../../../spec/tensor.ts';
import { quickRun } from '../../suite/quick-run.ts';
import { randomSource } from './problems.ts';

const TIME_SLICES = { minParallelWork: 0, minSliceLength: 1 };
const CHANNEL_RANGES = { minParallelWork: 0, minSliceLength: Number.MAX_SAFE_INTEGER };
const variants = [
  threadedImplementation(FLOAT32, { threads: 2, thresholds: CHANNEL_RANGES, name: 'threads-2-channels-f32' }),
  threadedImplementation(FLOAT32, { threads: 3, thresholds: TIME_SLICES, name: 'threads-3-slices-f32' }),
  threadedImplementation(FLOAT64, { threads: 3, thresholds: TIME_SLICES, name: 'threads-3-slices-f64' }),
];
const LIMITS = { runs: 2, maxLength: 16 };

beforeAll(async () => {
  for (const implementation of variants) await implementation.setup?.();
});
afterAll(async () => {
  for (const implementation of variants) await implementation.dispose?.();
});

describe('the threaded backward forced into each split passes the vjp properties', () => {
  for (const implementation of variants) {
    it.each(SCANNED_FAMILIES)(`${implementation.name}: %s`, async (family) => {
      const cells = await quickRun(implementation, family, ['vjp', 'vjp-state-passing'], LIMITS);
      expect(cells.length).toBeGreaterThan(0);
      for (const cell of cells) {
        expect(cell.outcome, `${cell.property}: ${cell.counterexample?.message ?? cell.reason}`).not.toBe('fail');
        if (cell.outcome === 'pass') expect(cell.runs - (cell.declined ?? 0)).toBeGreaterThan(0);
      }
      expect(cells.some((cell) => cell.property === 'vjp' && cell.outcome === 'pass')).toBe(true);
    });
  }
});

function tensorOf(random: (lo: number, hi: number) => number, shape: readonly number[], lo: number, hi: number): Tensor {
  const data = new Float32Array(shape.reduce((x, y) => x * y, 1));
  for (let i = 0; i < data.length; i++) data[i] = random(lo, hi);
  return { data, shape };
}

describe('at the default thresholds the backward goes to the worker', () => {
  const workers = new PooledThreads<PoolTask>(2, siblingModule(new URL('../../../implementations/parallel-scan/threads/threaded.ts', import.meta.url).href, 'worker'), 'parallel-scan');
  const local = new ThreadState();
  const context: BackwardContext = { arithmetic: FLOAT64, workers, thresholds: DEFAULT_THRESHOLDS, local: (share) => local.executeBackward(share), shape: shapeOf };
  const posted: string[] = [];
  beforeAll(() => {
    workers.start();
    const pool = workers.pool!;
    const submit = pool.submit.bind(pool);
    pool.submit = (index, task) => {
      posted.push('phase' in task ? task.phase.kind : 'forward');
      return submit(index, task);
    };
  });
  afterAll(() => workers.stop());

  const random = randomSource('threaded-vjp');
  const L = 1 << 14;
  const cases: [string, 'slices' | 'groups', string[], ScannedProblem][] = [
    [
      'linear-recurrence (1, 2, 2^14) with h0: time slices',
      'slices',
      ['reduce', 'scan'],
      {
        family: 'linear-recurrence',
        options: { reverse: true },
        inputs: { a: tensorOf(random, [1, 2, L], 0.5, 1), b: tensorOf(random, [1, 2, L], -1, 1), h0: tensorOf(random, [1, 2], -1, 1) },
      },
    ],
    [
      'selective-scan (2, 8, 512, N 4) time-invariant B, C, D, deltaBias: channel ranges',
      'groups',
      ['scan'],
      {
        family: 'selective-scan',
        options: { deltaSoftplus: true },
        inputs: {
          u: tensorOf(random, [2, 8, 512], -1, 1),
          delta: tensorOf(random, [2, 8, 512], -2, 0),
          A: tensorOf(random, [8, 4], -1, -0.1),
          B: tensorOf(random, [8, 4], -1, 1),
          C: tensorOf(random, [8, 4], -1, 1),
          D: tensorOf(random, [8], -1, 1),
          deltaBias: tensorOf(random, [8], -0.5, 0.5),
        },
      },
    ],
  ];
  it.each(cases)('%s', async (_name, kind, phases, problem) => {
    expect(backwardPlan(context, problem).kind).toBe(kind);
    const { groups, lanes, length } = shapeOf(problem);
    expect(groups * lanes * length).toBeGreaterThanOrEqual(DEFAULT_THRESHOLDS.minParallelWork);
    const primary = problem.family === 'linear-recurrence' ? 'h' : 'y';
    const cotangents: Record<string, GradientTensor> = {
      [primary]: tensorOf(random, [shapeOf(problem).groups === 2 ? 1 : 2, problem.family === 'linear-recurrence' ? 2 : 8, length], -1, 1),
      lastState: tensorOf(random, problem.family === 'linear-recurrence' ? [1, 2] : [2, 8, 4], -1, 1),
    };
    posted.length = 0;
    const threaded = (await threadedVjp(context, problem, cotangents)) as Record<string, GradientTensor>;
    expect(posted).toEqual(phases);
    const single = vjpWithScans('float64', problem, cotangents as never, parallelBackwardScans(new ChunkedScan(), FLOAT64)) as Record<string, GradientTensor>;
    expect(Object.keys(threaded).sort()).toEqual(Object.keys(single).sort());
    for (const name of Object.keys(single)) {
      const expected = single[name].data;
      const actual = threaded[name].data;
      let scale = 0;
      for (const v of expected) scale = Math.max(scale, Math.abs(v));
      expect(scale, name).toBeGreaterThan(0);
      let worst = 0;
      for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
      // Shares regroup the sums over shared parameters and the slices' carries: float64 rounding only.
      expect(worst / scale, name).toBeLessThanOrEqual(1e-11);
    }
  });
});
