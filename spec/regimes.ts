/**
 * Input regimes: the one list of where scan kernels break, and the one sampler that draws a problem
 * in a regime. Fixtures drive it with seedrandom, the fast-check arbitraries with a uniform source
 * derived from a generated seed; both get the same problems from the same uniforms.
 *
 * How each family's inputs are drawn in each regime is the family's own (spec/families/<name>/regimes.ts,
 * registry REGIMES_BY_FAMILY); this module holds what is common: the regimes' names and
 * descriptions, request checking, shapes, the sampler and the identity padding.
 *
 * Determinism: a sampler reads randomness only from `uniform()` (values in [0, 1)), in a fixed order
 * (each family's draw order, each tensor row-major), and every element consumes the same number of
 * uniforms whatever value it takes (spec/draws.ts), so changing one draw changes one element.
 */
import type { TensorDraw, Uniform } from './draws.ts';
import { FAMILY_NAMES, OPTIONAL_INPUT_NAMES, type FamilyName, type InputsOf, type OptionsOf, type Problem } from './families.ts';
import { descriptorOf, directionalOptionNames, familiesWhere, familyRegimesOf, hasAxis, hasHeads, hasProjectionLayouts, hasStateSize } from './families/index.ts';
import type { OwnRegimeName } from './family-regimes.ts';
import { shapeOfAxes, timeAxisOf, type ProjectionLayout } from './shapes.ts';
import { padAxis } from './tensor-axis.ts';
import type { Tensor } from './tensor.ts';

export type { Uniform } from './draws.ts';

/** Every regime, in the order reports list them. */
export const REGIME_NAMES = [
  'generic',
  'decay-near-1',
  'decay-near-0',
  'zeros',
  'oscillating',
  'tiny',
  'huge',
  'subnormal',
  'dyadic-exact',
  'softplus-threshold',
  'identity-padding',
] as const;

/** The name of an input regime. */
export type RegimeName = (typeof REGIME_NAMES)[number];

/** Whether a string names a regime. */
export function isRegimeName(value: unknown): value is RegimeName {
  return typeof value === 'string' && (REGIME_NAMES as readonly string[]).includes(value);
}

/** How a selective-scan B or C is laid out: (dim, N), (batch, N, L) or (batch, G, N, L). */
export type ProjectionKind = ProjectionLayout['kind'];

/** The three B/C layouts, in a fixed order. */
export const PROJECTION_KINDS: readonly ProjectionKind[] = ['time-invariant', 'time-varying', 'grouped'];

/**
 * Sizes of a problem to sample: stateSize (N) is required by the families whose state has a state
 * axis (selective-scan, lti-ssm) and ignored by the scalar-state ones; groups (G) is read only for
 * a grouped B or C.
 */
export interface SampleDimensions {
  readonly batch: number;
  readonly dim: number;
  readonly length: number;
  readonly stateSize?: number;
  /** Ignored unless B or C is grouped; must then divide dim (and heads, where the family has heads). */
  readonly groups?: number;
  /** Heads H of a family with a heads axis (ssd); must divide dim. */
  readonly heads?: number;
  /** Rotary angles per head of a family with an angles axis (mamba3-siso); 1 when absent. */
  readonly angles?: number;
}

/** The optional keys of an inputs type. */
type OptionalKeys<T> = { [K in keyof T]-?: {} extends Pick<T, K> ? K : never }[keyof T];

/** The name of an optional input of some family (h0, D, z, deltaBias). */
export type OptionalInputName = { [F in FamilyName]: OptionalKeys<InputsOf<F>> & string }[FamilyName];

/** Which optional inputs to draw (absent means off). */
export type OptionalInputSwitches = { readonly [K in OptionalInputName]?: boolean };

/** The optional inputs each family has, in its descriptor's order (spec/families.ts#OPTIONAL_INPUT_NAMES). */
export const OPTIONAL_INPUTS = OPTIONAL_INPUT_NAMES as unknown as { readonly [F in FamilyName]: readonly OptionalInputName[] };

