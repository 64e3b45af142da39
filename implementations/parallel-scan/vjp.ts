/**
 * Backward scans of the parallel-scan kernels (issue 17), as accelerated-scan and Mamba's CUDA
 * kernel compute them: a channel's forward states recomputed by the forward scan, then the adjoint
 * of the state as a REVERSE associative scan with the same algorithm and combine. Read from
 * t = L−1 down to 0, the adjoint is itself a linear recurrence,
 *
 *     λ_t = a_{t+1}·λ_{t+1} + c_t·ȳg_t,   λ_{L−1} = λ_final + c_{L−1}·ȳg_{L−1}   (a_L taken as 1),
 *
 * the elements (a_{t+1}, c_t·ȳg_t) with a shifted by one, so it runs through the forward combine
 * on the time-reversed sequence; h̄0 = a_0·λ_0. The chain rule around the scans (factors, Δ, exp,
 * the gate, shared parameters summed) is the sequential kernel's (implementations/sequential/vjp.ts).
 */
import type { BackwardScans } from '../sequential/vjp-scans.ts';
import type { ScanAlgorithm } from './algorithms/algorithm.ts';
import type { Arithmetic } from './arithmetic.ts';
import type { AssociativeOperator } from './operators.ts';
import { additiveOperator, affineOperator } from './operators.ts';
import { Workspace } from './workspace.ts';

/**
 * The backward scans of `algorithm` in `arithmetic`; `adjoint` is the combine of the reverse
 * adjoint scan (the affine one; a different one only to test that a wrong adjoint is caught).
 */
export function parallelBackwardScans(
  algorithm: ScanAlgorithm,
  arithmetic: Arithmetic,
  adjoint: AssociativeOperator = affineOperator(arithmetic),
): BackwardScans {
  const workspace = new Workspace(arithmetic);
  const forward = affineOperator(arithmetic);
  const additive = additiveOperator(arithmetic);
  return {
    channel(round, L, N, f, yBar, finalBar, states, inner, out) {
      const size = algorithm.bufferLength(L);
      const A = workspace.array('a', size);
      const B = workspace.array('b', size);
      for (let n = 0; n < N; n++) {
        states[n] = f.initial[n];
        if (L === 0) continue;
        for (let k = 0; k < L; k++) {
          A[k] = f.decay[k * N + n];
          B[k] = f.input[k * N + n];
        }
        B[0] = forward.advance(A, B, 0, f.initial[n]);
        algorithm.scan(forward, A, B, L);
        for (let k = 0; k < L; k++) states[(k + 1) * N + n] = B[k];
      }
      for (let k = 0; k < L; k++) {
        let acc = 0;
        for (let n = 0; n < N; n++) acc = round(acc + round(f.readout[k * N + n] * states[(k + 1) * N + n]));
        inner[k] = round(acc + f.skip[k]);
        // s̄_k is ȳ through the gate, the cotangent every readout of step k receives.
        out.skip[k] = round(f.gate[k] * yBar[k]);
        out.gate[k] = round(yBar[k] * inner[k]);
      }
      for (let n = 0; n < N; n++) {
        if (L === 0) {
          out.initial[n] = finalBar[n];
          continue;
        }
        // Element j of the reversed sequence is step t = L−1−j: (a_{t+1}, c_t·ȳg_t), λ_final folded into j = 0.
        for (let j = 0; j < L; j++) {
          const t = L - 1 - j;
          A[j] = t + 1 < L ? f.decay[(t + 1) * N + n] : 1;
          B[j] = round(f.readout[t * N + n] * out.skip[t]);
        }
        B[0] = adjoint.advance(A, B, 0, finalBar[n]);
        algorithm.scan(adjoint, A, B, L);
        for (let t = 0; t < L; t++) {
          const i = t * N + n;
          const lambda = B[L - 1 - t];
          out.input[i] = lambda;
          out.decay[i] = round(lambda * states[i]);
          out.readout[i] = round(out.skip[t] * states[i + N]);
        }
        out.initial[n] = round(f.decay[n] * B[L - 1]);
      }
    },
    prefixSumRows(_round, x, y, rows, L, exclusive, reverse) {
      const size = algorithm.bufferLength(L);
      const A = workspace.array('a', size);
      const B = workspace.array('b', size);
      for (let row = 0; row < rows; row++) {
        const at = (k: number): number => row * L + (reverse ? L - 1 - k : k);
        for (let k = 0; k < L; k++) B[k] = x[at(k)];
        algorithm.scan(additive, A, B, L);
        // Exclusive: each position takes the sum strictly before it in scan order.
        for (let k = 0; k < L; k++) y[at(k)] = exclusive ? (k === 0 ? 0 : B[k - 1]) : B[k];
      }
    },
  };
}
