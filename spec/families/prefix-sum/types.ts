/** The prefix-sum family as types: its inputs, options, outputs and one-token step (spec/families/prefix-sum/prefix-sum.md). */
import type { OutputTensor, Tensor } from '../../tensor.ts';

/** prefix-sum inputs: x (batch, dim, L). */
export interface PrefixSumInputs {
  readonly x: Tensor;
}
/** prefix-sum options: exclusive drops x_t from y_t; reverse sums from the end. */
export interface PrefixSumOptions {
  readonly exclusive: boolean;
  readonly reverse: boolean;
}
/** prefix-sum outputs: y (batch, dim, L). */
export interface PrefixSumOutputs {
  readonly y: OutputTensor;
}
/** prefix-sum step: the running sum state (batch, dim) advanced by x_t (batch, dim). */
export interface PrefixSumStepInputs {
  readonly x: Tensor;
  readonly state: Tensor;
}

/** The types of prefix-sum, looked up by name in spec/families.ts#FamilyTypes. */
export interface PrefixSumTypes {
  inputs: PrefixSumInputs;
  options: PrefixSumOptions;
  outputs: PrefixSumOutputs;
  stepInputs: PrefixSumStepInputs;
}
