/**
 * How a run is split across threads: channel-parallel when there are enough channels for every
 * thread, time-parallel (the chunked scan with one chunk per thread) for long sequences with few
 * channels, and the calling thread alone when the work is too small to repay the messages.
 */

/** Below this many recurrence steps (groups·lanes·L) a run stays on the calling thread. */
export const MIN_PARALLEL_WORK = 1 << 15;
/** A time slice shorter than this is not worth a thread. */
export const MIN_SLICE_LENGTH = 4096;

/** A split of a run over `threads` threads; share 0 is the calling thread's. */
export type RunPlan =
  | { readonly kind: 'inline' }
  | { readonly kind: 'groups'; readonly ranges: readonly (readonly [number, number])[] }
  | { readonly kind: 'slices'; readonly ranges: readonly (readonly [number, number])[] };

/** Splits [0, total) into `parts` consecutive ranges with lengths proportional to `weights`. */
export function splitByWeights(total: number, weights: readonly number[]): [number, number][] {
  const sum = weights.reduce((x, y) => x + y, 0);
  const ranges: [number, number][] = [];
  let start = 0;
  let cumulative = 0;
  for (let k = 0; k < weights.length; k++) {
    cumulative += weights[k];
    const end = k === weights.length - 1 ? total : Math.round((total * cumulative) / sum);
    ranges.push([start, end]);
    start = end;
  }
  return ranges;
}

/** The size thresholds of planRun (tests lower them to exercise every split on small problems). */
export interface PlanThresholds {
  readonly minParallelWork: number;
  readonly minSliceLength: number;
}

/** The thresholds measured worthwhile on a 2-core machine. */
export const DEFAULT_THRESHOLDS: PlanThresholds = { minParallelWork: MIN_PARALLEL_WORK, minSliceLength: MIN_SLICE_LENGTH };

/** Chooses how to split `groups` channels of `lanes` lanes over `length` positions across `threads`. */
export function planRun(
  groups: number,
  lanes: number,
  length: number,
  threads: number,
  thresholds: PlanThresholds = DEFAULT_THRESHOLDS,
): RunPlan {
  if (threads <= 1 || groups * lanes * length < thresholds.minParallelWork) return { kind: 'inline' };
  const sliceable = length >= threads * Math.max(1, thresholds.minSliceLength);
  if (groups >= 4 * threads || (groups >= threads && !sliceable)) {
    return { kind: 'groups', ranges: splitByWeights(groups, new Array<number>(threads).fill(1)) };
  }
  if (sliceable) {
    // Every slice does the same three passes, so equal slices balance.
    return { kind: 'slices', ranges: splitByWeights(length, new Array<number>(threads).fill(1)) };
  }
  return { kind: 'inline' };
}
