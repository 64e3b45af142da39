/**
 * The validator: the one gate a problem, a step or an implementation's answer passes before the
 * suite trusts its shapes. Every failure is a SpecValidationError naming the field, what the spec
 * expects and what came (spec/README.md#errors).
 */
import { SpecValidationError, type SpecValidationFailure } from './errors.ts';
import {
  DEFAULT_OPTIONS,
  INPUT_NAMES,
  OUTPUT_NAMES,
  FAMILY_NAMES,
  isFamilyName,
  type AnyProblem,
  type FamilyName,
  type OptionsOf,
  type OutputsOf,
  type Problem,
  type StepInputsOf,
  type StepOutputs,
} from './families.ts';
import type { AxisName, FamilyDescriptor } from './family-descriptor.ts';
import { descriptorOf, stepStateNames, stepStatesOf } from './families/index.ts';
import { dimensionsOf, outputShapes, projectionLayout, stepDimensionsOf, stepOutputShapes } from './shapes.ts';
import { elementCount, formatShape, unravelIndex, type OutputTensor, type Tensor } from './tensor.ts';

/** Checks a problem of any family against the spec and returns it typed; throws SpecValidationError. */
export function validateProblem(problem: unknown): AnyProblem {
  if (!isPlainObject(problem)) fail('', 'problem', 'an object { family, inputs, options }', describeValue(problem));
  const family = problem.family;
  if (!isFamilyName(family)) fail('', 'family', `one of ${FAMILY_NAMES.map((f) => `'${f}'`).join(', ')}`, describeValue(family));
  const inputs = validateTensors(family, family, problem.inputs, RUN_RULES[family], 'run');
  const options = validateOptions(family, problem.options, family);
  return { family, inputs, options } as unknown as AnyProblem;
}

/** Checks the inputs and options of a one-token step of `family`; returns the inputs typed. */
export function validateStepInputs<F extends FamilyName>(family: F, inputs: unknown, options: unknown): StepInputsOf<F> {
  if (!isFamilyName(family)) fail('step', 'family', `one of ${FAMILY_NAMES.map((f) => `'${f}'`).join(', ')}`, describeValue(family));
  const context = `${family} step`;
  const checked = validateTensors(context, family, inputs, STEP_RULES[family], 'step');
  validateOptions(family, options, context);
  return checked as unknown as StepInputsOf<F>;
}

/** Checks the options object of `family`: exactly its boolean keys (spec/families.ts DEFAULT_OPTIONS). */
export function validateOptions<F extends FamilyName>(family: F, options: unknown, context: string = family): OptionsOf<F> {
  const known = Object.keys(DEFAULT_OPTIONS[family]);
  const keyList = known.length === 0 ? 'no keys' : `boolean keys ${known.join(', ')}`;
  if (!isPlainObject(options)) fail(context, 'options', `an object with ${keyList}`, describeValue(options));
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) fail(context, `options.${key}`, `no such option (${family} options: ${keyList})`, `key '${key}'`);
  }
  for (const key of known) {
    if (!(key in options)) fail(context, `options.${key}`, 'a boolean', 'no such key (options must set every key)');
    if (typeof options[key] !== 'boolean') fail(context, `options.${key}`, 'a boolean', describeValue(options[key]));
  }
  return { ...options } as OptionsOf<F>;
}

/**
 * Checks an implementation's answer to a validated problem: an object with exactly the family's
 * output names, each a Float32Array or Float64Array tensor of the shape spec/shapes.ts gives.
 * Values are not judged here (NaN included): that is the tolerance model's job. Every mismatch
 * is collected before the SpecValidationError is thrown (its `failures` lists them).
 */
export function validateOutputs<F extends FamilyName>(problem: Problem<F>, outputs: unknown): OutputsOf<F> {
  const shapes =
    axisOutputShapes(problem.family, problem.inputs, 'run') ??
    (outputShapes(problem.family, dimensionsOf(problem as AnyProblem)) as Readonly<Record<string, readonly number[]>>);
  return validateOutputTensors(`${problem.family} outputs`, OUTPUT_NAMES[problem.family], shapes, outputs) as unknown as OutputsOf<F>;
}

