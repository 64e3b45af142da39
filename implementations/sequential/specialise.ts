/**
 * One copy of a kernel per rounding function. V8 keeps type feedback per function literal, so a
 * single kernel called with both `x => x` and Math.fround sees a polymorphic `round` call in its
 * innermost loop, stops inlining it and deoptimises. A clone made from the kernel's source text
 * is a new literal with its own feedback, so `round` is monomorphic and inlined.
 *
 * The measured cost of the shared kernel (several times slower) is in bench/runs.md (rerun:
 * `npx tsx implementations/sequential/throughput.ts`).
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
