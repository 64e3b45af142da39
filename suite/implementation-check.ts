/**
 * Validation of an implementation's declaration when it loads (a module given by --impl, one
 * registered under implementations/, describeConformance's argument), so that a typo'd family
 * key, a precision the suite does not know or a missing run is a named error before anything
 * runs, not a green run of zero cells or a TypeError deep in the tolerance model.
 */
import { chunkSizesProblems } from '../spec/chunk-sizes.ts';
import type { SpecValidationFailure } from '../spec/errors.ts';
import { DEFAULT_OPTIONS, FAMILY_NAMES, isFamilyName, type FamilyName } from '../spec/families.ts';
import type { ScanImplementation } from '../spec/implementation.ts';
import { PRECISIONS, UNIT_ROUNDOFF, isPrecision, type Precision } from '../spec/precision.ts';
import { REGIME_NAMES, regimesFor } from '../spec/regimes.ts';
import { describeValue } from '../spec/validate.ts';
import { PROPERTY_NAMES } from './results.ts';

/**
 * Thrown for an implementation whose declaration does not follow spec/implementation.ts: it
 * names the implementation, and lists every problem (field, what was expected, what came).
 */
export class InvalidImplementationError extends Error {
  override readonly name = 'InvalidImplementationError';
  /** The implementation's name when it has one, else where it came from. */
  readonly implementation: string;
  readonly problems: readonly SpecValidationFailure[];

  constructor(implementation: string, where: string, problems: readonly SpecValidationFailure[]) {
    const lines = problems.map((p) => `  ${p.field}: expected ${p.expected}, got ${p.actual}`);
    super(`implementation ${implementation}${where === '' ? '' : ` (${where})`} is invalid, ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${lines.join('\n')}`);
    this.implementation = implementation;
    this.problems = problems;
  }
}

const ERROR_MODELS = ['componentwise', 'normwise'] as const;
const SUBNORMALS = ['preserve', 'flush'] as const;
const EXPECTED_FAILURE_KEYS = ['family', 'property', 'regime', 'options', 'reason'] as const;
/** The fields of a family entry (spec/implementation.ts#FamilyImplementation). */
const ENTRY_KEYS = ['run', 'decline', 'step', 'vjp', 'errorModel', 'chunkSizes', 'runVarlen'] as const;

/**
 * Checks that a value is a ScanImplementation the suite can run, and returns it typed; throws
 * InvalidImplementationError listing every problem. `where` says where it came from (a module
 * path, 'describeConformance'), for the message.
 */
export function validateImplementation(value: unknown, where = ''): ScanImplementation {
  const problems: SpecValidationFailure[] = [];
  const problem = (field: string, expected: string, actual: string) => problems.push({ context: '', field, expected, actual });
  if (!isObject(value)) {
    problem('implementation', 'an object { name, precision, families, … } (a ScanImplementation)', describeValue(value));
    throw new InvalidImplementationError('(unnamed)', where, problems);
  }
  const name = value.name;
  if (typeof name !== 'string' || name.trim() === '') problem('name', 'a non-empty string', describeValue(name));
  const precisions = PRECISIONS.map((p) => `'${p}'`).join(', ');
  if (!isPrecision(value.precision)) problem('precision', `one of ${precisions}${suggestion(value.precision, PRECISIONS)}`, describeValue(value.precision));
  if (value.accumulation !== undefined && !isPrecision(value.accumulation)) {
    problem('accumulation', `absent or one of ${precisions}${suggestion(value.accumulation, PRECISIONS)}`, describeValue(value.accumulation));
  } else if (value.accumulation !== undefined && isPrecision(value.precision) && UNIT_ROUNDOFF[value.accumulation] > UNIT_ROUNDOFF[value.precision]) {
    // The tolerance reads accumulation as the wider arithmetic of a narrower storage; a narrower one would be ignored.
    const wider = PRECISIONS.filter((p) => UNIT_ROUNDOFF[p] <= UNIT_ROUNDOFF[value.precision as Precision]).map((p) => `'${p}'`).join(', ');
    problem('accumulation', `absent or at least as wide as precision '${value.precision}' (${wider})`, describeValue(value.accumulation));
  }
  if (value.subnormals !== undefined && !(SUBNORMALS as readonly unknown[]).includes(value.subnormals)) {
    problem('subnormals', `absent, 'preserve' or 'flush'`, describeValue(value.subnormals));
  }
  if (value.description !== undefined && typeof value.description !== 'string') problem('description', 'absent or a string', describeValue(value.description));
  for (const method of ['setup', 'dispose', 'environment'] as const) {
    if (value[method] !== undefined && typeof value[method] !== 'function') problem(method, 'absent or a function', describeValue(value[method]));
  }
  const families = checkFamilies(value.families, problem);
  checkExpectedFailures(value.expectedFailures, families, problem);
  if (problems.length > 0) throw new InvalidImplementationError(typeof name === 'string' && name !== '' ? `'${name}'` : '(unnamed)', where, problems);
  return value as unknown as ScanImplementation;
}

