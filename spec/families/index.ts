/**
 * The registry of families: adding a family is its folder, its reference and its lines here (its
 * descriptor, its fixture catalogue, its tolerance terms and its value regimes). The mapped types make the compiler name any family of
 * spec/families.ts that lacks either. The
 * helpers below answer, from the descriptors, the questions generic code would otherwise answer
 * by testing a family's name.
 */
import type { FamilyName, InputsOf, OptionsOf, OutputsOf } from '../families.ts';
import type { FamilyCatalogue } from '../family-catalogue.ts';
import type { AxisName, FamilyDescriptor, InputRole, OptionDescriptor, StateDescriptor } from '../family-descriptor.ts';
import type { FamilyRegimes } from '../family-regimes.ts';
import type { FamilyToleranceTerms } from '../tolerance-terms.ts';
import { linearRecurrenceCatalogue } from './linear-recurrence/catalogue.ts';
import { linearRecurrence } from './linear-recurrence/descriptor.ts';
import { linearRecurrenceRegimes } from './linear-recurrence/regimes.ts';
import { linearRecurrenceTolerance } from './linear-recurrence/tolerance.ts';
import { ltiSsmCatalogue } from './lti-ssm/catalogue.ts';
import { ltiSsm } from './lti-ssm/descriptor.ts';
import { ltiSsmRegimes } from './lti-ssm/regimes.ts';
import { ltiSsmTolerance } from './lti-ssm/tolerance.ts';
import { prefixSumCatalogue } from './prefix-sum/catalogue.ts';
import { prefixSum } from './prefix-sum/descriptor.ts';
import { prefixSumRegimes } from './prefix-sum/regimes.ts';
import { prefixSumTolerance } from './prefix-sum/tolerance.ts';
import { selectiveScanCatalogue } from './selective-scan/catalogue.ts';
import { selectiveScan } from './selective-scan/descriptor.ts';
import { selectiveScanRegimes } from './selective-scan/regimes.ts';
import { selectiveScanTolerance } from './selective-scan/tolerance.ts';
import { ssdCatalogue } from './ssd/catalogue.ts';
import { ssd } from './ssd/descriptor.ts';
import { ssdRegimes } from './ssd/regimes.ts';
import { ssdTolerance } from './ssd/tolerance.ts';
import { mamba3SisoCatalogue } from './mamba3-siso/catalogue.ts';
import { mamba3Siso } from './mamba3-siso/descriptor.ts';
import { mamba3SisoRegimes } from './mamba3-siso/regimes.ts';
import { mamba3SisoTolerance } from './mamba3-siso/tolerance.ts';

/** Every family's descriptor, by name. */
export const FAMILIES: { readonly [F in FamilyName]: FamilyDescriptor<F> } = {
  'prefix-sum': prefixSum,
  'linear-recurrence': linearRecurrence,
  'selective-scan': selectiveScan,
  'lti-ssm': ltiSsm,
  ssd,
  'mamba3-siso': mamba3Siso,
};

/** Every family's choices for the golden fixture catalogue (fixtures/catalogue.ts), by name. */
export const CATALOGUES: { readonly [F in FamilyName]: FamilyCatalogue<F> } = {
  'prefix-sum': prefixSumCatalogue,
  'linear-recurrence': linearRecurrenceCatalogue,
  'selective-scan': selectiveScanCatalogue,
  'lti-ssm': ltiSsmCatalogue,
  ssd: ssdCatalogue,
  'mamba3-siso': mamba3SisoCatalogue,
};

/** Every family's terms of the tolerance model (suite/tolerance.ts, suite/exactness.ts), by name. */
export const TOLERANCE_TERMS: { readonly [F in FamilyName]: FamilyToleranceTerms<F> } = {
  'prefix-sum': prefixSumTolerance,
  'linear-recurrence': linearRecurrenceTolerance,
  'selective-scan': selectiveScanTolerance,
  'lti-ssm': ltiSsmTolerance,
  ssd: ssdTolerance,
  'mamba3-siso': mamba3SisoTolerance,
};

