/**
 * The handshake of the testee protocol (spec/protocol.md#handshake): what the runner asks, how it
 * reads the testee's self-description, and the declines that description implies.
 */
import { chunkSizesProblems } from '../spec/chunk-sizes.ts';
import { DEFAULT_OPTIONS, FAMILY_NAMES, INPUT_NAMES, OPTIONAL_INPUT_NAMES, isFamilyName, type AnyProblem, type FamilyName } from '../spec/families.ts';
import type { ErrorModel, ExpectedFailure } from '../spec/implementation.ts';
import { isPrecision, PRECISIONS, type Precision } from '../spec/precision.ts';
import { familiesWhere, hasProjectionLayouts, projectionInputNames } from '../spec/families/index.ts';
import { projectionLayout, type ProjectionLayout } from '../spec/shapes.ts';
import type { Tensor } from '../spec/tensor.ts';
import { TesteeError } from './errors.ts';
import { PROTOCOL_VERSION, type ProtocolMessage } from './messages.ts';

/** The inputs a problem may leave out, as the family descriptors declare them. */
export const OPTIONAL_INPUTS: { readonly [F in FamilyName]: readonly string[] } = OPTIONAL_INPUT_NAMES;

/** The layouts of a projection input (selective-scan's B or C), as named in handshakes. */
export const LAYOUT_NAMES: readonly ProjectionLayout['kind'][] = ['time-invariant', 'time-varying', 'grouped'];

/** What a testee computes for one family, as its handshake states it. */
export interface FamilyCapabilities {
  readonly step: boolean;
  /** Whether it answers vjp requests (the backward pass, spec/protocol.md#vjp) for this family. */
  readonly vjp: boolean;
  /** Whether it answers varlen requests (ssd's variable-length form, spec/protocol.md#varlen); ssd only. */
  readonly varlen: boolean;
  readonly errorModel?: ErrorModel;
  /** Supported values per option; an option not listed supports every value. */
  readonly options: Readonly<Record<string, readonly boolean[]>>;
  /** Optional inputs it accepts; undefined when it accepts all. */
  readonly optionalInputs?: readonly string[];
  /** selective-scan B/C layouts it accepts; undefined when it accepts all. */
  readonly layouts?: readonly ProjectionLayout['kind'][];
  /** The chunk sizes a run request may carry (FamilyImplementation.chunkSizes); undefined when it takes none. */
  readonly chunkSizes?: readonly number[];
}

/** A testee's description of itself. */
export interface TesteeDescription {
  readonly name: string;
  readonly precision: Precision;
  readonly accumulation?: Precision;
  readonly description?: string;
  readonly families: { readonly [F in FamilyName]?: FamilyCapabilities };
  readonly expectedFailures: readonly ExpectedFailure[];
  readonly environment: Readonly<Record<string, string>>;
}

/** The handshake request: always id 0. */
export function handshakeRequest(): ProtocolMessage {
  return { metadata: { protocol: PROTOCOL_VERSION, id: '0', kind: 'handshake' }, tensors: {} };
}

/** Reads a handshake answer; throws TesteeError('start') naming the field that is missing or wrong. */
export function parseHandshake(answer: ProtocolMessage): TesteeDescription {
  const m = answer.metadata;
  const fail: Fail = (field, expected, actual) => {
    throw new TesteeError('start', `handshake: ${field}: expected ${expected}, got ${actual}`);
  };
  if (m.kind === 'error') fail('kind', `'handshake'`, `an error answer: ${m.message ?? '(no message)'}`);
  if (m.protocol !== PROTOCOL_VERSION) {
    fail('protocol', `'${PROTOCOL_VERSION}' (the protocol version this runner speaks)`, m.protocol === undefined ? 'nothing' : `'${m.protocol}'`);
  }
  if (m.kind !== 'handshake') fail('kind', `'handshake'`, show(m.kind));
  if (m.id !== '0') fail('id', `'0' (the id of the handshake request)`, show(m.id));
  if (m.name === undefined || m.name.trim() === '') fail('name', 'a non-empty string', show(m.name));
  const precisionList = PRECISIONS.map((p) => `'${p}'`).join(', ');
  if (!isPrecision(m.precision)) fail('precision', `one of ${precisionList}`, show(m.precision));
  if (m.accumulation !== undefined && !isPrecision(m.accumulation)) fail('accumulation', `one of ${precisionList}`, show(m.accumulation));

  const familiesJson = parseJson('families', m.families, fail);
  if (!isRecord(familiesJson) || Object.keys(familiesJson).length === 0) {
    fail('families', `a JSON object naming at least one of ${FAMILY_NAMES.join(', ')}`, show(m.families));
  }
  const families: { [F in FamilyName]?: FamilyCapabilities } = {};
  for (const [family, value] of Object.entries(familiesJson as Record<string, unknown>)) {
    if (!isFamilyName(family)) fail(`families`, `keys from ${FAMILY_NAMES.join(', ')}`, `'${family}'`);
    families[family] = parseCapabilities(family, value, fail);
  }

  const expectedFailures = m.expectedFailures === undefined ? [] : parseExpectedFailures(parseJson('expectedFailures', m.expectedFailures, fail), fail);
  const environment: Record<string, string> = {};
  if (m.environment !== undefined) {
    const env = parseJson('environment', m.environment, fail);
    if (!isRecord(env)) fail('environment', 'a JSON object of strings', show(m.environment));
    for (const [key, value] of Object.entries(env as Record<string, unknown>)) {
      if (typeof value !== 'string') fail(`environment.${key}`, 'a string', JSON.stringify(value));
      environment[key] = value as string;
    }
  }
  return {
    name: m.name as string,
    precision: m.precision as Precision,
    ...(m.accumulation === undefined ? {} : { accumulation: m.accumulation as Precision }),
    ...(m.description === undefined ? {} : { description: m.description }),
    families,
    expectedFailures,
    environment,
  };
}

