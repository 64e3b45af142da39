/** Names of the baseline timings (kept apart from baselines.ts so that importing them loads no reference). */

/** Case-id prefix of the plain loop's timing. */
export const PLAIN_LOOP = 'plain-float64-loop';
/** Case-id prefix of reference()'s timing. */
export const REFERENCE = 'reference';
/** How many timings the baselines take per case. */
export const BASELINE_TIMINGS = 2;