/** Every family's value regimes (spec/regimes.ts draws problems from them), by name. */
export const REGIMES_BY_FAMILY: { readonly [F in FamilyName]: FamilyRegimes<F> } = {
  'prefix-sum': prefixSumRegimes,
  'linear-recurrence': linearRecurrenceRegimes,
  'selective-scan': selectiveScanRegimes,
  'lti-ssm': ltiSsmRegimes,
  ssd: ssdRegimes,
  'mamba3-siso': mamba3SisoRegimes,
};

/** The value regimes of a family. */
export function familyRegimesOf<F extends FamilyName>(family: F): FamilyRegimes<F> {
  return REGIMES_BY_FAMILY[family] as FamilyRegimes<F>;
}

/** The tolerance terms of a family. */
export function toleranceTermsOf<F extends FamilyName>(family: F): FamilyToleranceTerms<F> {
  return TOLERANCE_TERMS[family] as FamilyToleranceTerms<F>;
}

/** The fixture-catalogue choices of a family. */
export function catalogueOf<F extends FamilyName>(family: F): FamilyCatalogue<F> {
  return CATALOGUES[family] as FamilyCatalogue<F>;
}

/** The descriptor of a family. */
export function descriptorOf<F extends FamilyName>(family: F): FamilyDescriptor<F> {
  return FAMILIES[family] as FamilyDescriptor<F>;
}

/** Whether an output of a family is a sequence (batch, dim, L) or a final state; throws for an unknown name. */
export function outputKind(family: FamilyName, name: string): 'sequence' | 'state' {
  const output = (descriptorOf(family).outputs as readonly { readonly name: string; readonly kind: 'sequence' | 'state' }[]).find((o) => o.name === name);
  if (output === undefined) throw new Error(`outputKind: ${family} has no output '${name}'`);
  return output.kind;
}

/** The families whose descriptor satisfies a predicate, in registry order (for messages and listings). */
export function familiesWhere(predicate: (family: FamilyName) => boolean): FamilyName[] {
  // The registry's keys, not FAMILY_NAMES: spec/families.ts imports this module while it loads.
  return (Object.keys(FAMILIES) as FamilyName[]).filter(predicate);
}

/** Names of a family's inputs that play a role, in the family's input order. */
export function inputNamesWithRole<F extends FamilyName>(family: F, role: InputRole): readonly (keyof InputsOf<F> & string)[] {
  return descriptorOf(family).inputs.filter((input) => input.role === role).map((input) => input.name);
}

/** The sequence inputs (batch, dim, L): the tensors that always carry the time axis. */
export function sequenceInputNames<F extends FamilyName>(family: F): readonly (keyof InputsOf<F> & string)[] {
  return inputNamesWithRole(family, 'sequence');
}

/** Whether a family's B/C layout is read from their rank (selective-scan), so requests and fixtures choose it. */
export function hasProjectionLayouts(family: FamilyName): boolean {
  return descriptorOf(family).inputs.some((input) => input.role === 'projection' && input.axes === undefined);
}

/** Whether some input of a family has this named axis. */
export function hasAxis(family: FamilyName, axis: AxisName): boolean {
  return descriptorOf(family).inputs.some((input) => input.axes?.includes(axis) === true);
}

/** Whether a family's channels come in heads (ssd): its problems are sized by heads and groups of heads. */
export function hasHeads(family: FamilyName): boolean {
  return hasAxis(family, 'heads');
}

/** The inputs with a second accepted shape (ssd's D), which requests and fixtures may draw in it. */
export function alternateShapeInputNames<F extends FamilyName>(family: F): readonly (keyof InputsOf<F> & string)[] {
  return descriptorOf(family).inputs.filter((input) => input.alternateAxes !== undefined).map((input) => input.name);
}

/** The projection inputs (selective-scan's B and C), whose layout is read from their rank. */
export function projectionInputNames<F extends FamilyName>(family: F): readonly (keyof InputsOf<F> & string)[] {
  return inputNamesWithRole(family, 'projection');
}

/** The initial-state inputs (h0). */
export function stateInputNames<F extends FamilyName>(family: F): readonly (keyof InputsOf<F> & string)[] {
  return inputNamesWithRole(family, 'state');
}

