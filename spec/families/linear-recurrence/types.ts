/** The linear-recurrence family as types: its inputs, options, outputs and one-token step (spec/families/linear-recurrence/linear-recurrence.md). */
import type { OutputTensor, Tensor } from '../../tensor.ts';

/** linear-recurrence inputs: a, b (batch, dim, L); optional initial state h0 (batch, dim). */
export interface LinearRecurrenceInputs {
  readonly a: Tensor;
  readonly b: Tensor;
  readonly h0?: Tensor;
}
/** linear-recurrence options: reverse runs the recurrence from t = L−1 down to 0. */
export interface LinearRecurrenceOptions {
  readonly reverse: boolean;
}
/** linear-recurrence outputs: h (batch, dim, L) and the state after the last step (batch, dim). */
export interface LinearRecurrenceOutputs {
  readonly h: OutputTensor;
  readonly lastState: OutputTensor;
}
/** linear-recurrence step: state (batch, dim) advanced by a_t, b_t (batch, dim). */
export interface LinearRecurrenceStepInputs {
  readonly a: Tensor;
  readonly b: Tensor;
  readonly state: Tensor;
}

/** The types of linear-recurrence, looked up by name in spec/families.ts#FamilyTypes. */
export interface LinearRecurrenceTypes {
  inputs: LinearRecurrenceInputs;
  options: LinearRecurrenceOptions;
  outputs: LinearRecurrenceOutputs;
  stepInputs: LinearRecurrenceStepInputs;
}