/** Checks an implementation's answer to a validated step: { y (batch, dim), state }, or y and each of the descriptor's states by step name. */
export function validateStepOutputs<F extends FamilyName>(family: F, inputs: StepInputsOf<F>, outputs: unknown): StepOutputs {
  const shapes = axisOutputShapes(family, inputs, 'step') ?? stepOutputShapes(family, stepDimensionsOf(family, inputs));
  return validateOutputTensors(`${family} step outputs`, ['y', ...stepStateNames(family)], shapes, outputs) as unknown as StepOutputs;
}

// ------------------------------------------------------------------ tensor rules

/**
 * What shape a tensor has, by role: `sequence` (batch, dim, L), or (batch, dim) in a step;
 * `channel` (dim); `channelState` (dim, N); `batchChannel` (batch, dim); `batchChannelState`
 * (batch, dim, N); `projection` a selective-scan B or C in any of its three layouts.
 */
type Role = 'sequence' | 'channel' | 'channelState' | 'batchChannel' | 'batchChannelState' | 'projection';

/** A tensor whose shape its role gives (the families laid out (batch, dim, L)). */
interface RoleRule {
  readonly name: string;
  readonly role: Role;
  readonly optional?: boolean;
}

/**
 * A tensor whose shape is named axes (spec/family-descriptor.ts AxisName), read from the family's
 * descriptor: each axis's size is fixed by the first tensor that has it (G ≥ 1 dividing H, N ≥ 1,
 * limits = 2) and every later tensor must agree. A `limits` tensor is a (lo, hi) pair (±Infinity
 * allowed, no NaN, lo ≤ hi); a `segments` one holds sequence ids (integers, non-decreasing in time).
 */
interface AxesRule {
  readonly name: string;
  readonly axes: readonly AxisName[];
  readonly alternateAxes?: readonly AxisName[];
  readonly segments?: boolean;
  readonly optional?: boolean;
}

type TensorRule = RoleRule | AxesRule;

function hasAxes(rule: TensorRule): rule is AxesRule {
  return 'axes' in rule;
}

/** Rules in checking order: the first sequence tensor fixes batch, dim, L; the first channelState fixes N. */
const RUN_RULES: { readonly [F in FamilyName]: readonly TensorRule[] } = {
  'prefix-sum': [{ name: 'x', role: 'sequence' }],
  'linear-recurrence': [
    { name: 'a', role: 'sequence' },
    { name: 'b', role: 'sequence' },
    { name: 'h0', role: 'batchChannel', optional: true },
  ],
  'selective-scan': [
    { name: 'u', role: 'sequence' },
    { name: 'delta', role: 'sequence' },
    { name: 'A', role: 'channelState' },
    { name: 'B', role: 'projection' },
    { name: 'C', role: 'projection' },
    { name: 'D', role: 'channel', optional: true },
    { name: 'z', role: 'sequence', optional: true },
    { name: 'deltaBias', role: 'channel', optional: true },
    { name: 'h0', role: 'batchChannelState', optional: true },
    axesRule(descriptorOf('selective-scan') as FamilyDescriptor, 'seqIdx'),
  ],
  'lti-ssm': [
    { name: 'u', role: 'sequence' },
    { name: 'Abar', role: 'channelState' },
    { name: 'Bbar', role: 'channelState' },
    { name: 'C', role: 'channelState' },
    { name: 'D', role: 'channel', optional: true },
  ],
  ssd: axesRules(descriptorOf('ssd') as FamilyDescriptor, 'run'),
  'mamba3-siso': axesRules(descriptorOf('mamba3-siso') as FamilyDescriptor, 'run'),
};