/** What to sample: a family, its sizes, options, optional inputs, B/C layouts and the regime. */
export interface SampleRequest<F extends FamilyName = FamilyName> {
  readonly family: F;
  readonly dims: SampleDimensions;
  readonly options: OptionsOf<F>;
  readonly optionalInputs?: OptionalInputSwitches;
  /** selective-scan only; each defaults to 'time-varying' (mamba_ssm's usual layout). */
  readonly projections?: { readonly B?: ProjectionKind; readonly C?: ProjectionKind };
  /** Inputs drawn in their descriptor's alternateAxes (ssd's D as (H, P)). */
  readonly alternateShapes?: readonly string[];
  readonly regime: RegimeName;
  /**
   * softplus-threshold only: also place half of delta + deltaBias in [88, 104), past float32 exp's
   * overflow (x > 88.72), where a softplus without PyTorch's threshold returns Inf. Absent or false
   * (as in the committed fixtures): only around the threshold 20. Generated cases set it.
   */
  readonly expOverflow?: boolean;
}

/** An input regime: what it stresses, the families it applies to and its sampler. */
export interface Regime {
  readonly name: RegimeName;
  readonly description: string;
  /** Families this regime applies to. */
  readonly families: readonly FamilyName[];
  /** For each family it does not apply to, why. */
  readonly excluded: { readonly [F in FamilyName]?: string };
  /** Draws a problem of this regime; throws RegimeNotApplicableError where it does not apply. */
  readonly sample: <F extends FamilyName>(request: SampleRequest<F>, uniform: Uniform) => Problem<F>;
}

/** Thrown when a regime cannot produce the requested problem (family, options, optional inputs or size). */
export class RegimeNotApplicableError extends Error {
  override readonly name = 'RegimeNotApplicableError';
}

/** Thrown for a malformed sample request (sizes, switches or layouts that the family does not have). */
export class SampleRequestError extends Error {
  override readonly name = 'SampleRequestError';
}

// ------------------------------------------------------------------ what each regime stresses

