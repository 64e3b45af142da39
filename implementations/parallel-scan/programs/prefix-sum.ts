/** prefix-sum as a program: addition over x; exclusive shifts the states by one position. */
import type { Problem } from '../../../spec/families.ts';
import type { Arithmetic } from '../arithmetic.ts';
import type { JobOutputs } from '../job.ts';
import { additiveOperator } from '../operators.ts';
import type { SequenceProgram } from './program.ts';

/** The program of a prefix-sum job. */
export function prefixSumProgram(
  problem: Problem<'prefix-sum'>,
  initialState: Float32Array | undefined,
  outputs: JobOutputs,
  arithmetic: Arithmetic,
): SequenceProgram {
  const [batch, dim, L] = problem.inputs.x.shape;
  const x = problem.inputs.x.data;
  const { exclusive, reverse } = problem.options;
  const y = outputs.primary;
  const finalState = outputs.finalState;
  return {
    groups: batch * dim,
    lanes: 1,
    length: L,
    operator: additiveOperator(arithmetic),
    independentGroups: true,
    prepare() {},
    initialState: (g) => (initialState === undefined ? 0 : initialState[g]),
    load(g, _n, p0, p1, _A, B) {
      const base = g * L;
      if (!reverse) {
        B.set(x.subarray(base + p0, base + p1));
        return;
      }
      for (let p = p0; p < p1; p++) B[p - p0] = x[base + L - 1 - p];
    },
    emit(g, _n, p0, p1, B, before) {
      const base = g * L;
      const shift = exclusive ? 1 : 0;
      for (let p = p0; p < p1; p++) {
        const i = p - p0 - shift;
        y[reverse ? base + L - 1 - p : base + p] = i < 0 ? before : B[i];
      }
    },
    finish() {},
    setFinalState(g, _n, state) {
      if (finalState !== undefined) finalState[g] = state;
    },
    // Forward: x is the elements as they lie; inclusive sums are the outputs themselves.
    inputsInPlace(g, _n, p0) {
      return reverse ? undefined : { A: x, B: x, offset: g * L + p0 };
    },
    outputsInPlace(g, _n, p0) {
      return reverse || exclusive ? undefined : { A: y, B: y, offset: g * L + p0 };
    },
  };
}