/** The inputs in which the outputs are jointly linear (linearity, scaling by 2^k, zero input). */
export function additiveInputNames<F extends FamilyName>(family: F): readonly (keyof InputsOf<F> & string)[] {
  return descriptorOf(family).inputs.filter((input) => input.additive).map((input) => input.name);
}

/** The name of the family's sequence output (y, or h for a linear recurrence). */
export function sequenceOutputName<F extends FamilyName>(family: F): keyof OutputsOf<F> & string {
  const output = descriptorOf(family).outputs.find((o) => o.kind === 'sequence');
  if (output === undefined) throw new Error(`spec/families/${family}/descriptor.ts: expected a sequence output, got none`);
  return output.name;
}

/** The name of the family's final-state output (lastState), or undefined when it returns none. */
export function stateOutputName<F extends FamilyName>(family: F): (keyof OutputsOf<F> & string) | undefined {
  return descriptorOf(family).outputs.find((o) => o.kind === 'state')?.name;
}

/** Whether the family's state has a state axis N (its step state is (batch, dim, N), not (batch, dim)). */
export function hasStateSize(family: FamilyName): boolean {
  return descriptorOf(family).stateSizeFrom !== undefined;
}

/**
 * The states a run hands on and a step carries: the descriptor's `states`, or its one state input
 * and state output, named `state` in a step (none where it has no state input or output).
 */
export function statesOf<F extends FamilyName>(family: F): readonly StateDescriptor<keyof InputsOf<F> & string, keyof OutputsOf<F> & string>[] {
  const declared = descriptorOf(family).states;
  if (declared !== undefined) return declared;
  const [input] = stateInputNames(family);
  const output = stateOutputName(family);
  return input === undefined || output === undefined ? [] : [{ input, output, step: 'state' }];
}

/**
 * The states a step carries: the descriptor's `states`, or one named `state`, with the state input
 * and output it corresponds to where the family has them (prefix-sum's step state has neither).
 */
export function stepStatesOf(family: FamilyName): readonly { readonly input?: string; readonly output?: string; readonly step: string }[] {
  const declared = descriptorOf(family).states;
  if (declared !== undefined) return declared;
  const [input] = stateInputNames(family);
  const output = stateOutputName(family);
  return [{ ...(input !== undefined && { input }), ...(output !== undefined && { output }), step: 'state' }];
}

/** The names of a step's states (`state`, or the descriptor's `states` step names). */
export function stepStateNames(family: FamilyName): readonly string[] {
  return stepStatesOf(family).map((state) => state.step);
}

/** The outputs of a family compared as angles (mod 2π, by circular distance). */
export function angleOutputNames<F extends FamilyName>(family: F): readonly (keyof OutputsOf<F> & string)[] {
  return descriptorOf(family).outputs.filter((o) => o.comparison === 'angle').map((o) => o.name);
}

/** Whether an output is linear in the additive inputs (scaled with them, zero when they are). */
export function outputIsLinear(family: FamilyName, name: string): boolean {
  return (descriptorOf(family).outputs as readonly { readonly name: string; readonly linear?: boolean }[]).find((o) => o.name === name)?.linear !== false;
}

/** Whether a run can be continued from another's final state: it takes an initial state and returns its last. */
export function statePassing(family: FamilyName): boolean {
  return stateInputNames(family).length > 0 && stateOutputName(family) !== undefined;
}

/** The options of a family, in its declared order, with their descriptions. */
export function optionEntries<F extends FamilyName>(family: F): readonly (readonly [keyof OptionsOf<F> & string, OptionDescriptor])[] {
  return Object.entries(descriptorOf(family).options) as unknown as readonly (readonly [keyof OptionsOf<F> & string, OptionDescriptor])[];
}

/** The options that reverse the processing order (reverse). */
export function directionalOptionNames<F extends FamilyName>(family: F): readonly (keyof OptionsOf<F> & string)[] {
  return optionEntries(family).filter(([, option]) => option.directional === true).map(([name]) => name);
}

/** The options a step does not take (a step is forward and inclusive): false wherever a run is compared with steps. */
export function notInStepOptionNames<F extends FamilyName>(family: F): readonly (keyof OptionsOf<F> & string)[] {
  return optionEntries(family).filter(([, option]) => !option.inStep).map(([name]) => name);
}
