/** report.json: the ConformanceReport as is (non-finite numbers, which JSON lacks, as strings). */
import type { ConformanceReport } from '../results.ts';

/** The JSON text of a report; Infinity, −Infinity and NaN become "Infinity", "-Infinity" and "NaN". */
export function renderJson(report: ConformanceReport): string {
  return `${JSON.stringify(report, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? String(value) : value), 2)}\n`;
}
