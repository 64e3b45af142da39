/** The selective-scan family as types: its inputs, options, outputs and one-token step (spec/families/selective-scan/selective-scan.md). */
import type { OutputTensor, Tensor } from '../../tensor.ts';

/**
 * selective-scan inputs, mamba_ssm's selective_scan_ref for real A:
 * u, delta (batch, dim, L); A (dim, N); B and C each (dim, N) time-invariant, (batch, N, L)
 * time-varying or (batch, G, N, L) grouped; D, deltaBias (dim); z (batch, dim, L); h0 (batch, dim, N);
 * seqIdx (batch, L), sequence ids (integers in float32, non-decreasing along time): the state resets
 * to zero where they change (packed batches, vLLM's varlen selective scan).
 */
export interface SelectiveScanInputs {
  readonly u: Tensor;
  readonly delta: Tensor;
  readonly A: Tensor;
  readonly B: Tensor;
  readonly C: Tensor;
  readonly D?: Tensor;
  readonly z?: Tensor;
  readonly deltaBias?: Tensor;
  readonly h0?: Tensor;
  readonly seqIdx?: Tensor;
}
/** selective-scan options: deltaSoftplus applies softplus (PyTorch threshold 20) to delta + deltaBias. */
export interface SelectiveScanOptions {
  readonly deltaSoftplus: boolean;
}
/** selective-scan outputs: y (batch, dim, L) and the last state (batch, dim, N). */
export interface SelectiveScanOutputs {
  readonly y: OutputTensor;
  readonly lastState: OutputTensor;
}
/**
 * selective-scan step (mamba_ssm's selective_state_update): u, delta, z (batch, dim); A (dim, N);
 * B, C in the run's layouts with L = 1, so the rank alone tells them apart: (dim, N), (batch, N, 1)
 * or (batch, G, N, 1); D, deltaBias (dim); state (batch, dim, N). No seqIdx: a step continues the
 * state it is given, and resetting it between sequences is the caller's.
 */
export interface SelectiveScanStepInputs {
  readonly u: Tensor;
  readonly delta: Tensor;
  readonly A: Tensor;
  readonly B: Tensor;
  readonly C: Tensor;
  readonly D?: Tensor;
  readonly z?: Tensor;
  readonly deltaBias?: Tensor;
  readonly state: Tensor;
}

/** The types of selective-scan, looked up by name in spec/families.ts#FamilyTypes. */
export interface SelectiveScanTypes {
  inputs: SelectiveScanInputs;
  options: SelectiveScanOptions;
  outputs: SelectiveScanOutputs;
  stepInputs: SelectiveScanStepInputs;
}
