/** The ssd family (Mamba-2's chunked state-space duality) as types: its inputs, options, outputs and one-token step (spec/families/ssd/ssd.md). */
import type { OutputTensor, Tensor } from '../../tensor.ts';

/**
 * ssd inputs, in mamba_ssm's layout for mamba_chunk_scan_combined (time is axis 1):
 * x (batch, L, H, P); dt (batch, L, H); A (H); B and C (batch, L, G, N), head h reading group
 * ⌊h / (H/G)⌋; D (H) or (H, P); z (batch, L, H, P); dtBias (H); dtLimit (2) = (lo, hi), ±Infinity
 * allowed; initialStates (batch, H, P, N); seqIdx (batch, L), non-negative integers stored in
 * float32, non-decreasing along time, the state reset to zero where it changes.
 */
export interface SsdInputs {
  readonly x: Tensor;
  readonly dt: Tensor;
  readonly A: Tensor;
  readonly B: Tensor;
  readonly C: Tensor;
  readonly D?: Tensor;
  readonly z?: Tensor;
  readonly dtBias?: Tensor;
  readonly dtLimit?: Tensor;
  readonly initialStates?: Tensor;
  readonly seqIdx?: Tensor;
}
/** ssd options: dtSoftplus applies softplus (PyTorch threshold 20) to dt + dtBias. */
export interface SsdOptions {
  readonly dtSoftplus: boolean;
}
/** ssd outputs: y (batch, L, H, P) and the final states (batch, H, P, N). */
export interface SsdOutputs {
  readonly y: OutputTensor;
  readonly finalStates: OutputTensor;
}
/**
 * ssd step (mamba_ssm's selective_state_update with heads): x, z (batch, H, P); dt (batch, H);
 * A, dtBias (H); B, C (batch, G, N); D (H) or (H, P); dtLimit (2); state (batch, H, P, N).
 */
export interface SsdStepInputs {
  readonly x: Tensor;
  readonly dt: Tensor;
  readonly A: Tensor;
  readonly B: Tensor;
  readonly C: Tensor;
  readonly D?: Tensor;
  readonly z?: Tensor;
  readonly dtBias?: Tensor;
  readonly dtLimit?: Tensor;
  readonly state: Tensor;
}

/** The types of ssd, looked up by name in spec/families.ts#FamilyTypes. */
export interface SsdTypes {
  inputs: SsdInputs;
  options: SsdOptions;
  outputs: SsdOutputs;
  stepInputs: SsdStepInputs;
}
