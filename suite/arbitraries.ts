/**
 * fast-check arbitraries of scan problems, per family and regime. A case is a sample request
 * (regime, sizes, options, optional inputs, layouts) plus a value seed; the values come from
 * spec/regimes.ts#sampleProblem, the same sampler the fixtures use. Shrinking shortens L (towards
 * the dangerous small lengths), drops batch, dim and N to 1, turns options and optional inputs
 * off and the seed to 0, so counterexamples end on tiny cases.
 */
import fc from 'fast-check';
import seedrandom from 'seedrandom';
import { DEFAULT_OPTIONS, type FamilyName, type OptionsOf, type Problem } from '../spec/families.ts';
import {
  OPTIONAL_INPUTS,
  PROJECTION_KINDS,
  regimeRestriction,
  regimesFor,
  sampleProblem,
  type OptionalInputSwitches,
  type ProjectionKind,
  type RegimeName,
  type SampleRequest,
} from '../spec/regimes.ts';

/** Lengths where scan kernels break: 0, 1, 2^k and 2^k ± 1, common chunk sizes ± 1. */
export const DANGEROUS_LENGTHS: readonly number[] = [
  0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257, 511, 512, 513, 1000,
  1023, 1024, 1025, 2047, 2048, 2049, 4095, 4096, 4097,
];

/** Constraints of a case arbitrary; every field is optional and documents its default. */
export interface CaseConstraints<F extends FamilyName> {
  /** Regimes to draw from (default: every regime that applies to the family). */
  readonly regimes?: readonly RegimeName[];
  /** Longest L (default 300). */
  readonly maxLength?: number;
  /** Largest batch (default 2), dim (default 3), N (default 4). */
  readonly maxBatch?: number;
  readonly maxDim?: number;
  readonly maxStateSize?: number;
  /** Option values to fix (default: each drawn). */
  readonly options?: Partial<OptionsOf<F>>;
  /** Optional inputs to fix on or off (default: each drawn). */
  readonly optionalInputs?: OptionalInputSwitches;
  /** B/C layouts to draw from (default: all three). */
  readonly projections?: readonly ProjectionKind[];
  /** selective-scan: false never draws the time-invariant (convolution) cases (default: a quarter of cases). */
  readonly timeInvariant?: boolean;
}

/** A generated case: what was asked of the sampler, the seed of its values, and the problem. */
export interface GeneratedCase<F extends FamilyName> {
  readonly request: SampleRequest<F>;
  readonly valueSeed: number;
  /** selective-scan only: Δ made constant over time (with time-invariant B, C and no h0), a convolution. */
  readonly timeInvariant: boolean;
  readonly problem: Problem<F>;
}

/** Lengths up to max, biased to the dangerous ones; shrinks towards 0. */
export function lengthArbitrary(maxLength: number): fc.Arbitrary<number> {
  const dangerous = DANGEROUS_LENGTHS.filter((L) => L <= maxLength);
  // An index into the ascending list, not constantFrom: integers shrink through every smaller
  // index, constantFrom only towards the first value (L = 0, where no bug shows).
  const dangerousLength = fc.integer({ min: 0, max: dangerous.length - 1 }).map(
    (i) => dangerous[i],
    (L) => {
      const i = dangerous.indexOf(L as number);
      if (i < 0) throw new Error('not a dangerous length');
      return i;
    },
  );
  return fc.oneof(
    { arbitrary: dangerousLength, weight: 3 },
    { arbitrary: fc.integer({ min: 0, max: maxLength }), weight: 1 },
  );
}

/** A uniform source in [0, 1) from a value seed; the same seed gives the same problem everywhere. */
export function uniformFromSeed(seed: number): () => number {
  return seedrandom(`scan-conformance:${seed}`);
}

/** Rebuilds a case's problem from its request and value seed (replay). */
export function problemOfCase<F extends FamilyName>(request: SampleRequest<F>, valueSeed: number, timeInvariant = false): Problem<F> {
  const problem = sampleProblem(request, uniformFromSeed(valueSeed));
  return timeInvariant ? withConstantDelta(problem) : problem;
}

/**
 * A selective scan with each channel's delta held at its first value over time: with
 * time-invariant B and C and no h0 it is a convolution (what FFT implementations accept).
 */
export function withConstantDelta<F extends FamilyName>(problem: Problem<F>): Problem<F> {
  if (problem.family !== 'selective-scan') return problem;
  const scan = problem as unknown as Problem<'selective-scan'>;
  const { delta } = scan.inputs;
  const L = delta.shape[2];
  const data = delta.data.slice();
  for (let i = 0; i < data.length; i++) data[i] = delta.data[i - (i % L)];
  return { ...problem, inputs: { ...scan.inputs, delta: { data, shape: delta.shape } } } as unknown as Problem<F>;
}

