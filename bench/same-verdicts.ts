/**
 * Whether two conformance reports of the same settings say the same: every cell's outcome, runs
 * and declined cases, and every number of the accuracy and gradient accuracy tables. It shows that
 * a run-code change which should touch no bound (a report column, a message) left every verdict
 * and measurement as it was, so deep-sweep runs on the code before it still stand for the code after.
 *
 *   npx tsx bench/same-verdicts.ts <before/report.json> <after/report.json>
 *
 * Prints the differences, or the number of cells and buckets compared; exits 1 on any difference.
 * Fields a report gained in the later code (absent from the earlier one) are not compared.
 */
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import type { CellResult, ConformanceReport, GradientAccuracyStats, ImplementationReport, LengthBucketStats } from '../suite/results.ts';

/** The accuracy numbers compared per length bucket. */
const BUCKET_FIELDS = ['cases', 'elements', 'maxE', 'p99E', 'beta', 'maxBoundUsage', 'maxAbsError', 'maxRelError', 'maxUlp', 'underflowElements', 'underflowMaxAbsError', 'nanElements', 'infElements', 'allclose', 'passed'] as const satisfies readonly (keyof LengthBucketStats)[];

/** The gradient accuracy numbers compared per family × tensor. */
const GRADIENT_FIELDS = ['cases', 'elements', 'maxE', 'maxBoundUsage', 'passed'] as const satisfies readonly (keyof GradientAccuracyStats)[];

/** What compares two runs' cells: outcome, cases run, cases declined. */
const CELL_FIELDS = ['outcome', 'runs', 'declined'] as const satisfies readonly (keyof CellResult)[];

function cellKey(cell: CellResult): string {
  return [cell.family, cell.property, cell.regime, cell.options && JSON.stringify(cell.options)].filter(Boolean).join(' · ');
}

/** Differences of fields between two records with the same key, as lines `<where>: <field> <a> → <b>`. */
function fieldDifferences<T>(where: string, a: T, b: T, fields: readonly (keyof T)[]): string[] {
  return fields.filter((f) => !Object.is(a[f], b[f])).map((f) => `${where}: ${String(f)} ${String(a[f])} → ${String(b[f])}`);
}

/** Matches two lists by key; a key in one list only is a difference. */
function pairs<T>(where: string, a: readonly T[], b: readonly T[], key: (x: T) => string): { matched: [string, T, T][]; missing: string[] } {
  const byKey = new Map(b.map((x) => [key(x), x] as const));
  const matched: [string, T, T][] = [];
  const missing: string[] = [];
  for (const x of a) {
    const y = byKey.get(key(x));
    if (y === undefined) missing.push(`${where} ${key(x)}: only in the first report`);
    else matched.push([key(x), x, y]);
    byKey.delete(key(x));
  }
  for (const k of byKey.keys()) missing.push(`${where} ${k}: only in the second report`);
  return { matched, missing };
}

/** Every difference of verdict or measurement between two reports, one line each; empty when they say the same. */
export function verdictDifferences(a: ConformanceReport, b: ConformanceReport): string[] {
  const out: string[] = [];
  const implementations = pairs('implementation', a.implementations, b.implementations, (i: ImplementationReport) => i.name);
  out.push(...implementations.missing);
  for (const [name, x, y] of implementations.matched) {
    out.push(...fieldDifferences(name, x, y, ['status']));
    const cells = pairs(name, x.cells, y.cells, cellKey);
    out.push(...cells.missing);
    for (const [key, c, d] of cells.matched) out.push(...fieldDifferences(`${name} · ${key}`, c, d, CELL_FIELDS));
    const buckets = pairs(`${name} accuracy`, x.accuracy, y.accuracy, (s: LengthBucketStats) => `${s.family} ${s.label}`);
    out.push(...buckets.missing);
    for (const [key, s, t] of buckets.matched) out.push(...fieldDifferences(`${name} accuracy ${key}`, s, t, BUCKET_FIELDS));
    const gradients = pairs(`${name} gradient accuracy`, x.gradientAccuracy ?? [], y.gradientAccuracy ?? [], (g: GradientAccuracyStats) => `${g.family} ${g.tensor}`);
    out.push(...gradients.missing);
    for (const [key, g, h] of gradients.matched) out.push(...fieldDifferences(`${name} gradient accuracy ${key}`, g, h, GRADIENT_FIELDS));
  }
  return out;
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv.length !== 2) {
    process.stderr.write('usage: npx tsx bench/same-verdicts.ts <before/report.json> <after/report.json>\n');
    return 2;
  }
  const [a, b] = await Promise.all(argv.map(async (file) => JSON.parse(await readFile(file, 'utf8')) as ConformanceReport));
  const differences = verdictDifferences(a, b);
  for (const line of differences) process.stdout.write(`${line}\n`);
  const cells = a.implementations.reduce((n, i) => n + i.cells.length, 0);
  const buckets = a.implementations.reduce((n, i) => n + i.accuracy.length + (i.gradientAccuracy ?? []).length, 0);
  process.stdout.write(`${differences.length === 0 ? 'same' : `${differences.length} differences`}: ${a.implementations.length} implementations, ${cells} cells, ${buckets} accuracy rows compared\n`);
  return differences.length === 0 ? 0 : 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exitCode = await main(process.argv.slice(2));