/** What each regime stresses, in words (reports and listings show it). */
const DESCRIPTIONS: { readonly [R in RegimeName]: string } = {
  generic:
    'O(1) values: linear-recurrence a, b, h0 ∈ [−1, 1); prefix-sum x ∈ [−1, 1); selective-scan as mamba_ssm tests ' +
    '(A ∈ [−1, 0), delta, deltaBias ∈ [0, ½), z ∈ [−2, 2), the rest ∈ [−1, 1)); lti-ssm Abar ∈ [0, 1), the rest ∈ [−1, 1).',
  'decay-near-1':
    'Long memory: decays in [1 − 10⁻³, 1). selective-scan: A ∈ [−1, −½), Δ\' ∈ [10⁻⁴, 10⁻³] (delta placed below ' +
    'the softplus knee when deltaSoftplus), so Ā = exp(Δ\'·A) ∈ (1 − 10⁻³, 1). Errors that compound over t show here.',
  'decay-near-0':
    'Reset: decays in [0, 10⁻³). selective-scan: A ∈ [−20, −5), delta ∈ [5, 15), so Δ\'·A ≤ −25 and Ā underflows ' +
    'float32 to 0 for most elements while float64 keeps it; the state forgets its past at every step.',
  zeros:
    'Generic values with exact zeros sprinkled in: a and b (¼ each) and h0 (½); x (¼); selective-scan A (⅛, so Ā = 1), ' +
    'delta, B and u (¼ each); lti-ssm Abar, Bbar and u (¼ each). Catches 0·Inf, log(0) and division tricks.',
  oscillating: 'Negative decays a, Abar ∈ (−1, 0): the state alternates sign, which log-space scans cannot represent.',
  tiny:
    'Float32 normals far below 1 (|v| ∈ [2⁻¹¹⁰, 2⁻⁹⁰)) in the additive inputs (b, h0, x, u), decays generic: ' +
    'products decay towards the subnormal range.',
  huge:
    'Float32 values far above 1 (|v| ∈ [2⁸⁰, 2⁹⁰)) in the additive inputs (b, h0, x, u), decays generic; outputs stay ' +
    'below 2¹²⁰ for L·N ≤ 2²⁰, inside float32 range.',
  subnormal:
    'Float32 subnormals (|v| < 2⁻¹²⁶) in the additive inputs (b, h0, x, u), decays generic: flush-to-zero hardware ' +
    'and fast-math kernels lose them.',
  'dyadic-exact':
    'Values whose every intermediate in every +/× evaluation order is exact in float32 (a ∈ {0, ±½, ±1} with a ' +
    'budget of halves, small integers elsewhere; selective-scan with Ā ∈ {0, 1} and no z; lti-ssm Abar ∈ {0, ±1}), ' +
    'so every correct implementation matches the reference exactly, bit for bit up to the sign of zero (FFT evaluation excepted).',
  'softplus-threshold':
    'selective-scan with deltaSoftplus: delta + deltaBias placed exactly on 19.9, 20, 20.1, the float32 neighbours of ' +
    '20, or uniformly in [19.8, 20.2): both sides of PyTorch\'s softplus threshold (x > 20 passes x through). With ' +
    'request.expOverflow (generated cases), half of them in [88, 104) instead, where exp overflows float32.',
  'identity-padding':
    'A generic problem followed, in processing order, by identity steps (a = 1, b = 0; x = 0; lti-ssm u = 0; ' +
    'selective-scan Δ\' = 0, u = 0): outputs at the original positions and the last state equal the unpadded ' +
    'problem\'s. Padding goes at the end, or at the start for reverse; see appendIdentityPadding.',
};

// ------------------------------------------------------------------ each family's models

/** How each input is drawn, whatever the family (FamilyRegimes with its input names widened to strings). */
type Model = Readonly<Record<string, TensorDraw>>;

/** A family's value regimes read by name (spec/family-regimes.ts#FamilyRegimes, its types widened). */
interface AnyFamilyRegimes {
  readonly drawOrder: readonly string[];
  readonly generic: Model;
  readonly regimes: { readonly [R in OwnRegimeName]: Partial<Model> | ((request: SampleRequest) => Partial<Model> | string) | string };
  readonly identityStep: {
    readonly fills: Readonly<Record<string, number | ((row: number, inputs: Readonly<Record<string, Tensor>>) => number) | undefined>>;
    readonly absentOtherwise?: string;
    readonly none?: string;
    readonly admit?: (inputs: Readonly<Record<string, Tensor>>) => Readonly<Record<string, Tensor>> | undefined;
  };
}

/** The value regimes of a family, read by name. */
function regimesOf(family: FamilyName): AnyFamilyRegimes {
  return familyRegimesOf(family) as unknown as AnyFamilyRegimes;
}

/** Why a family does not apply to a regime at all, or undefined when it does (or depends on the request). */
function exclusion(regime: RegimeName, family: FamilyName): string | undefined {
  if (regime === 'identity-padding') return regimesOf(family).identityStep.none;
  if (regime === 'generic') return undefined;
  const entry = regimesOf(family).regimes[regime];
  return typeof entry === 'string' ? entry : undefined;
}

/** Why a family has no identity step under any option, or undefined when it has one under some. */
export function identityStepNever(family: FamilyName): string | undefined {
  return regimesOf(family).identityStep.none;
}

/**
 * Why a problem with these options has no identity step (the options its descriptor's
 * identityStepNeeds rules out), or undefined when it has one.
 */
