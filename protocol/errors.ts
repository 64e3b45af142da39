/** The errors a process testee's run or step throws; the suite reports each as a failure of that case. */
import { ImplementationDeclinedError } from '../spec/implementation.ts';

/**
 * What went wrong with a testee: `start` (it could not be started or did not complete the
 * handshake), `crash` (it exited while a request was open), `timeout` (no answer in time),
 * `protocol` (it wrote something that is not a valid answer), `reported` (it answered with an
 * error message), `gave-up` (it needed more restarts than allowed), `disposed` (used after dispose).
 */
export type TesteeFailureKind = 'start' | 'crash' | 'timeout' | 'protocol' | 'reported' | 'gave-up' | 'disposed';

/** A failure of a process testee; the message names the testee, the request and what happened. */
export class TesteeError extends Error {
  override readonly name = 'TesteeError';

  /** An error of the given kind. */
  constructor(
    readonly kind: TesteeFailureKind,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The testee answered a request with a decline: it cannot compute this input. Declines a testee
 * states in its handshake are turned into FamilyImplementation.decline before the run; this one came
 * only at run time.
 */
export class TesteeDeclinedError extends ImplementationDeclinedError {
  override readonly name = 'TesteeDeclinedError';

  /** A decline with the testee's reason. */
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}
