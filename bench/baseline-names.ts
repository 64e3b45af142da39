/** Names of the baseline timings (kept apart from baselines.ts so that importing them loads no reference). */
import type { FamilyName } from '../spec/families.ts';

/** Case-id prefix of the plain loop's timing. */
export const PLAIN_LOOP = 'plain-float64-loop';
/** Case-id prefix of reference()'s timing. */
export const REFERENCE = 'reference';
/** How many timings the baselines take on a case of `family`: reference(), and the plain loop on a linear recurrence. */
export function baselineTimingsOf(family: FamilyName): number {
  return family === 'linear-recurrence' ? 2 : 1;
}