const STEP_RULES: { readonly [F in FamilyName]: readonly TensorRule[] } = {
  'prefix-sum': [
    { name: 'x', role: 'sequence' },
    { name: 'state', role: 'batchChannel' },
  ],
  'linear-recurrence': [
    { name: 'a', role: 'sequence' },
    { name: 'b', role: 'sequence' },
    { name: 'state', role: 'batchChannel' },
  ],
  'selective-scan': [
    // A step has no sequence ids: resetting is the caller's.
    ...RUN_RULES['selective-scan'].filter((rule) => rule.name !== 'h0' && !(hasAxes(rule) && rule.segments === true)),
    { name: 'state', role: 'batchChannelState' },
  ],
  'lti-ssm': [...RUN_RULES['lti-ssm'], { name: 'state', role: 'batchChannelState' }],
  ssd: axesRules(descriptorOf('ssd') as FamilyDescriptor, 'step'),
  'mamba3-siso': axesRules(descriptorOf('mamba3-siso') as FamilyDescriptor, 'step'),
};

/**
 * The rules of a family whose inputs declare axes, read from its descriptor. A step drops the
 * time axis and the segments (a step has no sequence ids: resetting is the caller's) and takes
 * each state, shaped as its initial state and required, under its step name (`state` where the
 * descriptor declares no `states`) in place of the state input.
 */
function axesRules(descriptor: FamilyDescriptor, mode: 'run' | 'step'): readonly AxesRule[] {
  const rules: AxesRule[] = [];
  const stateAxes = new Map<string, readonly AxisName[]>();
  for (const input of descriptor.inputs) {
    const rule = axesRule(descriptor, input.name);
    if (mode === 'run') rules.push(rule);
    else if (input.role === 'state' && input.axes !== undefined) stateAxes.set(input.name, input.axes);
    else if (input.role !== 'segments') rules.push(withoutTime(rule));
  }
  if (mode === 'step') {
    const states = descriptor.states ?? [...stateAxes.keys()].slice(0, 1).map((input) => ({ input, step: 'state' }));
    if (states.length === 0) throw new Error(`spec/validate.ts: ${descriptor.name} has no state input for its step`);
    for (const state of states) rules.push({ name: state.step, axes: stateAxes.get(state.input)! });
  }
  return rules;
}

/** The rule of one input that declares axes (a family shaped by role may have such inputs: selective-scan's seqIdx). */
function axesRule(descriptor: FamilyDescriptor, name: string): AxesRule {
  const input = descriptor.inputs.find((i) => i.name === name);
  if (input?.axes === undefined) throw new Error(`spec/validate.ts: ${descriptor.name} input ${name} declares no axes`);
  return {
    name: input.name,
    axes: input.axes,
    ...(input.alternateAxes === undefined ? {} : { alternateAxes: input.alternateAxes }),
    ...(input.role === 'segments' ? { segments: true } : {}),
    optional: input.optional,
  };
}

/** A rule with the time axis removed from its shapes (a step's tensors). */
function withoutTime(rule: AxesRule): AxesRule {
  const drop = (axes: readonly AxisName[]): readonly AxisName[] => axes.filter((axis) => axis !== 'length');
  return { ...rule, axes: drop(rule.axes), ...(rule.alternateAxes === undefined ? {} : { alternateAxes: drop(rule.alternateAxes) }) };
}

// The run rules list the names of spec/families.ts INPUT_NAMES; keep the two in step.
for (const family of FAMILY_NAMES) {
  const ruled = RUN_RULES[family].map((r) => r.name).sort();
  const listed = [...INPUT_NAMES[family]].sort();
  if (ruled.join() !== listed.join()) throw new Error(`spec/validate.ts: rules of ${family} name [${ruled}], INPUT_NAMES [${listed}]`);
}

/** A dimension as error messages print it: `batch=2`, or `L=8`. */
type Axis = readonly [label: string, size: number];

