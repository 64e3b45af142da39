/** The lti-ssm family as types: its inputs, options, outputs and one-token step (spec/families/lti-ssm/lti-ssm.md). */
import type { OutputTensor, Tensor } from '../../tensor.ts';

/** lti-ssm inputs (S4D, already discretized): Abar, Bbar, C (dim, N); D (dim); u (batch, dim, L). */
export interface LtiSsmInputs {
  readonly Abar: Tensor;
  readonly Bbar: Tensor;
  readonly C: Tensor;
  readonly D?: Tensor;
  readonly u: Tensor;
}
/** lti-ssm has no options. */
export type LtiSsmOptions = Readonly<Record<string, never>>;
/** lti-ssm outputs: y (batch, dim, L). */
export interface LtiSsmOutputs {
  readonly y: OutputTensor;
}
/** lti-ssm step: state (batch, dim, N) advanced by u_t (batch, dim). */
export interface LtiSsmStepInputs {
  readonly Abar: Tensor;
  readonly Bbar: Tensor;
  readonly C: Tensor;
  readonly D?: Tensor;
  readonly u: Tensor;
  readonly state: Tensor;
}

/** The types of lti-ssm, looked up by name in spec/families.ts#FamilyTypes. */
export interface LtiSsmTypes {
  inputs: LtiSsmInputs;
  options: LtiSsmOptions;
  outputs: LtiSsmOutputs;
  stepInputs: LtiSsmStepInputs;
}
