/**
 * The floors the suite's own paths are compared with: a plain Float64Array linear-recurrence loop
 * that reads a, b and writes h once (the memory-bound floor of any float64 scan), and the reference
 * (double-double, with condition and depth scales) on the same shape and on the ssd shapes.
 */
import { reference } from '../reference/index.ts';
export { PLAIN_LOOP, REFERENCE } from './baseline-names.ts';
import type { AnyProblem, FamilyName, Problem } from '../spec/families.ts';

/** h_t = a_t·h_{t−1} + b_t over float64 arrays: one read of a and b, one write of h per step. */
export function plainFloat64Loop(a: Float64Array, b: Float64Array, h: Float64Array): void {
  let state = 0;
  for (let i = 0; i < a.length; i++) {
    state = a[i] * state + b[i];
    h[i] = state;
  }
}

/** The inputs of the plain loop for a linear-recurrence problem (its float32 inputs widened). */
export function plainLoopInputs(problem: Problem<'linear-recurrence'>): { a: Float64Array; b: Float64Array; h: Float64Array } {
  return {
    a: Float64Array.from(problem.inputs.a.data),
    b: Float64Array.from(problem.inputs.b.data),
    h: new Float64Array(problem.inputs.a.data.length),
  };
}

/** The reference path timed by the benchmark: reference() of the whole problem. */
export function referencePath(problem: AnyProblem): unknown {
  return reference(problem as Problem<FamilyName>);
}
