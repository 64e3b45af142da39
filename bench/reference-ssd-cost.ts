/**
 * reference()'s own speed on the benchmark's ssd shapes cut along L (the calibration the baselines'
 * child does before timing a whole case, bench/child.ts): one call per length, state-steps per
 * second. The first call includes JIT warm-up; a shared machine's load moves the numbers.
 *
 *   npx tsx bench/reference-ssd-cost.ts [L …]   (default 21 64)
 */
import os from 'node:os';
import type { FamilyName, Problem } from '../spec/families.ts';
import { reference } from '../reference/index.ts';
import { elementsOf, problemOf, STANDARD_CASES } from './cases.ts';

const lengths = (process.argv.length > 2 ? process.argv.slice(2) : ['21', '64']).map((arg) => {
  const L = Number(arg);
  if (!Number.isInteger(L) || L < 1) throw new RangeError(`reference-ssd-cost: L: expected positive integers, got '${arg}'`);
  return L;
});
console.log(`load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
for (const full of STANDARD_CASES.filter((c) => c.family === 'ssd')) {
  for (const L of lengths) {
    const c = { ...full, length: L };
    const problem = problemOf(c) as Problem<FamilyName>;
    const start = performance.now();
    reference(problem);
    const ms = performance.now() - start;
    const perSecond = elementsOf(c) / (ms / 1000);
    console.log(`${full.id} L ${L}: ${ms.toFixed(0)} ms, ${(perSecond / 1e6).toFixed(2)} M state-steps/s; whole case (L ${full.length}) at that rate: ${(elementsOf(full) / perSecond).toFixed(0)} s`);
  }
}