function validateTensors(
  context: string,
  family: FamilyName,
  inputs: unknown,
  rules: readonly TensorRule[],
  mode: 'run' | 'step',
): Record<string, Tensor> {
  const names = rules.map((r) => r.name);
  if (!isPlainObject(inputs)) fail(context, 'inputs', `an object with tensors ${names.join(', ')}`, describeValue(inputs));
  for (const key of Object.keys(inputs)) {
    if (!names.includes(key) && inputs[key] !== undefined) {
      fail(context, `inputs.${key}`, `no such input (${family} ${mode === 'step' ? 'step ' : ''}inputs: ${names.join(', ')})`, `key '${key}'`);
    }
  }

  const tensors: Record<string, Tensor> = {};
  for (const rule of rules) {
    const value = inputs[rule.name];
    if (value === undefined) {
      if (rule.optional) continue;
      fail(context, rule.name, `a tensor { data: Float32Array, shape: number[] } (required input)`, 'undefined (missing)');
    }
    tensors[rule.name] = readTensor(context, rule.name, value);
  }

  if (rules.every(hasAxes)) {
    validateAxes(context, tensors, rules, new Map());
    return tensors;
  }
  const roleRules = rules.filter((rule): rule is RoleRule => !hasAxes(rule));

  // Dimensions: batch, dim (and L) from the first sequence tensor, N from the first channelState one.
  const primary = roleRules.find((r) => r.role === 'sequence');
  if (primary === undefined) throw new Error(`spec/validate.ts: ${family} has no sequence tensor`);
  const first = tensors[primary.name];
  const sequenceRank = mode === 'run' ? 3 : 2;
  const sequenceLabels = mode === 'run' ? '(batch, dim, L)' : '(batch, dim)';
  if (first.shape.length !== sequenceRank) fail(context, primary.name, `rank ${sequenceRank} ${sequenceLabels}`, formatShape(first.shape));
  const batch: Axis = ['batch', first.shape[0]];
  const dim: Axis = ['dim', first.shape[1]];
  const length: Axis = ['L', mode === 'run' ? first.shape[2] : 1];
  let state: Axis | undefined;

  for (const rule of roleRules) {
    const tensor = tensors[rule.name];
    if (tensor === undefined) continue;
    switch (rule.role) {
      case 'sequence':
        expectShape(context, rule.name, tensor, mode === 'run' ? [batch, dim, length] : [batch, dim]);
        break;
      case 'channel':
        expectShape(context, rule.name, tensor, [dim]);
        break;
      case 'batchChannel':
        expectShape(context, rule.name, tensor, [batch, dim]);
        break;
      case 'channelState': {
        if (state === undefined) {
          const expected = `shape (dim=${dim[1]}, N) with N ≥ 1`;
          if (tensor.shape.length !== 2 || tensor.shape[0] !== dim[1] || tensor.shape[1] < 1) fail(context, rule.name, expected, formatShape(tensor.shape));
          state = ['N', tensor.shape[1]];
        }
        expectShape(context, rule.name, tensor, [dim, state]);
        break;
      }
      case 'batchChannelState':
        expectShape(context, rule.name, tensor, [batch, dim, requireState(state, family)]);
        break;
      case 'projection':
        expectProjection(context, rule.name, tensor, batch, dim, requireState(state, family), length);
        break;
    }
  }

  for (const rule of roleRules) {
    const tensor = tensors[rule.name];
    if (tensor !== undefined) expectFinite(context, rule.name, tensor);
  }
  // Inputs with declared axes among role-shaped ones (selective-scan's seqIdx), sized by what the roles fixed.
  const axesRules = rules.filter(hasAxes);
  if (axesRules.length > 0) {
    const fixed = new Map<AxisName, number>([['batch', batch[1]], ['length', length[1]], ...(state === undefined ? [] : [['state', state[1]] as const])]);
    validateAxes(context, tensors, axesRules, fixed);
  }
  return tensors;
}

// ------------------------------------------------------------------ named axes

