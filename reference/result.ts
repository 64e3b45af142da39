/** What the reference returns: float64 outputs plus the scales the tolerance model needs. */
import type { FamilyName, OutputsOf } from '../spec/families.ts';
import type { Float64Tensor } from '../spec/tensor.ts';

/** One float64 tensor per output name of family F. */
export type ReferenceTensors<F extends FamilyName> = { readonly [K in keyof OutputsOf<F>]: Float64Tensor };

/** The reference's answer for one problem. */
export interface ReferenceResult<F extends FamilyName> {
  /** The outputs, from a double-double evaluation rounded once to float64. */
  readonly outputs: ReferenceTensors<F>;
  /**
   * Condition scale S of each output element: the same computation on absolute values
   * (S_t = |a_t|·S_{t−1} + |b_t|, carried through C, D and the gate).
   */
  readonly conditionScales: ReferenceTensors<F>;
  /**
   * Depth-weighted scale W of each element: W_t = |a_t|·(W_{t−1} + S_{t−1}) = Σ_k (t−k)·|a_{k+1}···a_t|·|b_k|,
   * carried like S; bounds the rounding depth of sequential and chunked evaluation orders.
   */
  readonly depthScales: ReferenceTensors<F>;
}

/** Tensors of a step: y and each state under its step name (`state`, or the descriptor's `states`). */
export interface StepTensors {
  readonly y: Float64Tensor;
  readonly [state: string]: Float64Tensor;
}

/** The reference's answer for one step: y (batch, dim) and the new state(s), with their scales. */
export interface ReferenceStepResult {
  readonly outputs: StepTensors;
  readonly conditionScales: StepTensors;
}
