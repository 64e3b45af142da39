/**
 * The four scan families: their inputs, options, outputs and one-token step, as types.
 * The normative math lives in spec/families/<family>/<family>.md; shapes in spec/shapes.ts; checks in spec/validate.ts.
 * Shapes use mamba_ssm's names: batch, dim (channels), N (state size), G (groups), L (length).
 */
import type { FamilyDescriptor } from './family-descriptor.ts';
import { FAMILIES } from './families/index.ts';
import type { OutputTensor, Tensor } from './tensor.ts';

/** Every family, in the order reports list them. */
export const FAMILY_NAMES = ['prefix-sum', 'linear-recurrence', 'selective-scan', 'lti-ssm'] as const;

/** The name of a scan family. */
export type FamilyName = (typeof FAMILY_NAMES)[number];

/** Whether a string names a family. */
export function isFamilyName(value: unknown): value is FamilyName {
  return typeof value === 'string' && (FAMILY_NAMES as readonly string[]).includes(value);
}

// ---------------------------------------------------------------- prefix-sum

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

// ---------------------------------------------------------- linear-recurrence

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

// ------------------------------------------------------------- selective-scan

/**
 * selective-scan inputs, mamba_ssm's selective_scan_ref for real A:
 * u, delta (batch, dim, L); A (dim, N); B and C each (dim, N) time-invariant, (batch, N, L)
 * time-varying or (batch, G, N, L) grouped; D, deltaBias (dim); z (batch, dim, L); h0 (batch, dim, N).
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
 * or (batch, G, N, 1); D, deltaBias (dim); state (batch, dim, N).
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

// -------------------------------------------------------------------- lti-ssm

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

// ---------------------------------------------------------------- the table

/** Step outputs of every family: y_t (batch, dim) and the new state. */
export interface StepOutputs {
  readonly y: OutputTensor;
  readonly state: OutputTensor;
}

/** The types of each family, looked up by name. */
export interface FamilyTypes {
  'prefix-sum': {
    inputs: PrefixSumInputs;
    options: PrefixSumOptions;
    outputs: PrefixSumOutputs;
    stepInputs: PrefixSumStepInputs;
  };
  'linear-recurrence': {
    inputs: LinearRecurrenceInputs;
    options: LinearRecurrenceOptions;
    outputs: LinearRecurrenceOutputs;
    stepInputs: LinearRecurrenceStepInputs;
  };
  'selective-scan': {
    inputs: SelectiveScanInputs;
    options: SelectiveScanOptions;
    outputs: SelectiveScanOutputs;
    stepInputs: SelectiveScanStepInputs;
  };
  'lti-ssm': {
    inputs: LtiSsmInputs;
    options: LtiSsmOptions;
    outputs: LtiSsmOutputs;
    stepInputs: LtiSsmStepInputs;
  };
}

export type InputsOf<F extends FamilyName> = FamilyTypes[F]['inputs'];
export type OptionsOf<F extends FamilyName> = FamilyTypes[F]['options'];
export type OutputsOf<F extends FamilyName> = FamilyTypes[F]['outputs'];
export type StepInputsOf<F extends FamilyName> = FamilyTypes[F]['stepInputs'];

/** One scan to compute: a family, its inputs and its options. */
export interface Problem<F extends FamilyName = FamilyName> {
  readonly family: F;
  readonly inputs: InputsOf<F>;
  readonly options: OptionsOf<F>;
}

/** A problem of any family, discriminated by `family`. */
export type AnyProblem = { [F in FamilyName]: Problem<F> }[FamilyName];

/** Names of the output tensors of each family, in a fixed order (reports, fixtures, protocol). */
export const OUTPUT_NAMES = mapFamilies((d) => d.outputs.map((o) => o.name)) as { readonly [F in FamilyName]: readonly (keyof OutputsOf<F> & string)[] };

/** Names of the input tensors of each family; optional ones may be absent. */
export const INPUT_NAMES = mapFamilies((d) => d.inputs.map((i) => i.name)) as { readonly [F in FamilyName]: readonly (keyof InputsOf<F> & string)[] };

/** Names of the inputs a problem of each family may leave out. */
export const OPTIONAL_INPUT_NAMES = mapFamilies((d) => d.inputs.filter((i) => i.optional).map((i) => i.name)) as {
  readonly [F in FamilyName]: readonly (keyof InputsOf<F> & string)[];
};

/** Default options of each family. */
export const DEFAULT_OPTIONS = mapFamilies((d) =>
  Object.fromEntries(Object.entries(d.options as Readonly<Record<string, { readonly default: boolean }>>).map(([k, o]) => [k, o.default])),
) as unknown as { readonly [F in FamilyName]: OptionsOf<F> };

/** A table with one entry per family, computed from its descriptor. */
function mapFamilies<T>(f: (descriptor: FamilyDescriptor) => T): { readonly [F in FamilyName]: T } {
  return Object.fromEntries(FAMILY_NAMES.map((name) => [name, f(FAMILIES[name] as FamilyDescriptor)])) as { readonly [F in FamilyName]: T };
}