/** How messages print each named axis (the letters of the family documents). */
const AXIS_LABELS: { readonly [A in AxisName]: string } = {
  batch: 'batch',
  length: 'L',
  heads: 'H',
  headdim: 'P',
  groups: 'G',
  state: 'N',
  limits: 'limits',
  angles: 'A',
};

/** 2^24: the largest integer below which every integer is exact in float32 (sequence ids). */
export const MAX_SEGMENT_ID = 2 ** 24;

/**
 * Shapes in named axes: the first tensor with an axis fixes its size (unless `fixed` gives it),
 * every later one agrees; then
 * values (finite, or a (lo, hi) pair for a `limits` axis), then sequence ids.
 */
function validateAxes(context: string, tensors: Readonly<Record<string, Tensor>>, rules: readonly AxesRule[], fixed: ReadonlyMap<AxisName, number>): void {
  const sizes = new Map<AxisName, number>([['limits', 2], ...fixed]);
  for (const rule of rules) {
    const tensor = tensors[rule.name];
    if (tensor === undefined) continue;
    const candidates = axesCandidates(rule);
    const found = candidates.map((axes) => matchAxes(tensor.shape, axes, sizes)).find((match) => match !== undefined);
    if (found === undefined) fail(context, rule.name, expectedAxes(candidates, sizes), formatShape(tensor.shape));
    for (const [axis, size] of found) sizes.set(axis, size);
  }
  expectRotaryPairs(context, rules, sizes);
  for (const rule of rules) {
    const tensor = tensors[rule.name];
    if (tensor === undefined) continue;
    if (rule.axes.includes('limits')) expectLimits(context, rule.name, tensor, rule.axes);
    else expectFinite(context, rule.name, tensor);
  }
  for (const rule of rules) {
    const tensor = tensors[rule.name];
    if (tensor !== undefined && rule.segments === true) expectSegments(context, rule.name, tensor, rule.axes);
  }
}

function axesCandidates(rule: AxesRule): readonly (readonly AxisName[])[] {
  return rule.alternateAxes === undefined ? [rule.axes] : [rule.axes, rule.alternateAxes];
}

/** The sizes a shape gives the axes not yet fixed, or undefined when it does not fit (rank, a fixed size, G or N). */
function matchAxes(shape: readonly number[], axes: readonly AxisName[], sizes: ReadonlyMap<AxisName, number>): Map<AxisName, number> | undefined {
  if (shape.length !== axes.length) return undefined;
  const found = new Map<AxisName, number>();
  for (let i = 0; i < axes.length; i++) {
    const known = sizes.get(axes[i]) ?? found.get(axes[i]);
    if (known !== undefined) {
      if (known !== shape[i]) return undefined;
      continue;
    }
    if (!axisAdmits(axes[i], shape[i], sizes)) return undefined;
    found.set(axes[i], shape[i]);
  }
  return found;
}

/** Whether a size may fix an axis: G ≥ 1 dividing H (head h reads group ⌊h/(H/G)⌋), N ≥ 1. */
function axisAdmits(axis: AxisName, size: number, sizes: ReadonlyMap<AxisName, number>): boolean {
  if (axis === 'state') return size >= 1;
  if (axis !== 'groups') return true;
  const heads = sizes.get('heads');
  return size >= 1 && (heads === undefined || heads % size === 0);
}

/**
 * Rotary angles rotate pairs of the `state` axis: where tensors have an `angles` axis A, N must be
 * even and 1 ≤ A ≤ N/2 (mamba3-siso); the first tensor with the angles axis is named.
 */
function expectRotaryPairs(context: string, rules: readonly AxesRule[], sizes: ReadonlyMap<AxisName, number>): void {
  const A = sizes.get('angles');
  const N = sizes.get('state');
  if (A === undefined || N === undefined) return;
  const field = rules.find((rule) => rule.axes.includes('angles'))?.name ?? 'angles';
  if (N % 2 !== 0) fail(context, field, `rotary pairs: N (the state axis) even`, `N=${N}`);
  if (A < 1 || 2 * A > N) fail(context, field, `A (the angles axis) with 1 ≤ A ≤ N/2 = ${N / 2}`, `A=${A}`);
}

