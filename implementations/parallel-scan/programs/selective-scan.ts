/**
 * selective-scan (mamba_ssm selective_scan_ref, real A) as a program. Per channel (b, d):
 * Δ' = Δ + bias, softplus (threshold 20) when asked; lane n scans a_t = exp(Δ'_t·A[d,n]),
 * b_t = Δ'_t·B[n,t]·u_t, with a_t = 0 where seqIdx changes (a reset: the affine scan then carries
 * nothing across it); y_t = Σ_n C[n,t]·h_{t,n} (summed in lane order), + D·u, × silu(z).
 * B and C are read through spec/shapes.ts (projectionLayout, projectionIndex) in every layout.
 */
import type { Problem } from '../../../spec/families.ts';
import { dimensionsOf, projectionIndex, projectionLayout } from '../../../spec/shapes.ts';
import type { Arithmetic, ScanArray } from '../arithmetic.ts';
import type { JobOutputs } from '../job.ts';
import { affineOperator } from '../operators.ts';
import type { Workspace } from '../workspace.ts';
import type { SequenceProgram } from './program.ts';

/** The program of a selective-scan job; Δ' and the y accumulator live in `workspace`. */
export function selectiveScanProgram(
  problem: Problem<'selective-scan'>,
  initialState: Float32Array | undefined,
  outputs: JobOutputs,
  arithmetic: Arithmetic,
  workspace: Workspace,
): SequenceProgram {
  const dims = dimensionsOf(problem);
  const { batch, dim, length: L, stateSize: N } = dims;
  const { u, delta, A, B, C, D, z, deltaBias, seqIdx } = problem.inputs;
  const bLayout = projectionLayout(B.shape);
  const cLayout = projectionLayout(C.shape);
  // Time-invariant B/C do not move with t; the other layouts are time-contiguous.
  const bStride = bLayout.kind === 'time-invariant' ? 0 : 1;
  const cStride = cLayout.kind === 'time-invariant' ? 0 : 1;
  const kernels = arithmetic.kernels.selective;
  const y = outputs.primary;
  const finalState = outputs.finalState;
  let deltaPrime: ScanArray = workspace.array('selective-scan.delta', 0);
  let accumulator: ScanArray = workspace.array('selective-scan.y', 0);

  return {
    groups: batch * dim,
    lanes: N,
    length: L,
    operator: affineOperator(arithmetic),
    independentGroups: false,
    prepare(g, p0, p1) {
      deltaPrime = workspace.array('selective-scan.delta', p1 - p0);
      accumulator = workspace.array('selective-scan.y', p1 - p0);
      accumulator.fill(0, 0, p1 - p0);
      const bias = deltaBias === undefined ? 0 : deltaBias.data[g % dim];
      kernels.deltaPrime(delta.data, g * L, deltaBias !== undefined, bias, problem.options.deltaSoftplus, p0, p1, deltaPrime);
    },
    initialState: (g, n) => (initialState === undefined ? 0 : initialState[g * N + n]),
    load(g, n, p0, p1, a, b) {
      const d = g % dim;
      const bBase = projectionIndex(bLayout, dims, Math.floor(g / dim), d, n, 0);
      kernels.load(deltaPrime, A.data[d * N + n], B.data, bBase, bStride, u.data, g * L, p0, p1, a, b, seqIdx?.data, Math.floor(g / dim) * L);
    },
    emit(g, n, p0, p1, states) {
      const cBase = projectionIndex(cLayout, dims, Math.floor(g / dim), g % dim, n, 0);
      kernels.accumulate(accumulator, C.data, cBase, cStride, states, p0, p1);
    },
    finish(g, p0, p1) {
      const skip = D === undefined ? 0 : D.data[g % dim];
      kernels.finish(accumulator, D !== undefined, skip, u.data, z?.data, g * L, p0, p1, y);
    },
    setFinalState(g, n, state) {
      if (finalState !== undefined) finalState[g * N + n] = state;
    },
  };
}
