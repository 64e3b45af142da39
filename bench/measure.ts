/** One timed case: tinybench with a warm-up and at least a few samples, reporting the median. */
import { Bench } from 'tinybench';
import type { CaseTiming } from './protocol.ts';

/** How long and how often a case is sampled. */
export interface SamplingPlan {
  /** Sampling time budget per case (ms); more samples are taken while it lasts. */
  readonly timeMs: number;
  /** Samples taken even past the budget. */
  readonly minSamples: number;
  /** Untimed warm-up calls (JIT, allocation of scratch, GPU pipelines): at least this many... */
  readonly warmups: number;
  /**
   * ...and for at least this long (ms). V8 compiles a hot loop in tiers and reaches its fastest
   * code only after some calls: sequential-f32 at L = 2^20 ran ~10 ms a call for its first ~20
   * calls here and ~7 ms after (bench/time-slice-cost.ts prints the curve), so a count alone left
   * whole runs timing the slower tier.
   */
  readonly warmupMs: number;
}

/** The sampling of the standard run: warm-up of at least 1 call and 0.5 s, at least 3 samples, 1 s of sampling. */
export const STANDARD_SAMPLING: SamplingPlan = { timeMs: 1000, minSamples: 3, warmups: 1, warmupMs: 500 };
/** The sampling of a crossover cell: 1 warm-up call and 0.1 s, at least 3 samples, 0.2 s of sampling (25 cells per implementation). */
export const CROSSOVER_SAMPLING: SamplingPlan = { timeMs: 200, minSamples: 3, warmups: 1, warmupMs: 100 };
/** The sampling of --quick. */
export const QUICK_SAMPLING: SamplingPlan = { timeMs: 50, minSamples: 3, warmups: 1, warmupMs: 0 };

/** Times `fn` and returns the latency statistics (throws what fn throws). */
export async function timeCase(name: string, fn: () => Promise<unknown> | unknown, plan: SamplingPlan): Promise<CaseTiming> {
  const bench = new Bench({
    name,
    time: plan.timeMs,
    iterations: plan.minSamples,
    warmup: plan.warmups > 0,
    warmupIterations: plan.warmups,
    warmupTime: plan.warmupMs,
    throws: true,
  });
  bench.add(name, async () => {
    await fn();
  });
  await bench.run();
  const result = bench.tasks[0].result;
  if (result.state !== 'completed') throw new Error(`${name}: tinybench ended in state '${result.state}'`);
  const { latency } = result;
  return { medianMs: latency.p50, meanMs: latency.mean, minMs: latency.min, maxMs: latency.max, samples: latency.samplesCount };
}

/**
 * A call predicted to take longer than this (ms) is timed once rather than sampled: tinybench's
 * warm-up and three samples would cost at least four such calls.
 */
export const SINGLE_CALL_OVER_MS = 2000;

/** How a call predicted to take `predictedMs` is timed: sampled by tinybench, once, or not at all (predicted past `maxRunMs`). */
export function timingMethod(predictedMs: number, maxRunMs: number): 'sampled' | 'single call' | 'not run' {
  if (!(predictedMs >= 0)) throw new RangeError(`timingMethod: predictedMs: expected a non-negative number, got ${predictedMs}`);
  if (predictedMs > maxRunMs) return 'not run';
  return predictedMs > SINGLE_CALL_OVER_MS ? 'single call' : 'sampled';
}

/** Times one call of `fn` (the caller warms it up): every statistic is that call's latency, samples 1. */
export async function timeOnce(fn: () => Promise<unknown> | unknown): Promise<CaseTiming> {
  const start = performance.now();
  await fn();
  const ms = performance.now() - start;
  return { medianMs: ms, meanMs: ms, minMs: ms, maxMs: ms, samples: 1 };
}