/** `shape (batch=1, L=8, G, N) with G ≥ 1 dividing H=4 and N ≥ 1`, or `shape (H=4) or (H=4, P=2)`. */
function expectedAxes(candidates: readonly (readonly AxisName[])[], sizes: ReadonlyMap<AxisName, number>): string {
  const shapes = candidates.map((axes) => formatAxes(axes.map((axis): Axis => [AXIS_LABELS[axis], sizes.get(axis) ?? -1])));
  const open = new Set(candidates.flat().filter((axis) => !sizes.has(axis)));
  const conditions: string[] = [];
  if (open.has('groups')) {
    const heads = sizes.get('heads');
    conditions.push(`G ≥ 1 dividing ${heads === undefined ? 'H' : `H=${heads}`}`);
  }
  if (open.has('state')) conditions.push('N ≥ 1');
  return `shape ${shapes.join(' or ')}${conditions.length === 0 ? '' : ` with ${conditions.join(' and ')}`}`;
}

/** A (lo, hi) pair along a last `limits` axis: neither NaN (±Infinity allowed), lo ≤ hi. */
function expectLimits(context: string, field: string, tensor: Tensor, axes: readonly AxisName[]): void {
  if (axes[axes.length - 1] !== 'limits') throw new Error(`spec/validate.ts: ${field}: a limits axis must be the last`);
  const { data, shape } = tensor;
  const at = (i: number): string => `${field}[${unravelIndex(i, shape).join(', ')}]`;
  for (let i = 0; i < data.length; i++) {
    if (Number.isNaN(data[i])) fail(context, field, 'limits (lo, hi) that are not NaN (±Infinity allowed)', `NaN at ${at(i)} (flat index ${i})`);
  }
  for (let i = 0; i + 1 < data.length; i += 2) {
    if (!(data[i] <= data[i + 1])) fail(context, field, 'limits (lo, hi) with lo ≤ hi', `lo = ${data[i]} at ${at(i)}, hi = ${data[i + 1]} at ${at(i + 1)}`);
  }
}

/**
 * Sequence ids: integers 0 … 2^24 (exact in float32) along a `length` axis, non-decreasing in
 * time in every row (the state resets where they change); names the first element that is not.
 */
function expectSegments(context: string, field: string, tensor: Tensor, axes: readonly AxisName[]): void {
  const { data, shape } = tensor;
  const timeAxis = axes.indexOf('length');
  if (timeAxis < 0) throw new Error(`spec/validate.ts: ${field}: sequence ids need a length axis`);
  const stride = elementCount(shape.slice(timeAxis + 1));
  const at = (i: number): string => `${field}[${unravelIndex(i, shape).join(', ')}]`;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isInteger(v) || v < 0 || v > MAX_SEGMENT_ID) {
      fail(context, field, `sequence ids: integers 0 … 2^24 (exact in float32)`, `${v} at ${at(i)} (flat index ${i})`);
    }
    const t = Math.floor(i / stride) % shape[timeAxis];
    if (t > 0 && v < data[i - stride]) {
      fail(context, field, `sequence ids non-decreasing along ${AXIS_LABELS.length} in every row`, `${v} at ${at(i)} after ${data[i - stride]} at ${at(i - stride)}`);
    }
  }
}

/**
 * The output shapes of a family whose outputs declare axes, from the sizes its (validated) input
 * tensors give; undefined for the families shaped by role (spec/shapes.ts). A step's y drops the
 * time axis of the sequence output; its state is shaped as the final state.
 */
