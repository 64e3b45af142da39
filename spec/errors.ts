/** The one error type of spec validation: it names what was checked, what was expected and what came. */

/** What a SpecValidationError reports: where (family and context), which field, expected and actual. */
export interface SpecValidationFailure {
  /** Where the check ran, e.g. 'selective-scan', 'selective-scan step', 'lti-ssm outputs'; '' when unknown. */
  readonly context: string;
  /** The field that failed, e.g. 'B', 'options.reverse', 'family'. */
  readonly field: string;
  /** What the spec requires, e.g. 'shape (dim=4, N=2)'. */
  readonly expected: string;
  /** What came, e.g. '[3, 2]'. */
  readonly actual: string;
}

/**
 * Thrown by spec/validate.ts for a problem, step or answer that does not follow the spec. Its
 * fields are those of the first failure; `failures` lists every one found (an answer's checks
 * collect them all, so a wrong output reports each of its mismatches at once).
 */
export class SpecValidationError extends Error {
  override readonly name = 'SpecValidationError';
  readonly context: string;
  readonly field: string;
  readonly expected: string;
  readonly actual: string;
  readonly failures: readonly SpecValidationFailure[];

  constructor(failure: SpecValidationFailure | readonly [SpecValidationFailure, ...SpecValidationFailure[]]) {
    const failures: readonly SpecValidationFailure[] = 'field' in failure ? [failure] : failure;
    const first = failures[0];
    const where = first.context === '' ? '' : `${first.context}: `;
    super(`${where}${failures.map((f) => `${f.field}: expected ${f.expected}, got ${f.actual}`).join('; ')}`);
    this.context = first.context;
    this.field = first.field;
    this.expected = first.expected;
    this.actual = first.actual;
    this.failures = failures;
  }
}

/** The message of anything thrown (an Error's message, prefixed by its name on request; or the value as a string). */
export function errorMessage(error: unknown, { withName = false }: { readonly withName?: boolean } = {}): string {
  if (!(error instanceof Error)) return String(error);
  return withName ? `${error.name}: ${error.message}` : error.message;
}
