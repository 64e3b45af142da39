/** The lines a benchmark child process prints to its parent, one JSON event per line. */

/** Prefix that marks an event line (anything else an implementation prints is ignored). */
export const EVENT_PREFIX = 'BENCH_EVENT ';

/** Timing of one case: tinybench latencies in milliseconds. */
export interface CaseTiming {
  readonly medianMs: number;
  readonly meanMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly samples: number;
}

/** The outcome of one case for one implementation. */
export type CaseOutcome =
  | ({ readonly status: 'ok' } & CaseTiming)
  | { readonly status: 'declined'; readonly reason: string }
  | { readonly status: 'not-declared'; readonly reason: string }
  | { readonly status: 'error'; readonly reason: string }
  | { readonly status: 'timeout'; readonly reason: string };

/** Events of a child process, in order: ready (or unavailable), per case start/result, done. */
export type ChildEvent =
  | { readonly type: 'ready'; readonly environment: Readonly<Record<string, string>> }
  | { readonly type: 'unavailable'; readonly reason: string }
  | { readonly type: 'case-start'; readonly id: string }
  | { readonly type: 'case'; readonly id: string; readonly outcome: CaseOutcome; readonly peakRssMiB: number }
  | { readonly type: 'done'; readonly peakRssMiB: number; readonly idleRssMiB: number };

/** Serialises an event as one line. */
export function formatEvent(event: ChildEvent): string {
  return `${EVENT_PREFIX}${JSON.stringify(event)}\n`;
}

/** Parses an event line, or undefined for any other output. */
export function parseEvent(line: string): ChildEvent | undefined {
  if (!line.startsWith(EVENT_PREFIX)) return undefined;
  return JSON.parse(line.slice(EVENT_PREFIX.length)) as ChildEvent;
}
