/** The mamba3-siso family (Mamba-3 SISO) as types: its inputs, options, outputs and one-token step (spec/families/mamba3-siso/mamba3-siso.md). */
import type { OutputTensor, Tensor } from '../../tensor.ts';

/**
 * mamba3-siso inputs, in mamba_ssm's layout for mamba3_siso_combined: Q, K (batch, L, G, N);
 * V, Z (batch, L, H, P); ADT, DT, Trap (batch, H, L); QBias, KBias (H, N); Angles (batch, L, H, A);
 * D (H); the input states angleState (batch, H, A), ssmState (batch, H, P, N), kState (batch, H, N),
 * vState (batch, H, P), each zero when absent. V head h reads Q/K head ⌊h / (H/G)⌋.
 */
export interface Mamba3SisoInputs {
  readonly Q: Tensor;
  readonly K: Tensor;
  readonly V: Tensor;
  readonly ADT: Tensor;
  readonly DT: Tensor;
  readonly Trap: Tensor;
  readonly QBias: Tensor;
  readonly KBias: Tensor;
  readonly Angles: Tensor;
  readonly D?: Tensor;
  readonly Z?: Tensor;
  readonly angleState?: Tensor;
  readonly ssmState?: Tensor;
  readonly kState?: Tensor;
  readonly vState?: Tensor;
}
/** mamba3-siso has no options. */
export interface Mamba3SisoOptions {}
/** mamba3-siso outputs: y (batch, L, H, P) and the four final states (the angle state compared as an angle). */
export interface Mamba3SisoOutputs {
  readonly y: OutputTensor;
  readonly finalAngleState: OutputTensor;
  readonly finalSsmState: OutputTensor;
  readonly finalKState: OutputTensor;
  readonly finalVState: OutputTensor;
}
/**
 * mamba3-siso step (mamba_ssm's mamba3_siso_step): Q, K (batch, G, N); V, Z (batch, H, P); ADT,
 * DT, Trap (batch, H); QBias, KBias (H, N); Angles (batch, H, A); D (H); the four states, required.
 */
export interface Mamba3SisoStepInputs {
  readonly Q: Tensor;
  readonly K: Tensor;
  readonly V: Tensor;
  readonly ADT: Tensor;
  readonly DT: Tensor;
  readonly Trap: Tensor;
  readonly QBias: Tensor;
  readonly KBias: Tensor;
  readonly Angles: Tensor;
  readonly D?: Tensor;
  readonly Z?: Tensor;
  readonly angleState: Tensor;
  readonly ssmState: Tensor;
  readonly kState: Tensor;
  readonly vState: Tensor;
}

/** The types of mamba3-siso, looked up by name in spec/families.ts#FamilyTypes. */
export interface Mamba3SisoTypes {
  inputs: Mamba3SisoInputs;
  options: Mamba3SisoOptions;
  outputs: Mamba3SisoOutputs;
  stepInputs: Mamba3SisoStepInputs;
}
