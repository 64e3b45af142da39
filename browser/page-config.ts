/**
 * What the server tells the browser page to run (GET /config.json), and how the finished report
 * travels back (POST /report). Types and pure functions only: both sides import it.
 */
import type { FamilyName } from '../spec/families.ts';
import type { Precision } from '../spec/precision.ts';
import type { ConformanceReport, PropertyName } from '../suite/results.ts';

/** An implementation the page runs from a module URL: the user's own. */
export interface PageModule {
  /** The URL the page imports (the server maps a local file to one). */
  readonly url: string;
  /** The module as the command line gave it, for the report. */
  readonly given: string;
  /** How a replay command reaches it again (`--impl <path>` for a local file). */
  readonly replayTarget?: string;
}

/** An implementation the browser cannot run, with the reason. */
export interface PageUnavailable {
  readonly name: string;
  readonly precision: Precision;
  readonly reason: string;
}

/** The run the page is asked for. */
export interface PageConfig {
  readonly toolVersion: string;
  /** Shipped WGSL implementations to run on navigator.gpu ('webgpu-f32', 'webgpu-f16'). */
  readonly shipped: readonly string[];
  /** Replay targets of the shipped implementations, by name. */
  readonly shippedReplayTargets: Readonly<Record<string, string>>;
  readonly modules: readonly PageModule[];
  readonly unavailable: readonly PageUnavailable[];
  /** --only names, applied to the user's modules too (empty: all). */
  readonly only: readonly string[];
  readonly runs: number;
  readonly seed?: number;
  readonly maxLength: number;
  readonly families?: readonly FamilyName[];
  readonly properties?: readonly PropertyName[];
  readonly timeoutMs?: number;
  /** Time limit of one cell's property search in ms; 0: none. */
  readonly cellTimeLimitMs?: number;
  /** Replay the fixtures the server serves under /fixtures/. */
  readonly fixtures: boolean;
  /** The folder those fixtures come from, as the report names it. */
  readonly fixturesFolder: string;
  readonly deep: boolean;
  readonly requireAvailable: boolean;
  readonly allowEmpty: boolean;
  /** The --out folder, for the replay commands' own --out. */
  readonly reportDir: string;
}

/** The tag a non-finite number travels under (JSON has no Infinity or NaN). */
const NON_FINITE = '$nonFinite';

/** The report as JSON text in which Infinity, -Infinity and NaN survive the trip. */
export function encodeReport(report: ConformanceReport): string {
  return JSON.stringify(report, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? { [NON_FINITE]: String(value) } : value));
}

/** The report encodeReport wrote, non-finite numbers restored. */
export function decodeReport(text: string): ConformanceReport {
  return JSON.parse(text, (_key, value: unknown) => {
    if (typeof value === 'object' && value !== null && Object.keys(value).length === 1 && NON_FINITE in value) return Number((value as Record<string, string>)[NON_FINITE]);
    return value;
  }) as ConformanceReport;
}