function identityStepAbsence(family: FamilyName, options: object): string | undefined {
  const none = regimesOf(family).identityStep.none;
  if (none !== undefined) return none;
  const needs = (descriptorOf(family).identityStepNeeds ?? {}) as Readonly<Record<string, boolean>>;
  const given = options as Readonly<Record<string, boolean>>;
  const broken = Object.keys(needs).filter((name) => given[name] !== needs[name]);
  if (broken.length === 0) return undefined;
  return regimesOf(family).identityStep.absentOtherwise ?? `${family} has no identity step with ${broken.map((name) => `${name} = ${String(given[name])}`).join(', ')}`;
}

/** The model a regime gives a request, or the reason it cannot. */
function modelOf(regime: RegimeName, request: SampleRequest): Model | string {
  const table = regimesOf(request.family);
  if (regime === 'generic') return table.generic;
  if (regime === 'identity-padding') return identityStepAbsence(request.family, request.options) ?? table.generic;
  const entry = table.regimes[regime];
  const changes = typeof entry === 'function' ? entry(request) : entry;
  if (typeof changes === 'string') return changes;
  // The compiler checks a literal's names but not those a function returns.
  const unknown = Object.keys(changes).filter((name) => !(name in table.generic));
  if (unknown.length > 0) throw new Error(`spec/families/${request.family}/regimes.ts: regime ${regime}: expected inputs of ${request.family}, got ${unknown.join(', ')}`);
  return { ...table.generic, ...changes } as Model;
}

// Every family draws each of its inputs once: its draw order lists exactly its descriptor's inputs.
for (const family of FAMILY_NAMES) {
  const order = [...regimesOf(family).drawOrder].sort().join(', ');
  const inputs = descriptorOf(family).inputs.map((input) => input.name as string).sort().join(', ');
  if (order !== inputs) throw new Error(`spec/families/${family}/regimes.ts: drawOrder: expected each of ${inputs} once, got ${order}`);
}

// ------------------------------------------------------------------ the sampler

