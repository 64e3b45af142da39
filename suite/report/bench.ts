/**
 * The optional benchmark table: when `bench.json` (written by `npm run bench`) sits in the report
 * folder, its throughput table joins the conformance report. The file belongs to another tool
 * and may be absent, stale or of another shape, so it is read defensively: anything unexpected
 * yields a note instead of a table, never an error.
 */
import { readFile } from 'node:fs/promises';

/** The benchmark table as the reports show it. */
export interface BenchTable {
  readonly source: string;
  readonly generatedAt?: string;
  readonly command?: string;
  readonly headers: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

/** What reading bench.json gave: a table, nothing (no file), or why it could not be used. */
export type BenchReading = { readonly kind: 'table'; readonly table: BenchTable } | { readonly kind: 'absent' } | { readonly kind: 'unusable'; readonly reason: string };

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads `file` (a bench.json) into a table: one row per implementation, one column per case (elements/s and ratio to sequential-f32). */
export async function readBenchTable(file: string): Promise<BenchReading> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'absent' };
    return { kind: 'unusable', reason: `${file} could not be read: ${(error as Error).message}` };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { kind: 'unusable', reason: `${file} is not JSON: ${(error as Error).message}` };
  }
  if (!isRecord(value) || !Array.isArray(value.cases) || !Array.isArray(value.implementations)) {
    return { kind: 'unusable', reason: `${file}: expected an object with arrays 'cases' and 'implementations'` };
  }
  const cases = value.cases.filter(isRecord).filter((c) => typeof c.id === 'string');
  const headers = ['implementation', 'precision', ...cases.map((c) => String(c.title ?? c.id))];
  const rows: string[][] = [];
  for (const implementation of value.implementations.filter(isRecord)) {
    const results = isRecord(implementation.results) ? implementation.results : {};
    rows.push([
      String(implementation.name ?? '?'),
      String(implementation.precision ?? ''),
      ...cases.map((c) => cellOf(results[c.id as string])),
    ]);
  }
  return {
    kind: 'table',
    table: {
      source: file,
      ...(typeof value.generatedAt === 'string' && { generatedAt: value.generatedAt }),
      ...(typeof value.command === 'string' && { command: value.command }),
      headers,
      rows,
    },
  };
}

function cellOf(result: unknown): string {
  if (!isRecord(result)) return '';
  const outcome = isRecord(result.outcome) ? result.outcome : {};
  if (outcome.status !== undefined && outcome.status !== 'ok') return String(outcome.status);
  const rate = typeof result.elementsPerSecond === 'number' ? `${(result.elementsPerSecond / 1e6).toPrecision(3)} M/s` : '';
  const ratio = typeof result.ratioToSequentialF32 === 'number' ? ` (×${result.ratioToSequentialF32.toPrecision(3)})` : '';
  return `${rate}${ratio}`;
}
