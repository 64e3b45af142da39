/** linear-recurrence as a program: the affine combine over (a, b), h0 as the initial state. */
import type { Problem } from '../../../spec/families.ts';
import type { Arithmetic } from '../arithmetic.ts';
import type { JobOutputs } from '../job.ts';
import { affineOperator } from '../operators.ts';
import type { SequenceProgram } from './program.ts';

/** The program of a linear-recurrence job. */
export function linearRecurrenceProgram(
  problem: Problem<'linear-recurrence'>,
  initialState: Float32Array | undefined,
  outputs: JobOutputs,
  arithmetic: Arithmetic,
): SequenceProgram {
  const [batch, dim, L] = problem.inputs.a.shape;
  const a = problem.inputs.a.data;
  const b = problem.inputs.b.data;
  const reverse = problem.options.reverse;
  const h = outputs.primary;
  const finalState = outputs.finalState;
  return {
    groups: batch * dim,
    lanes: 1,
    length: L,
    operator: affineOperator(arithmetic),
    independentGroups: true,
    prepare() {},
    initialState: (g) => (initialState === undefined ? 0 : initialState[g]),
    load(g, _n, p0, p1, A, B) {
      const base = g * L;
      if (!reverse) {
        A.set(a.subarray(base + p0, base + p1));
        B.set(b.subarray(base + p0, base + p1));
        return;
      }
      for (let p = p0; p < p1; p++) {
        A[p - p0] = a[base + L - 1 - p];
        B[p - p0] = b[base + L - 1 - p];
      }
    },
    emit(g, _n, p0, p1, B) {
      const base = g * L;
      if (!reverse) {
        h.set(B.subarray(0, p1 - p0), base + p0);
        return;
      }
      for (let p = p0; p < p1; p++) h[base + L - 1 - p] = B[p - p0];
    },
    finish() {},
    setFinalState(g, _n, state) {
      if (finalState !== undefined) finalState[g] = state;
    },
    // Forward: a and b are the elements and h the states, as they lie.
    inputsInPlace(g, _n, p0) {
      return reverse ? undefined : { A: a, B: b, offset: g * L + p0 };
    },
    outputsInPlace(g, _n, p0) {
      return reverse ? undefined : { A: h, B: h, offset: g * L + p0 };
    },
  };
}