/** Checks a request's sizes, switches and layouts against its family; throws SampleRequestError. */
function checkRequest(request: SampleRequest): void {
  const { family, dims } = request;
  if (!(FAMILY_NAMES as readonly string[]).includes(family)) throw new SampleRequestError(`family: expected one of ${FAMILY_NAMES.join(', ')}, got ${String(family)}`);
  for (const key of ['batch', 'dim', 'length'] as const) {
    const value = dims[key];
    if (!Number.isSafeInteger(value) || value < 0) throw new SampleRequestError(`dims.${key}: expected a non-negative integer, got ${String(value)}`);
  }
  if (hasStateSize(family)) {
    const N = dims.stateSize;
    if (N === undefined || !Number.isSafeInteger(N) || N < 1) throw new SampleRequestError(`dims.stateSize: expected an integer ≥ 1 for ${family}, got ${String(N)}`);
  }
  if (hasAxis(family, 'angles')) {
    // Each rotary angle turns a pair of state entries (spec/validate.ts, expectRotaryPairs).
    const N = dims.stateSize ?? 1;
    if (N % 2 !== 0) throw new SampleRequestError(`dims.stateSize: expected an even integer for ${family} (rotary pairs), got ${N}`);
    const A = dims.angles ?? 1;
    if (!Number.isSafeInteger(A) || A < 1 || 2 * A > N) throw new SampleRequestError(`dims.angles: expected an integer A with 1 ≤ A ≤ stateSize/2 = ${N / 2} for ${family}, got ${String(A)}`);
  }
  for (const [name, on] of Object.entries(request.optionalInputs ?? {})) {
    if (on && !(OPTIONAL_INPUTS[family] as readonly string[]).includes(name)) {
      const known = OPTIONAL_INPUTS[family].length === 0 ? 'none' : OPTIONAL_INPUTS[family].join(', ');
      throw new SampleRequestError(`optionalInputs.${name}: ${family} has no such input (its optional inputs: ${known})`);
    }
  }
  if (request.projections !== undefined && !hasProjectionLayouts(family)) {
    const withLayouts = familiesWhere(hasProjectionLayouts);
    throw new SampleRequestError(`projections: only ${withLayouts.join(', ')} has B/C layouts, got a request for ${family}`);
  }
  const kinds = [request.projections?.B, request.projections?.C];
  for (const kind of kinds) {
    if (kind !== undefined && !PROJECTION_KINDS.includes(kind)) throw new SampleRequestError(`projections: expected one of ${PROJECTION_KINDS.join(', ')}, got ${String(kind)}`);
  }
  if (request.expOverflow === true && request.regime !== 'softplus-threshold') {
    throw new SampleRequestError(`expOverflow: only the softplus-threshold regime reads it, got a request for regime '${String(request.regime)}'`);
  }
  if (hasHeads(family)) {
    const H = dims.heads;
    if (H === undefined || !Number.isSafeInteger(H) || H < 1 || dims.dim % H !== 0) {
      throw new SampleRequestError(`dims.heads: expected an integer ≥ 1 dividing dim=${dims.dim} for ${family}, got ${String(H)}`);
    }
    const G = dims.groups;
    if (G === undefined || !Number.isSafeInteger(G) || G < 1 || H % G !== 0) {
      throw new SampleRequestError(`dims.groups: expected an integer ≥ 1 dividing heads=${H} for ${family}, got ${String(G)}`);
    }
  }
  for (const name of request.alternateShapes ?? []) {
    const input = descriptorOf(family).inputs.find((i) => i.name === name);
    if (input?.alternateAxes === undefined) {
      const withAlternates = descriptorOf(family).inputs.filter((i) => i.alternateAxes !== undefined).map((i) => i.name);
      throw new SampleRequestError(`alternateShapes: ${family} has no input '${name}' with a second shape (those it has: ${withAlternates.join(', ') || 'none'})`);
    }
  }
  if (kinds.includes('grouped')) {
    const G = dims.groups;
    if (G === undefined || !Number.isSafeInteger(G) || G < 1 || dims.dim % G !== 0) {
      throw new SampleRequestError(`dims.groups: expected an integer ≥ 1 dividing dim=${dims.dim} for a grouped B or C, got ${String(G)}`);
    }
  }
}

/**
 * Shape of each input of a request's family (optional ones included), from its role: a sequence is
 * (batch, dim, L); a parameter (dim), or (dim, N) with a state axis; a projection by its layout
 * (time-varying when the request names none); a state (batch, dim), or (batch, dim, N).
 */
function inputShapes(request: SampleRequest): Readonly<Record<string, readonly number[]>> {
  const { batch, dim, length: L } = request.dims;
  const N = request.dims.stateSize ?? 1;
  const G = request.dims.groups ?? 1;
  const layouts = (request.projections ?? {}) as Readonly<Record<string, ProjectionKind | undefined>>;
  const shapes: Record<string, readonly number[]> = {};
  const sizes = { batch, dim, length: L, stateSize: N, groups: G, heads: request.dims.heads ?? 1, angles: request.dims.angles ?? 1 };
  for (const input of descriptorOf(request.family).inputs) {
    if (input.axes !== undefined) {
      const alternate = input.alternateAxes !== undefined && (request.alternateShapes ?? []).includes(input.name);
      shapes[input.name] = shapeOfAxes(alternate ? input.alternateAxes! : input.axes, sizes);
      continue;
    }
    switch (input.role) {
      case 'sequence':
        shapes[input.name] = [batch, dim, L];
        break;
      case 'parameter':
        shapes[input.name] = input.perState === true ? [dim, N] : [dim];
        break;
      case 'projection': {
        const kind = layouts[input.name];
        shapes[input.name] = kind === 'time-invariant' ? [dim, N] : kind === 'grouped' ? [batch, G, N, L] : [batch, N, L];
        break;
      }
      case 'state':
        shapes[input.name] = hasStateSize(request.family) ? [batch, dim, N] : [batch, dim];
        break;
      case 'segments':
        shapes[input.name] = [batch, L];
        break;
    }
  }
  return shapes;
}