function axisOutputShapes(family: FamilyName, inputs: unknown, mode: 'run' | 'step'): Readonly<Record<string, readonly number[]>> | undefined {
  const { outputs } = descriptorOf(family);
  if (outputs.some((output) => output.axes === undefined)) return undefined;
  const rules = (mode === 'run' ? RUN_RULES : STEP_RULES)[family].filter(hasAxes);
  const tensors = inputs as Readonly<Record<string, Tensor | undefined>>;
  const sizes = new Map<AxisName, number>([['limits', 2]]);
  for (const rule of rules) {
    const tensor = tensors[rule.name];
    if (tensor === undefined) continue;
    const axes = axesCandidates(rule).find((candidate) => candidate.length === tensor.shape.length) ?? rule.axes;
    axes.forEach((axis, i) => {
      if (!sizes.has(axis)) sizes.set(axis, tensor.shape[i]);
    });
  }
  const shapeOf = (axes: readonly AxisName[] = []): number[] => axes.map((axis) => sizes.get(axis) ?? 0);
  if (mode === 'run') return Object.fromEntries(outputs.map((output) => [output.name, shapeOf(output.axes)]));
  const sequence = outputs.find((output) => output.kind === 'sequence');
  const stateShapes = stepStatesOf(family).map((state) => [state.step, shapeOf(outputs.find((output) => output.name === state.output)?.axes)]);
  return { y: shapeOf(sequence?.axes?.filter((axis) => axis !== 'length')), ...Object.fromEntries(stateShapes) };
}

function requireState(state: Axis | undefined, family: FamilyName): Axis {
  if (state === undefined) throw new Error(`spec/validate.ts: ${family} reads N before a (dim, N) tensor fixed it`);
  return state;
}

/** A tensor's structure: an object with float32 data and a shape of non-negative integers whose product is the length. */
export function readTensor(context: string, field: string, value: unknown): Tensor {
  if (!isPlainObject(value)) fail(context, field, 'a tensor { data: Float32Array, shape: number[] }', describeValue(value));
  const { data, shape } = value;
  if (!(data instanceof Float32Array)) fail(context, `${field}.data`, 'dtype float32 (a Float32Array)', describeDtype(data));
  if (!Array.isArray(shape)) fail(context, `${field}.shape`, 'an array of non-negative integers', describeValue(shape));
  shape.forEach((size: unknown, axis) => {
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
      fail(context, `${field}.shape[${axis}]`, 'a non-negative integer', describeValue(size));
    }
  });
  const sizes = shape as number[];
  if (data.length !== elementCount(sizes)) {
    fail(context, field, `data length ${elementCount(sizes)} (the product of shape ${formatShape(sizes)})`, `${data.length} elements`);
  }
  return value as unknown as Tensor;
}

function expectShape(context: string, field: string, tensor: Tensor, axes: readonly Axis[]): void {
  const matches = tensor.shape.length === axes.length && axes.every(([, size], i) => tensor.shape[i] === size);
  if (!matches) fail(context, field, `shape ${formatAxes(axes)}`, formatShape(tensor.shape));
}

/** B or C of a selective scan: (dim, N), (batch, N, L) or (batch, G, N, L) with G ≥ 1 dividing dim. */
function expectProjection(context: string, field: string, tensor: Tensor, batch: Axis, dim: Axis, state: Axis, length: Axis): void {
  const s = tensor.shape;
  // The layout is read from the rank by the one function that reads it (spec/shapes.ts).
  const layout = s.length >= 2 && s.length <= 4 ? projectionLayout(s) : undefined;
  let ok = false;
  switch (layout?.kind) {
    case 'time-invariant':
      ok = s[0] === dim[1] && s[1] === state[1];
      break;
    case 'time-varying':
      ok = s[0] === batch[1] && s[1] === state[1] && s[2] === length[1];
      break;
    case 'grouped':
      ok = s[0] === batch[1] && layout.groups >= 1 && dim[1] % layout.groups === 0 && s[2] === state[1] && s[3] === length[1];
      break;
  }
  if (ok) return;
  const expected =
    `shape ${formatAxes([dim, state])}, ${formatAxes([batch, state, length])} or ` +
    `${formatAxes([batch, ['G', -1], state, length])} with G dividing ${dim[0]}=${dim[1]}`;
  fail(context, field, expected, formatShape(s));
}

