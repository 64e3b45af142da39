/**
 * lti-ssm (S4D, discretized) as a program: lane n of channel (b, d) scans a_t = Abar[d,n],
 * b_t = Bbar[d,n]·u_t; y_t = Σ_n C[d,n]·h_{t,n} (summed in lane order) + D·u_t.
 */
import type { Problem } from '../../../spec/families.ts';
import { dimensionsOf } from '../../../spec/shapes.ts';
import type { Arithmetic, ScanArray } from '../arithmetic.ts';
import type { JobOutputs } from '../job.ts';
import { affineOperator } from '../operators.ts';
import type { Workspace } from '../workspace.ts';
import type { SequenceProgram } from './program.ts';

/** The program of an lti-ssm job; the y accumulator lives in `workspace`. */
export function ltiSsmProgram(
  problem: Problem<'lti-ssm'>,
  initialState: Float32Array | undefined,
  outputs: JobOutputs,
  arithmetic: Arithmetic,
  workspace: Workspace,
): SequenceProgram {
  const { batch, dim, length: L, stateSize: N } = dimensionsOf(problem);
  const { Abar, Bbar, C, D, u } = problem.inputs;
  const kernels = arithmetic.kernels.lti;
  const y = outputs.primary;
  const finalState = outputs.finalState;
  let accumulator: ScanArray = workspace.array('lti-ssm.y', 0);

  return {
    groups: batch * dim,
    lanes: N,
    length: L,
    operator: affineOperator(arithmetic),
    independentGroups: false,
    prepare(_g, p0, p1) {
      accumulator = workspace.array('lti-ssm.y', p1 - p0);
      accumulator.fill(0, 0, p1 - p0);
    },
    initialState: (g, n) => (initialState === undefined ? 0 : initialState[g * N + n]),
    load(g, n, p0, p1, a, b) {
      const d = g % dim;
      kernels.load(Abar.data[d * N + n], Bbar.data[d * N + n], u.data, g * L, p0, p1, a, b);
    },
    emit(g, n, p0, p1, states) {
      kernels.accumulate(accumulator, C.data[(g % dim) * N + n], states, p1 - p0);
    },
    finish(g, p0, p1) {
      const skip = D === undefined ? 0 : D.data[g % dim];
      kernels.finish(accumulator, D !== undefined, skip, u.data, g * L, p0, p1, y);
    },
    setFinalState(g, n, state) {
      if (finalState !== undefined) finalState[g * N + n] = state;
    },
  };
}
