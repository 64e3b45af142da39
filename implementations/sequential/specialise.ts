/**
 * One copy of a kernel per rounding function. V8 keeps type feedback per function literal, so a
 * single kernel called with both `x => x` and Math.fround sees a polymorphic `round` call in its
 * innermost loop, stops inlining it and deoptimises. A clone made from the kernel's source text
 * is a new literal with its own feedback, so `round` is monomorphic and inlined.
 *
 * Measured with `npx tsx implementations/sequential/throughput.ts` (linear recurrence, one
 * channel, L = 2^20, Node 20, this 2-core machine shared with other jobs, two runs):
 *   hand-written f64 loop 404–405 M steps/s, specialised identity kernel 362–370 M;
 *   hand-written f32 loop 166–170 M steps/s, specialised Math.fround kernel 163–167 M;
 *   the one shared kernel alternating both roundings 39–44 M steps/s.
 * Under load (load average 8) the absolute numbers drop and the ratios stay: 91 vs 88 (f64),
 * 66 vs 72 (f32), shared 11 M steps/s.
 */
import type { Round } from './kernels.ts';

let specialisations = 0;

/** A kernel whose first parameter is the rounding function. */
export type RoundedKernel<Args extends unknown[]> = (round: Round, ...args: Args) => void;

/** A copy of `kernel` with `round` bound, compiled separately so its feedback is its own. */
export function specialise<Args extends unknown[]>(kernel: RoundedKernel<Args>, round: Round): (...args: Args) => void {
  const source = kernel.toString();
  if (!/^function\s/.test(source)) {
    throw new TypeError(`specialise: expected a function declaration's source, got '${source.slice(0, 40)}…'`);
  }
  // The bound rounding and the forwarding arrow live inside the clone, so no call site is shared
  // between precisions. V8's eval cache hands out the same feedback for identical source text, so
  // each clone's text is made unique (without the counter the float32 clone ran at 22–38 M steps/s).
  specialisations += 1;
  let build: (bound: Round) => (...args: Args) => void;
  try {
    build = new Function(
      'bound',
      `'use strict'; /* specialisation ${specialisations} */ const kernel = ${source}; return (...args) => kernel(bound, ...args);`,
    ) as typeof build;
  } catch (error) {
    // Code generation from strings can be disabled (node --disallow-code-generation-from-strings):
    // the shared kernel computes the same values, only slower.
    if (error instanceof EvalError) return (...args: Args) => kernel(round, ...args);
    throw error;
  }
  return build(round);
}