/** Every element finite; names the first that is not. */
export function expectFinite(context: string, field: string, tensor: Tensor): void {
  const { data, shape } = tensor;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    // v - v is 0 for every finite v and NaN for NaN and ±Inf: one comparison per element.
    if (v - v !== 0) {
      fail(context, field, 'finite values (NaN and ±Inf are not valid inputs)', `${v} at ${field}[${unravelIndex(i, shape).join(', ')}] (flat index ${i})`);
    }
  }
}

function formatAxes(axes: readonly Axis[]): string {
  return `(${axes.map(([label, size]) => (size < 0 ? label : `${label}=${size}`)).join(', ')})`;
}

// ------------------------------------------------------------------ outputs

/** Checks an answer's tensors, collecting every mismatch before throwing (an answer is wrong in all its ways at once). */
export function validateOutputTensors(
  context: string,
  names: readonly string[],
  shapes: Readonly<Record<string, readonly number[]>>,
  outputs: unknown,
): Record<string, OutputTensor> {
  if (!isPlainObject(outputs)) fail(context, 'outputs', `an object with tensors ${names.join(', ')}`, describeValue(outputs));
  const failures: SpecValidationFailure[] = [];
  const mismatch = (field: string, expected: string, actual: string) => failures.push({ context, field, expected, actual });
  for (const key of Object.keys(outputs)) {
    if (!names.includes(key)) mismatch(key, `no such output (outputs: ${names.join(', ')})`, `key '${key}'`);
  }
  const checked: Record<string, OutputTensor> = {};
  for (const name of names) {
    const value = outputs[name];
    const expectedShape = shapes[name];
    if (value === undefined) {
      mismatch(name, `a tensor of shape ${formatShape(expectedShape)}`, 'undefined (missing)');
      continue;
    }
    if (!isPlainObject(value)) {
      mismatch(name, `a tensor { data: Float32Array | Float64Array, shape: number[] }`, describeValue(value));
      continue;
    }
    const before = failures.length;
    const { data, shape } = value;
    const typed = data instanceof Float32Array || data instanceof Float64Array;
    if (!typed) mismatch(`${name}.data`, 'a Float32Array or Float64Array', describeDtype(data));
    const sameShape = Array.isArray(shape) && shape.length === expectedShape.length && expectedShape.every((s, i) => shape[i] === s);
    if (!sameShape) mismatch(`${name}.shape`, formatShape(expectedShape), Array.isArray(shape) ? formatShape(shape as number[]) : describeValue(shape));
    if (typed && data.length !== elementCount(expectedShape)) {
      mismatch(name, `data length ${elementCount(expectedShape)} (shape ${formatShape(expectedShape)})`, `${data.length} elements`);
    }
    if (failures.length === before) checked[name] = value as unknown as OutputTensor;
  }
  if (failures.length > 0) throw new SpecValidationError(failures as [SpecValidationFailure, ...SpecValidationFailure[]]);
  return checked;
}

// ------------------------------------------------------------------ helpers

/** Throws the SpecValidationError of one failure. */
export function fail(context: string, field: string, expected: string, actual: string): never {
  throw new SpecValidationError({ context, field, expected, actual });
}


/** Whether a value is a plain object (not null, an array or a typed array). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value);
}

/** Names the dtype of what came where a Float32Array was expected. */
function describeDtype(value: unknown): string {
  if (ArrayBuffer.isView(value)) return value.constructor.name;
  if (Array.isArray(value)) return 'a plain Array';
  return describeValue(value);
}

/** A short description of any value for error messages ('undefined', 'number 3', 'an object with keys [a, b]'). */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return `${typeof value} ${String(value)}`;
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  return `an object with keys [${Object.keys(value).join(', ')}]`;
}