/** Why the testee, by its own handshake, cannot compute a problem; undefined when it can. */
export function declineByCapabilities(capabilities: FamilyCapabilities, problem: AnyProblem): string | undefined {
  const options = problem.options as Readonly<Record<string, boolean>>;
  for (const [option, supported] of Object.entries(capabilities.options)) {
    const value = options[option];
    if (!supported.includes(value)) {
      return `the testee supports options.${option} ∈ [${supported.join(', ')}] only (handshake); this problem has ${option}=${value}`;
    }
  }
  if (capabilities.optionalInputs !== undefined) {
    const inputs = problem.inputs as unknown as Readonly<Record<string, unknown>>;
    for (const name of OPTIONAL_INPUTS[problem.family]) {
      if (inputs[name] !== undefined && !capabilities.optionalInputs.includes(name)) {
        return `the testee accepts optional inputs [${capabilities.optionalInputs.join(', ')}] only (handshake); this problem has ${name}`;
      }
    }
  }
  if (capabilities.layouts !== undefined) {
    const inputs = problem.inputs as unknown as Readonly<Record<string, Tensor>>;
    for (const name of hasProjectionLayouts(problem.family) ? projectionInputNames(problem.family) : []) {
      const layout = projectionLayout(inputs[name].shape).kind;
      if (!capabilities.layouts.includes(layout)) {
        return `the testee accepts B/C layouts [${capabilities.layouts.join(', ')}] only (handshake); this problem's ${name} is ${layout}`;
      }
    }
  }
  return undefined;
}

type Fail = (field: string, expected: string, actual: string) => never;

function parseCapabilities(family: FamilyName, value: unknown, fail: Fail): FamilyCapabilities {
  const at = `families.${family}`;
  if (!isRecord(value)) fail(at, 'an object of capabilities (may be empty: {})', JSON.stringify(value));
  const v = value as Record<string, unknown>;
  const known = ['step', 'vjp', 'varlen', 'errorModel', 'options', 'optionalInputs', 'layouts', 'chunkSizes'];
  for (const key of Object.keys(v)) if (!known.includes(key)) fail(`${at}.${key}`, `one of the capabilities ${known.join(', ')}`, `'${key}'`);
  for (const flag of ['step', 'vjp', 'varlen'] as const) {
    if (v[flag] !== undefined && typeof v[flag] !== 'boolean') fail(`${at}.${flag}`, 'a boolean (true or false)', JSON.stringify(v[flag]));
  }
  if (v.varlen === true && family !== 'ssd') fail(`${at}.varlen`, 'nothing (only ssd has a variable-length form)', 'true');
  if (v.errorModel !== undefined && v.errorModel !== 'componentwise' && v.errorModel !== 'normwise') {
    fail(`${at}.errorModel`, `'componentwise' or 'normwise'`, JSON.stringify(v.errorModel));
  }
  const options: Record<string, boolean[]> = {};
  if (v.options !== undefined) {
    if (!isRecord(v.options)) fail(`${at}.options`, 'an object: option name → array of supported booleans', JSON.stringify(v.options));
    const familyOptions = Object.keys(DEFAULT_OPTIONS[family]);
    for (const [option, values] of Object.entries(v.options as Record<string, unknown>)) {
      if (!familyOptions.includes(option)) fail(`${at}.options.${option}`, `an option of ${family} (${familyOptions.join(', ') || 'none'})`, `'${option}'`);
      if (!Array.isArray(values) || values.length === 0 || !values.every((b) => typeof b === 'boolean')) {
        fail(`${at}.options.${option}`, 'a non-empty array of booleans', JSON.stringify(values));
      }
      options[option] = values as boolean[];
    }
  }
  const optionalInputs = v.optionalInputs === undefined ? undefined : stringList(`${at}.optionalInputs`, v.optionalInputs, OPTIONAL_INPUTS[family], fail);
  if (v.layouts !== undefined && !hasProjectionLayouts(family)) {
    fail(`${at}.layouts`, `nothing (layouts apply to ${familiesWhere(hasProjectionLayouts).join(', ')} only)`, JSON.stringify(v.layouts));
  }
  const layouts = v.layouts === undefined ? undefined : (stringList(`${at}.layouts`, v.layouts, LAYOUT_NAMES, fail) as ProjectionLayout['kind'][]);
  const chunkSizes = v.chunkSizes === undefined ? undefined : chunkSizeList(`${at}.chunkSizes`, v.chunkSizes, fail);
  return {
    step: v.step === true,
    vjp: v.vjp === true,
    varlen: v.varlen === true,
    ...(v.errorModel === undefined ? {} : { errorModel: v.errorModel as ErrorModel }),
    options,
    ...(optionalInputs === undefined ? {} : { optionalInputs }),
    ...(layouts === undefined ? {} : { layouts }),
    ...(chunkSizes === undefined ? {} : { chunkSizes }),
  };
}

