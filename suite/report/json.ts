/** report.json: the ConformanceReport as is (non-finite numbers, which JSON lacks, as strings). */
import type { ConformanceReport } from '../results.ts';

/** The JSON text of a report; Infinity, −Infinity and NaN become "Infinity", "-Infinity" and "NaN". */
export function renderJson(report: ConformanceReport): string {
  return `${JSON.stringify(report, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? String(value) : value), 2)}\n`;
}

/** The strings renderJson writes for the numbers JSON lacks. */
const NON_FINITE: Readonly<Record<string, number>> = { Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY, NaN: Number.NaN };

/** Reads report.json text back (the non-finite numbers renderJson wrote as strings become numbers again); throws on text that is not JSON. */
export function parseReportJson(text: string): ConformanceReport {
  return JSON.parse(text, (_key, value: unknown) => (typeof value === 'string' && Object.hasOwn(NON_FINITE, value) ? NON_FINITE[value] : value)) as ConformanceReport;
}
