/**
 * Cells: the unit of a conformance run (implementation × family × property, split by
 * expected-failure entries that name a regime or options), and how entries match cases.
 */
import type { FamilyName } from '../spec/families.ts';
import type { ExpectedFailure, ScanImplementation } from '../spec/implementation.ts';
import type { PropertyName } from './results.ts';

/** Whether an expected-failure entry matches a cell (absent fields match anything). */
function entryMatches(entry: ExpectedFailure, family: FamilyName, property: PropertyName): boolean {
  return (entry.family === undefined || entry.family === family) && (entry.property === undefined || entry.property === property);
}

/** Whether a case falls under an entry's regime and options. */
export function caseMatchesEntry(entry: ExpectedFailure, regime: string, options: Readonly<Record<string, boolean>>): boolean {
  if (entry.regime !== undefined && entry.regime !== regime) return false;
  for (const [key, value] of Object.entries(entry.options ?? {})) if (options[key] !== value) return false;
  return true;
}

/** The cells of a family × property: a main cell, and one per expected-failure entry restricted to a regime or options. */
export interface CellPlan {
  readonly family: FamilyName;
  readonly property: PropertyName;
  /** The entry this cell is expected to fail by, if any. */
  readonly expected?: ExpectedFailure;
  /** Cases must match this entry (restricted cells). */
  readonly only?: ExpectedFailure;
  /** Cases must match none of these (the main cell leaves restricted entries' cases to their cells). */
  readonly excluding: readonly ExpectedFailure[];
}

/** Plans the cells of one family × property for an implementation's expected failures. */
export function planCells(implementation: ScanImplementation, family: FamilyName, property: PropertyName): CellPlan[] {
  const entries = (implementation.expectedFailures ?? []).filter((e) => entryMatches(e, family, property));
  const whole = entries.find((e) => e.regime === undefined && e.options === undefined);
  const restricted = entries.filter((e) => e !== whole);
  return [
    { family, property, ...(whole && { expected: whole }), excluding: restricted },
    ...restricted.map((entry) => ({ family, property, expected: entry, only: entry, excluding: [] })),
  ];
}

// The one error-message helper lives in the spec; suite modules have long imported it from here.
export { errorMessage } from '../spec/errors.ts';


/** A thrown value as one line, `Name: message` (its stack, kept apart, has the rest). */
export function thrownMessage(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.replace(/\s*\n\s*/g, ' ');
}