type Report = (field: string, expected: string, actual: string) => void;

/** Checks `families`; returns the valid family keys it declares. */
function checkFamilies(families: unknown, problem: Report): FamilyName[] {
  const familyList = FAMILY_NAMES.map((f) => `'${f}'`).join(', ');
  if (!isObject(families)) {
    problem('families', `an object keyed by family (${familyList})`, describeValue(families));
    return [];
  }
  const declared: FamilyName[] = [];
  for (const [key, entry] of Object.entries(families)) {
    // A key whose value is undefined counts as absent, as an optional input does (spec/README.md).
    if (entry === undefined) continue;
    const field = `families['${key}']`;
    if (!isFamilyName(key)) {
      problem(field, `a family key, one of ${familyList}${suggestion(key, FAMILY_NAMES)}`, `key '${key}'`);
      continue;
    }
    declared.push(key);
    if (!isObject(entry)) {
      problem(field, 'an object { run, step?, decline?, vjp?, errorModel?, chunkSizes? }', describeValue(entry));
      continue;
    }
    if (typeof entry.run !== 'function') problem(`${field}.run`, 'a function (problem) => Promise<outputs>', entry.run === undefined ? 'undefined (missing)' : describeValue(entry.run));
    for (const method of ['step', 'decline', 'vjp'] as const) {
      if (entry[method] !== undefined && typeof entry[method] !== 'function') problem(`${field}.${method}`, 'absent or a function', describeValue(entry[method]));
    }
    // ssd's variable-length form exists on ssd only: elsewhere it would be silently never run.
    if (entry.runVarlen !== undefined) {
      if (key !== 'ssd') problem(`${field}.runVarlen`, "absent: only ssd has a variable-length form (runVarlen)", describeValue(entry.runVarlen));
      else if (typeof entry.runVarlen !== 'function') problem(`${field}.runVarlen`, 'absent or a function (problem, settings?) => Promise<{ y, finalStates }>', describeValue(entry.runVarlen));
    }
    if (entry.errorModel !== undefined && !(ERROR_MODELS as readonly unknown[]).includes(entry.errorModel)) {
      problem(`${field}.errorModel`, `absent, 'componentwise' or 'normwise'${suggestion(entry.errorModel, ERROR_MODELS)}`, describeValue(entry.errorModel));
    }
    // A size that is not one would reach run(); a chunkSizes that is not a list would leave the chunk-size property not applicable.
    if (entry.chunkSizes !== undefined) {
      for (const p of chunkSizesProblems(entry.chunkSizes, describeValue)) problem(`${field}.chunkSizes${p.index === undefined ? '' : `[${p.index}]`}`, p.expected, p.actual);
    }
    // A typo ('chunkSize', 'Step') would be an entry point or declaration silently never used. An
    // entry made by a class keeps its own state in fields: only plain objects are held to the list.
    if (Object.getPrototypeOf(entry) === Object.prototype) {
      for (const key of Object.keys(entry)) {
        if (!(ENTRY_KEYS as readonly string[]).includes(key)) problem(`${field}.${key}`, `no such field (fields: ${ENTRY_KEYS.join(', ')})${suggestion(key, ENTRY_KEYS)}`, `key '${key}'`);
      }
    }
  }
  if (declared.length === 0 && Object.keys(families).every((k) => families[k] === undefined)) {
    problem('families', `at least one family (${familyList})`, 'an empty object');
  }
  return declared;
}