function chunkSizeList(field: string, value: unknown, fail: Fail): number[] {
  const [first] = chunkSizesProblems(value, (v) => JSON.stringify(v));
  if (first !== undefined) fail(first.index === undefined ? field : `${field}[${first.index}]`, first.expected, first.actual);
  return value as number[];
}

function parseExpectedFailures(value: unknown, fail: Fail): ExpectedFailure[] {
  if (!Array.isArray(value)) fail('expectedFailures', 'a JSON array', JSON.stringify(value));
  return (value as unknown[]).map((entry, i) => {
    const at = `expectedFailures[${i}]`;
    if (!isRecord(entry)) fail(at, 'an object { family?, property?, regime?, options?, reason }', JSON.stringify(entry));
    const e = entry as Record<string, unknown>;
    if (typeof e.reason !== 'string' || e.reason === '') fail(`${at}.reason`, 'a non-empty string', JSON.stringify(e.reason));
    if (e.family !== undefined && !isFamilyName(e.family)) fail(`${at}.family`, `one of ${FAMILY_NAMES.join(', ')}`, JSON.stringify(e.family));
    for (const key of ['property', 'regime'] as const) {
      if (e[key] !== undefined && typeof e[key] !== 'string') fail(`${at}.${key}`, 'a string', JSON.stringify(e[key]));
    }
    if (e.options !== undefined && (!isRecord(e.options) || !Object.values(e.options).every((b) => typeof b === 'boolean'))) {
      fail(`${at}.options`, 'an object of booleans', JSON.stringify(e.options));
    }
    return {
      reason: e.reason as string,
      ...(e.family === undefined ? {} : { family: e.family as FamilyName }),
      ...(e.property === undefined ? {} : { property: e.property as string }),
      ...(e.regime === undefined ? {} : { regime: e.regime as string }),
      ...(e.options === undefined ? {} : { options: e.options as Record<string, boolean> }),
    };
  });
}

function stringList(field: string, value: unknown, allowed: readonly string[], fail: Fail): string[] {
  if (!Array.isArray(value) || !value.every((s) => typeof s === 'string' && allowed.includes(s))) {
    fail(field, `an array of strings from [${allowed.join(', ')}]`, JSON.stringify(value));
  }
  return value as string[];
}

function parseJson(field: string, text: string | undefined, fail: Fail): unknown {
  if (text === undefined) fail(field, 'JSON text', 'nothing');
  try {
    return JSON.parse(text as string) as unknown;
  } catch (error) {
    return fail(field, 'JSON text', `${show(text)} (${error instanceof Error ? error.message : String(error)})`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function show(value: string | undefined): string {
  if (value === undefined) return 'nothing';
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
}

// INPUT_NAMES is the list of record; the optional inputs must be among them.
for (const family of FAMILY_NAMES) {
  for (const name of OPTIONAL_INPUTS[family]) {
    if (!(INPUT_NAMES[family] as readonly string[]).includes(name)) throw new Error(`protocol/handshake.ts: optional input ${family}.${name} is not in INPUT_NAMES`);
  }
}
