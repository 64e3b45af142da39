/** Shared wording of every report format: outcome symbols and labels, number formatting. */
import type { Outcome } from '../results.ts';

/** The symbol of each outcome in property tables. */
export const OUTCOME_SYMBOL: Readonly<Record<Outcome, string>> = {
  pass: '✅',
  fail: '❌',
  'expected-failure': '⚠️',
  'unexpected-pass': '❗',
  'not-applicable': '—',
  declined: '⏭️',
  error: '💥',
  informational: 'ℹ️',
};

/** A short label of each outcome for legends and summary columns. */
export const OUTCOME_LABEL: Readonly<Record<Outcome, string>> = {
  pass: 'pass',
  fail: 'fail',
  'expected-failure': 'expected failure',
  'unexpected-pass': 'unexpected pass',
  'not-applicable': 'not applicable',
  declined: 'declined',
  error: 'error',
  informational: 'informational',
};

/** The word of each outcome in a table cell, beside its symbol (emoji fonts are not everywhere). */
export const OUTCOME_WORD: Readonly<Record<Outcome, string>> = {
  pass: 'pass',
  fail: 'FAIL',
  'expected-failure': 'expected failure',
  'unexpected-pass': 'UNEXPECTED PASS',
  'not-applicable': 'n/a',
  declined: 'declined',
  error: 'ERROR',
  informational: 'informational',
};

/** An outcome as a table cell shows it: the word, then the symbol. */
export function outcomeCell(outcome: Outcome): string {
  return `${OUTCOME_WORD[outcome]} ${OUTCOME_SYMBOL[outcome]}`;
}

/** A verdict in words with its symbol beside: 'PASS ✅' or 'FAIL ❌'. */
export function verdictText(passed: boolean): string {
  return passed ? 'PASS ✅' : 'FAIL ❌';
}

/** A number in a few significant digits (exponent form when very large or small; ∞ and NaN spelled out). */
export function formatNumber(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '−∞';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e4 || a < 1e-3) return x.toExponential(2);
  return Number(x.toPrecision(3)).toString();
}

/** A share in [0, 1] as a percentage: '0 %', '< 0.1 %', '12 %', '100 %'. */
export function formatPercent(share: number): string {
  if (share === 0) return '0 %';
  if (share < 0.001) return '< 0.1 %';
  return `${Number((share * 100).toPrecision(share < 0.1 ? 2 : 3))} %`;
}

/** A duration in ms as seconds or milliseconds. */
export function formatDuration(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}