/** Draws the inputs of `request` from `model`, in the family's draw order. */
function drawInputs<F extends FamilyName>(request: SampleRequest<F>, model: Model, uniform: Uniform): Problem<F> {
  const shapes = inputShapes(request);
  const optional = OPTIONAL_INPUTS[request.family] as readonly string[];
  const switches = (request.optionalInputs ?? {}) as Readonly<Record<string, boolean | undefined>>;
  const drawn: Record<string, Float32Array> = {};
  const inputs: Record<string, Tensor> = {};
  for (const name of regimesOf(request.family).drawOrder) {
    if (optional.includes(name) && switches[name] !== true) continue;
    const draw = model[name];
    if (draw === undefined) throw new Error(`spec/families/${request.family}/regimes.ts: regime ${request.regime} has no draw for input ${name}`);
    const shape = shapes[name];
    drawn[name] = draw(uniform, shape, drawn);
    inputs[name] = { data: drawn[name], shape: [...shape] };
  }
  return { family: request.family, inputs: inputs as unknown as InputsOf<F>, options: { ...request.options } };
}

/** How many identity steps the identity-padding regime appends to a problem of length L; one draw. */
function paddingCount(length: number, uniform: Uniform): number {
  const draw = uniform();
  if (length === 0) return 0;
  return Math.min(length, 1 + Math.floor(draw * Math.max(1, Math.floor(length / 2))));
}

/** The regime of a name, with the families it applies to read from their tables. */
function buildRegime(name: RegimeName): Regime {
  const excluded: { [F in FamilyName]?: string } = {};
  for (const family of FAMILY_NAMES) {
    const reason = exclusion(name, family);
    if (reason !== undefined) excluded[family] = reason;
  }
  const families = FAMILY_NAMES.filter((family) => excluded[family] === undefined);
  const sample = <F extends FamilyName>(request: SampleRequest<F>, uniform: Uniform): Problem<F> => {
    checkRequest(request);
    if (request.regime !== name) {
      throw new SampleRequestError(`regime: this sampler draws '${name}', the request asks for '${request.regime}'`);
    }
    const model = modelOf(name, request);
    if (typeof model === 'string') {
      throw new RegimeNotApplicableError(`regime '${name}' cannot sample this ${request.family} problem: ${model}`);
    }
    if (name !== 'identity-padding') return drawInputs(request, model, uniform);
    // The count comes first in the draw order; the body is a generic problem of the remaining length.
    const count = paddingCount(request.dims.length, uniform);
    const body = drawInputs({ ...request, dims: { ...request.dims, length: request.dims.length - count } }, model, uniform);
    return appendIdentityPadding(admitIdentityStep(body), count);
  };
  return { name, description: DESCRIPTIONS[name], families, excluded, sample };
}

/** Every regime, in REGIME_NAMES order. */
export const REGIMES: readonly Regime[] = REGIME_NAMES.map(buildRegime);

/** The regime of a name. */
export function regimeByName(name: RegimeName): Regime {
  const regime = REGIMES.find((r) => r.name === name);
  if (regime === undefined) throw new SampleRequestError(`regime: expected one of ${REGIME_NAMES.join(', ')}, got ${String(name)}`);
  return regime;
}

/** The regimes that apply to a family. */
export function regimesFor(family: FamilyName): readonly Regime[] {
  return REGIMES.filter((r) => r.families.includes(family));
}

/**
 * Why the request's regime cannot sample it (family, options, optional inputs or size), or
 * undefined when sampleProblem will succeed; throws SampleRequestError for a malformed request.
 */
