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

/** Thrown by spec/validate.ts for a problem, step or answer that does not follow the spec. */
export class SpecValidationError extends Error {
  override readonly name = 'SpecValidationError';
  readonly context: string;
  readonly field: string;
  readonly expected: string;
  readonly actual: string;

  constructor(failure: SpecValidationFailure) {
    const where = failure.context === '' ? '' : `${failure.context}: `;
    super(`${where}${failure.field}: expected ${failure.expected}, got ${failure.actual}`);
    this.context = failure.context;
    this.field = failure.field;
    this.expected = failure.expected;
    this.actual = failure.actual;
  }
}

/** The message of anything thrown (an Error's message, prefixed by its name on request; or the value as a string). */
export function errorMessage(error: unknown, { withName = false }: { readonly withName?: boolean } = {}): string {
  if (!(error instanceof Error)) return String(error);
  return withName ? `${error.name}: ${error.message}` : error.message;
}