/** Checks `expectedFailures` against spec/implementation.ts#ExpectedFailure and the families declared. */
function checkExpectedFailures(entries: unknown, families: readonly FamilyName[], problem: Report): void {
  if (entries === undefined) return;
  if (!Array.isArray(entries)) {
    problem('expectedFailures', 'absent or an array of { family?, property?, regime?, options?, reason }', describeValue(entries));
    return;
  }
  entries.forEach((entry: unknown, i) => {
    const at = `expectedFailures[${i}]`;
    if (!isObject(entry)) {
      problem(at, 'an object { family?, property?, regime?, options?, reason }', describeValue(entry));
      return;
    }
    // An unknown key (a typo of 'property', say) would silently widen the entry to match every cell.
    for (const key of Object.keys(entry)) {
      if (!(EXPECTED_FAILURE_KEYS as readonly string[]).includes(key)) {
        problem(`${at}.${key}`, `no such key (keys: ${EXPECTED_FAILURE_KEYS.join(', ')})${suggestion(key, EXPECTED_FAILURE_KEYS)}`, `key '${key}'`);
      }
    }
    const family = entry.family;
    if (family !== undefined && !(isFamilyName(family) && families.includes(family))) {
      const declared = families.map((f) => `'${f}'`).join(', ') || 'none';
      problem(`${at}.family`, `absent or a family the implementation declares (${declared})${suggestion(family, families)}`, describeValue(family));
    }
    const known = isFamilyName(family) && families.includes(family) ? family : undefined;
    if (entry.property !== undefined && !(PROPERTY_NAMES as readonly unknown[]).includes(entry.property)) {
      problem(`${at}.property`, `absent or one of ${PROPERTY_NAMES.join(', ')}${suggestion(entry.property, PROPERTY_NAMES)}`, describeValue(entry.property));
    }
    if (entry.regime !== undefined) {
      const regimes: readonly string[] = known === undefined ? REGIME_NAMES : regimesFor(known).map((r) => r.name);
      if (!regimes.includes(entry.regime as string)) {
        problem(`${at}.regime`, `absent or a regime${known === undefined ? '' : ` of ${known}`} (${regimes.join(', ')})${suggestion(entry.regime, regimes)}`, describeValue(entry.regime));
      }
    }
    if (entry.options !== undefined) {
      if (!isObject(entry.options)) problem(`${at}.options`, 'absent or an object of boolean option values', describeValue(entry.options));
      else {
        const optionKeys = known === undefined ? [...new Set(FAMILY_NAMES.flatMap((f) => Object.keys(DEFAULT_OPTIONS[f])))] : Object.keys(DEFAULT_OPTIONS[known]);
        for (const [key, v] of Object.entries(entry.options)) {
          if (!optionKeys.includes(key)) problem(`${at}.options.${key}`, `an option${known === undefined ? '' : ` of ${known}`} (${optionKeys.join(', ') || 'none'})${suggestion(key, optionKeys)}`, `key '${key}'`);
          else if (typeof v !== 'boolean') problem(`${at}.options.${key}`, 'a boolean', describeValue(v));
        }
      }
    }
    if (typeof entry.reason !== 'string' || entry.reason.trim() === '') problem(`${at}.reason`, 'a non-empty string saying why it fails', describeValue(entry.reason));
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** ` (did you mean 'x'?)` for the closest candidate to a mistyped string, or '' when none is close. */
export function suggestion(value: unknown, candidates: readonly string[]): string {
  if (typeof value !== 'string' || value === '') return '';
  const normalised = (s: string) => s.toLowerCase().replace(/[_\s.]/g, '-');
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const d = editDistance(normalised(value), normalised(candidate));
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  const close = bestDistance <= Math.max(2, Math.floor(value.length / 3));
  // 'f32' for 'float32' is far by edits but plain by digits: offer the candidate with the same bit width.
  const digits = value.match(/\d+/)?.[0];
  const sameWidth = digits === undefined ? [] : candidates.filter((c) => c.match(/\d+/)?.[0] === digits);
  const byWidth = sameWidth.sort((x, y) => editDistance(normalised(value), normalised(x)) - editDistance(normalised(value), normalised(y)))[0];
  const pick = close ? best : byWidth;
  return pick === undefined || pick === value ? '' : ` (did you mean '${pick}'?)`;
}

/** Levenshtein distance. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length];
}