export function regimeRestriction(request: SampleRequest): string | undefined {
  checkRequest(request);
  if (!isRegimeName(request.regime)) throw new SampleRequestError(`regime: expected one of ${REGIME_NAMES.join(', ')}, got ${String(request.regime)}`);
  const model = modelOf(request.regime, request);
  return typeof model === 'string' ? model : undefined;
}

/**
 * Draws a problem of `request.regime` using only `uniform()`, in the fixed draw order, every value
 * float32. Throws SampleRequestError for a malformed request and RegimeNotApplicableError where the
 * regime does not apply (regimeRestriction says why beforehand).
 */
export function sampleProblem<F extends FamilyName>(request: SampleRequest<F>, uniform: Uniform): Problem<F> {
  return regimeByName(request.regime).sample(request, uniform);
}

// ------------------------------------------------------------------ identity padding

/**
 * Where identity steps go so they come last in processing order: 'start' when a directional
 * option (reverse) is on, 'end' otherwise.
 */
export function identityPaddingPlacement(problem: Problem): 'start' | 'end' {
  const options = problem.options as Readonly<Record<string, boolean>>;
  return directionalOptionNames(problem.family).some((name) => options[name] === true) ? 'start' : 'end';
}

/**
 * The problem with the inputs its family's identity step needs replaced (ssd: a dtLimit widened to
 * contain 0), or itself when it has an identity step already; deterministic, draws nothing.
 */
export function admitIdentityStep<F extends FamilyName>(problem: Problem<F>): Problem<F> {
  const inputs = problem.inputs as unknown as Readonly<Record<string, Tensor>>;
  const admitted = regimesOf(problem.family).identityStep.admit?.(inputs);
  return admitted === undefined ? problem : { ...problem, inputs: { ...inputs, ...admitted } as unknown as InputsOf<F> };
}

/**
 * The same problem with `count` identity steps after it in processing order (see
 * identityPaddingPlacement): every input with a time axis (sequences, time-varying projections)
 * takes its family's identity-step value (spec/families/<name>/regimes.ts: linear-recurrence a = 1,
 * b = 0; prefix-sum x = 0; lti-ssm u = 0; selective-scan Δ' = 0, u = z = 0, zero B, C columns),
 * the others are kept. Outputs at the original positions and the last state are unchanged. Throws
 * RegimeNotApplicableError under options that have no identity step (selective-scan's deltaSoftplus).
 */
export function appendIdentityPadding<F extends FamilyName>(problem: Problem<F>, count: number): Problem<F> {
  if (!Number.isSafeInteger(count) || count < 0) throw new SampleRequestError(`count: expected a non-negative integer, got ${String(count)}`);
  const family: FamilyName = problem.family;
  const absence = identityStepAbsence(family, problem.options);
  if (absence !== undefined) throw new RegimeNotApplicableError(`appendIdentityPadding: this ${family} problem has no identity step (${absence})`);
  const atStart = identityPaddingPlacement(problem) === 'start';
  const { fills } = regimesOf(family).identityStep;
  const inputs = problem.inputs as unknown as Readonly<Record<string, Tensor>>;
  const admitted = regimesOf(family).identityStep.admit?.(inputs);
  if (admitted !== undefined) {
    throw new RegimeNotApplicableError(`appendIdentityPadding: this ${family} problem has no identity step until ${Object.keys(admitted).join(', ')} change (admitIdentityStep first)`);
  }
  const padded = Object.fromEntries(
    Object.entries(inputs).map(([name, t]) => {
      const axis = t === undefined ? -1 : timeAxisOf(family, name, t.shape);
      if (t === undefined || axis < 0) return [name, t];
      const fill = fills[name];
      if (fill === undefined) throw new Error(`spec/families/${family}/regimes.ts: identityStep.fills: expected a value for ${name}, which has a time axis, got none`);
      return [name, padAxis(t, axis, count, atStart, typeof fill === 'number' ? () => fill : (row) => fill(row, inputs))];
    }),
  );
  return { ...problem, inputs: padded as unknown as InputsOf<F> };
}
