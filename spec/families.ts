/**
 * The scan families: their inputs, options, outputs and one-token step, as types.
 * The normative math lives in spec/families/<family>/<family>.md; shapes in spec/shapes.ts; checks in spec/validate.ts.
 * Shapes use mamba_ssm's names: batch, dim (channels), N (state size), G (groups), L (length).
 */
import type { FamilyDescriptor } from './family-descriptor.ts';
import { FAMILIES } from './families/index.ts';
import type { PrefixSumTypes } from './families/prefix-sum/types.ts';
import type { LinearRecurrenceTypes } from './families/linear-recurrence/types.ts';
import type { SelectiveScanTypes } from './families/selective-scan/types.ts';
import type { LtiSsmTypes } from './families/lti-ssm/types.ts';
import type { SsdTypes } from './families/ssd/types.ts';
import type { Mamba3SisoTypes } from './families/mamba3-siso/types.ts';
import type { OutputTensor } from './tensor.ts';

/** Every family, in the order reports list them. */
export const FAMILY_NAMES = ['prefix-sum', 'linear-recurrence', 'selective-scan', 'lti-ssm', 'ssd', 'mamba3-siso'] as const;

/** The name of a scan family. */
export type FamilyName = (typeof FAMILY_NAMES)[number];

/** Whether a string names a family. */
export function isFamilyName(value: unknown): value is FamilyName {
  return typeof value === 'string' && (FAMILY_NAMES as readonly string[]).includes(value);
}

// Each family's own types live in its folder, spec/families/<name>/types.ts.
export type { PrefixSumInputs, PrefixSumOptions, PrefixSumOutputs, PrefixSumStepInputs } from './families/prefix-sum/types.ts';
export type { LinearRecurrenceInputs, LinearRecurrenceOptions, LinearRecurrenceOutputs, LinearRecurrenceStepInputs } from './families/linear-recurrence/types.ts';
export type { SelectiveScanInputs, SelectiveScanOptions, SelectiveScanOutputs, SelectiveScanStepInputs } from './families/selective-scan/types.ts';
export type { LtiSsmInputs, LtiSsmOptions, LtiSsmOutputs, LtiSsmStepInputs } from './families/lti-ssm/types.ts';
export type { SsdInputs, SsdOptions, SsdOutputs, SsdStepInputs } from './families/ssd/types.ts';
export type { Mamba3SisoInputs, Mamba3SisoOptions, Mamba3SisoOutputs, Mamba3SisoStepInputs } from './families/mamba3-siso/types.ts';

// ---------------------------------------------------------------- the table

/**
 * Step outputs of every family: y_t (batch, dim) and the new state, `state`, or each of the
 * descriptor's `states` under its step name (mamba3-siso: angleState, ssmState, kState, vState).
 */
export interface StepOutputs {
  readonly y: OutputTensor;
  readonly [state: string]: OutputTensor;
}

/** The types of each family, looked up by name. */
export interface FamilyTypes {
  'prefix-sum': PrefixSumTypes;
  'linear-recurrence': LinearRecurrenceTypes;
  'selective-scan': SelectiveScanTypes;
  'lti-ssm': LtiSsmTypes;
  ssd: SsdTypes;
  'mamba3-siso': Mamba3SisoTypes;
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
