/**
 * The one per-step update of the reference. Every family is built from scalar recurrences
 *
 *     h_t = a_t·h_{t−1} + b_t
 *
 * (prefix-sum: a ≡ 1; linear-recurrence: as is; selective-scan and lti-ssm: one per state
 * element n, a = Ā_{t,n}, b = input_{t,n}). A RecurrenceState carries h in double-double together
 * with the two scales the tolerance model needs:
 *
 *     S_t = |a_t|·S_{t−1} + |b_t|          condition scale (the recurrence on absolute values)
 *     W_t = |a_t|·(W_{t−1} + S_{t−1})      depth scale (= Σ_k (t−k)·|a_{k+1}···a_t|·|b_k|)
 *
 * with S_{−1} = |h0| and W_{−1} = 0. h and S are evaluated in double-double: computed the same
 * way, S equals |h| exactly when all terms have aligned signs, and is within ~½ ulp of its exact
 * value (plain float64 would lose up to ~2t ulps by step t). W, only ever a weight in tolerance
 * bounds, is float64 nudged upward each step, so it never underestimates (above the subnormal
 * range) and overestimates by a relative ≤ ~9u per step. The scans and the one-token steps both
 * call `advance`, so the recurrence is written once.
 *
 * Why W is not double-double too: V8 inlines a bounded amount of code into a loop, and two more
 * double-double operations per step pushed `advance` past it — 4× slower (measured with
 * reference/benchmark-double-double.ts).
 */
import { DoubleDouble, mulAdd, toNumber } from './double-double.ts';

/**
 * 1 + 2^-50 = 1 + 8u. A float64 expression of non-negative terms with at most four roundings
 * (the nudge's own included), multiplied by it, is ≥ its exact value: (1 + 8u)·(1 − u)^5 > 1.
 */
export const ROUND_UP = 1 + 2 ** -50;

/** One scalar state h of a recurrence with its condition scale S and depth scale W. */
export class RecurrenceState {
  /** h, in double-double. */
  readonly value = new DoubleDouble();
  /**
   * S, in double-double like h: the same operations on |a|, |b|, so S equals |h| exactly
   * whenever all terms have aligned signs (all inputs non-negative, say).
   */
  readonly conditionScale = new DoubleDouble();
  /** W, float64 rounded upward. */
  depthScale = 0;

  /** Starts the recurrence at h0: h = h0, S = |h0|, W = 0; returns this. */
  start(h0: number): this {
    this.value.set(h0);
    this.conditionScale.set(Math.abs(h0));
    this.depthScale = 0;
    return this;
  }
}

/** One step: h ← a·h + b, S ← |a|·S + |b|, W ← |a|·(W + S) (with the S before the step). */
export function advance(state: RecurrenceState, a: number, b: number): void {
  if (a === 0) {
    // The exact result is b whatever h was; the general path would give NaN for an h that had
    // overflowed float64 (0·∞).
    state.value.set(b);
    state.conditionScale.set(Math.abs(b));
    state.depthScale = 0;
    return;
  }
  const absA = Math.abs(a);
  // W first: it adds the S of before the step (rounded once: the fourth rounding ROUND_UP covers).
  state.depthScale = absA * (state.depthScale + toNumber(state.conditionScale)) * ROUND_UP;
  mulAdd(state.value, a, b);
  mulAdd(state.conditionScale, absA, Math.abs(b));
}
