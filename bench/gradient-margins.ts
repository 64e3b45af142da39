/**
 * The margins of the gradient tolerance (rule V, spec/tolerance.md "Gradients"): the largest bound
 * usage |ĝ − g|/bound of the float32 and float64 sequential backward kernels over every family ×
 * regime × option setting, per family (selective-scan's packed rows, whose seqIdx resets the state, also
 * on a row of their own), with the case that reached it.
 *
 *     npx tsx bench/gradient-margins.ts [--seeds 1-20] [--lengths 1,7,64,300]
 */
import { sequentialVjp } from '../implementations/sequential/vjp.ts';
import { FAMILY_NAMES, type FamilyName } from '../spec/families.ts';
import { gradientCases, hasResets, measure, referenceOf } from './gradient-cases.ts';

/** `1-20` or `1,2,5` as a list of integers. */
function parseList(text: string, name: string): number[] {
  const range = /^(\d+)-(\d+)$/.exec(text);
  if (range !== null) return Array.from({ length: Number(range[2]) - Number(range[1]) + 1 }, (_, i) => Number(range[1]) + i);
  const list = text.split(',').map(Number);
  if (list.some((v) => !Number.isInteger(v) || v < 0)) throw new RangeError(`--${name}: expected a range a-b or a comma list of non-negative integers, got '${text}'`);
  return list;
}

const args = process.argv.slice(2);
const option = (name: string, fallback: string): string => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && at + 1 < args.length ? args[at + 1] : fallback;
};
const seeds = parseList(option('seeds', '1-20'), 'seeds');
const lengths = parseList(option('lengths', '1,7,64,300'), 'lengths');
const cases = gradientCases(seeds, lengths);
const withResets = cases.filter((c) => c.family === 'selective-scan' && hasResets(c)).length;
type Worst = { usage: number; label: string; where: string };
const worst = new Map<string, Worst>();
let judged = 0;
let skipped = 0;
const started = Date.now();
for (const c of cases) {
  const reference = referenceOf(c);
  for (const precision of ['float32', 'float64'] as const) {
    const usage = measure(c, sequentialVjp(precision, c.problem as never, c.cotangents as never) as never, precision, reference);
    judged += usage.judged;
    skipped += usage.skipped;
    const packed = c.family === 'selective-scan' && hasResets(c);
    for (const key of [`${c.family} ${precision}`, ...(packed ? [`${c.family} (seqIdx resets) ${precision}`] : [])]) {
      const previous = worst.get(key);
      if (previous === undefined || usage.max > previous.usage) worst.set(key, { usage: usage.max, label: c.label, where: usage.worst === undefined ? '-' : `${usage.worst.input}[${usage.worst.index}]` });
    }
  }
}
console.log(`${cases.length} cases (${withResets} selective-scan with seqIdx resets), ${judged} gradient elements judged, ${skipped} not judged, ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log('| family | precision | max bound usage | case | element |');
console.log('| --- | --- | ---: | --- | --- |');
for (const family of [...(FAMILY_NAMES as readonly FamilyName[]), 'selective-scan (seqIdx resets)']) {
  for (const precision of ['float32', 'float64']) {
    const w = worst.get(`${family} ${precision}`);
    if (w !== undefined) console.log(`| ${family} | ${precision} | ${w.usage.toPrecision(3)} | ${w.label} | ${w.where} |`);
  }
}
const overall = Math.max(...[...worst.values()].map((w) => w.usage));
if (!(overall < 1)) {
  console.error(`bound exceeded: max usage ${overall}`);
  process.exitCode = 1;
}