/** Thrown when a filtered arbitrary can produce no case: the cell's restrictions exclude them all. */
export class NoCaseError extends Error {
  override readonly name = 'NoCaseError';
}

/**
 * A filter that gives up, with a NoCaseError saying why, after `limit` consecutive rejections:
 * fast-check's own filter retries forever when nothing can pass.
 */
export function boundedFilter<T>(arbitrary: fc.Arbitrary<T>, predicate: (value: T) => boolean, what: string, limit = 5000): fc.Arbitrary<T> {
  let rejected = 0;
  return arbitrary.filter((value) => {
    if (predicate(value)) {
      rejected = 0;
      return true;
    }
    if (++rejected >= limit) throw new NoCaseError(`no case satisfies ${what} (${limit} candidates in a row rejected)`);
    return false;
  });
}

/** Divisors of n, ascending. */
function divisors(n: number): number[] {
  const out: number[] = [];
  for (let k = 1; k <= n; k++) if (n % k === 0) out.push(k);
  return out;
}

/** Arbitrary cases of a family: a sample request the regime can serve, a seed, and its problem. */
export function caseArbitrary<F extends FamilyName>(family: F, constraints: CaseConstraints<F> = {}): fc.Arbitrary<GeneratedCase<F>> {
  const regimes = constraints.regimes ?? regimesFor(family).map((r) => r.name);
  if (regimes.length === 0) throw new RangeError(`caseArbitrary: no regime applies to ${family}`);
  const optionNames = Object.keys(DEFAULT_OPTIONS[family]);
  const fixedOptions = (constraints.options ?? {}) as Readonly<Record<string, boolean>>;
  const switchNames = OPTIONAL_INPUTS[family];
  const fixedSwitches = (constraints.optionalInputs ?? {}) as Readonly<Record<string, boolean>>;
  const booleanFor = (fixed: boolean | undefined) => (fixed === undefined ? fc.boolean() : fc.constant(fixed));
  const projections = constraints.projections ?? PROJECTION_KINDS;
  const hasState = family === 'selective-scan' || family === 'lti-ssm';

  const requests = fc
    .record({
      regime: fc.constantFrom(...regimes),
      length: lengthArbitrary(constraints.maxLength ?? 300),
      batch: fc.integer({ min: 1, max: constraints.maxBatch ?? 2 }),
      dim: fc.integer({ min: 1, max: constraints.maxDim ?? 3 }),
      stateSize: hasState ? fc.integer({ min: 1, max: constraints.maxStateSize ?? 4 }) : fc.constant(1),
      groupChoice: fc.nat({ max: 7 }),
      options: fc.record(Object.fromEntries(optionNames.map((name) => [name, booleanFor(fixedOptions[name])]))),
      switches: fc.record(Object.fromEntries(switchNames.map((name) => [name, booleanFor(fixedSwitches[name])]))),
      layoutB: fc.constantFrom(...projections),
      layoutC: fc.constantFrom(...projections),
      // A quarter of selective scans are convolutions in disguise, so FFT implementations get cases too.
      timeInvariant:
        family === 'selective-scan' && constraints.timeInvariant !== false
          ? fc.oneof({ arbitrary: fc.constant(false), weight: 3 }, { arbitrary: fc.constant(true), weight: 1 })
          : fc.constant(false),
      valueSeed: fc.nat({ max: 2 ** 31 - 1 }),
    })
    .map(({ regime, length, batch, dim, stateSize, groupChoice, options, switches, layoutB, layoutC, timeInvariant, valueSeed }) => {
      const groupOptions = divisors(dim);
      const request: SampleRequest<F> = {
        family,
        regime,
        dims: { batch, dim, length, stateSize, groups: groupOptions[groupChoice % groupOptions.length] },
        options: options as unknown as OptionsOf<F>,
        optionalInputs: timeInvariant ? { ...switches, h0: false } : switches,
        ...(family === 'selective-scan'
          ? { projections: timeInvariant ? { B: 'time-invariant' as const, C: 'time-invariant' as const } : { B: layoutB, C: layoutC } }
          : {}),
      };
      return { request, valueSeed, timeInvariant };
    });
  return boundedFilter(requests, ({ request }) => regimeRestriction(request) === undefined, `the regimes [${regimes.join(', ')}] for ${family} with these options`)
    .map(({ request, valueSeed, timeInvariant }) => ({ request, valueSeed, timeInvariant, problem: problemOfCase(request, valueSeed, timeInvariant) }));
}
