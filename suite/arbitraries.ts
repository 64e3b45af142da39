/**
 * fast-check arbitraries of scan problems, per family and regime. A case is a sample request
 * (regime, sizes, options, optional inputs, layouts) plus a value seed; the values come from
 * spec/regimes.ts#sampleProblem, the same sampler the fixtures use. Shrinking shortens L (towards
 * the dangerous small lengths), drops batch, N, G and dim/G to 1, turns options and optional inputs
 * off and the seed to 0, so counterexamples end on tiny cases (a bug that needs G ≥ 2 ends on the
 * smallest such case).
 *
 * The distributions are steered to the bug classes generated cases must reach without fixtures:
 * lengths of three or more chunks of CHUNK_SIZES with a ragged tail, selective scans with grouped
 * B/C of G ≥ 2 groups of dim/G ≥ 2 channels, and (softplus-threshold) delta past float32 exp's
 * overflow. `npx tsx test/suite/generated-coverage.ts` measures the shares.
 */
import fc from 'fast-check';
import seedrandom from 'seedrandom';
import { DEFAULT_OPTIONS, type FamilyName, type OptionsOf, type Problem } from '../spec/families.ts';
import { alternateShapeInputNames, descriptorOf, hasHeads, hasProjectionLayouts, hasStateSize, inputNamesWithRole, projectionInputNames, stateInputNames } from '../spec/families/index.ts';
import type { Tensor } from '../spec/tensor.ts';
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
import { MODES } from './settings.ts';
import { inputsOf, withInputs } from './transforms.ts';

/** Lengths where scan kernels break: 0, 1, 2^k and 2^k ± 1, common chunk sizes ± 1. */
export const DANGEROUS_LENGTHS: readonly number[] = [
  0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257, 511, 512, 513, 1000,
  1023, 1024, 1025, 2047, 2048, 2049, 4095, 4096, 4097,
];

/** The usual chunk sizes of chunked and GPU scans: lengths of three or more of their chunks are drawn often. */
export const CHUNK_SIZES: readonly number[] = [32, 64, 128, 256];

/**
 * How often each regime is drawn relative to the others (default 1). softplus-threshold applies to
 * half of the selective scans only (deltaSoftplus), and its delta past exp's overflow is the only
 * source of a bug class no other regime reaches, so it is drawn 9 times as often.
 */
export const REGIME_WEIGHTS: Readonly<Partial<Record<RegimeName, number>>> = { 'softplus-threshold': 9 };

/** How often each B/C layout is drawn: grouped three times as often, for G ≥ 2 in a fair share of cases. */
const PROJECTION_WEIGHTS: Readonly<Record<ProjectionKind, number>> = { 'time-invariant': 1, 'time-varying': 1, grouped: 3 };

/** Constraints of a case arbitrary; every field is optional and documents its default. */
export interface CaseConstraints<F extends FamilyName> {
  /** Regimes to draw from (default: every regime that applies to the family). */
  readonly regimes?: readonly RegimeName[];
  /** Longest L (default 300). */
  readonly maxLength?: number;
  /** Largest batch (default 2), dim (default 3; not selective-scan, see maxGroups), N (default 4). */
  readonly maxBatch?: number;
  readonly maxDim?: number;
  readonly maxStateSize?: number;
  /**
   * selective-scan: dim = G · (dim/G) with G ≤ maxGroups (default 4) and dim/G ≤ maxGroupSize
   * (default 3); ssd: H = G · (H/G) heads alike, each of P ≤ maxHeadDim (default 3) channels.
   */
  readonly maxGroups?: number;
  readonly maxGroupSize?: number;
  /** The fewest heads (channels) per group, 1 unless set (grouped-heads asks for 2: groups shared by several heads). */
  readonly minGroupSize?: number;
  readonly maxHeadDim?: number;
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

/**
 * Lengths up to max: the dangerous ones (weight 2), three or more chunks of a CHUNK_SIZES size with a
 * ragged tail (weight 3, see chunkCrossingLength) or any (weight 1). Shrinks towards 0 within each;
 * a chunk-crossing length that a shorter one also breaks shrinks through the dangerous lengths.
 */
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
  const crossing = chunkCrossingLength(maxLength);
  return fc.oneof(
    // Cross-shrinking tries a dangerous length first, so a bug that shows on a short length ends there.
    { withCrossShrink: true },
    { arbitrary: dangerousLength, weight: 2 },
    ...(crossing === undefined ? [] : [{ arbitrary: crossing, weight: 3 }]),
    { arbitrary: fc.integer({ min: 0, max: maxLength }), weight: 1 },
  );
}

/**
 * L = k·c + r ≤ maxLength: k ∈ {2, 3} whole chunks of a chunk size c (one of the CHUNK_SIZES with
 * 2c < maxLength, the largest as often as the others together) and a ragged tail r ∈ [1, c − 1], so a kernel's third chunk exists and is
 * partial. Shrinks towards c = 32, k = 2, r = 1 (L = 65); undefined when no chunk size fits.
 */
export function chunkCrossingLength(maxLength: number): fc.Arbitrary<number> | undefined {
  const fitting = CHUNK_SIZES.filter((c) => 2 * c + 1 <= maxLength);
  if (fitting.length === 0) return undefined;
  const largest = fitting[fitting.length - 1];
  // The largest size as often as the others together: its lengths cross three chunks of every
  // smaller size too, and an index still shrinks through each smaller size.
  const sizes = [...fitting, ...fitting.slice(1).map(() => largest)];
  return fc
    .record({ size: fc.integer({ min: 0, max: sizes.length - 1 }), extraChunk: fc.boolean(), tail: fc.integer({ min: 1, max: largest - 1 }) })
    .map(({ size, extraChunk, tail }) => {
      const c = sizes[size];
      const r = 1 + ((tail - 1) % (c - 1));
      const L = (extraChunk ? 3 : 2) * c + r;
      return L <= maxLength ? L : 2 * c + Math.min(r, maxLength - 2 * c);
    });
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
 * A problem with each row of the inputs its family names in convolutionWhenConstant (a selective
 * scan's delta) held at its first value over time: with time-invariant B and C and no h0 it is a
 * convolution (what FFT implementations accept).
 */
export function withConstantDelta<F extends FamilyName>(problem: Problem<F>): Problem<F> {
  const held = descriptorOf(problem.family).convolutionWhenConstant ?? [];
  const replaced: Record<string, Tensor> = {};
  for (const name of held) {
    const tensor = inputsOf(problem)[name];
    if (tensor === undefined) continue;
    const L = tensor.shape[tensor.shape.length - 1];
    const data = tensor.data.slice();
    for (let i = 0; i < data.length; i++) data[i] = tensor.data[i - (i % L)];
    replaced[name] = { data, shape: tensor.shape };
  }
  return held.length === 0 ? problem : withInputs(problem, replaced);
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

/** One of `items` drawn by weight; shrinks towards the first. */
function weightedFrom<T>(items: readonly T[], weight: (item: T) => number): fc.Arbitrary<T> {
  return fc.oneof({ withCrossShrink: true }, ...items.map((item) => ({ arbitrary: fc.constant(item), weight: weight(item) })));
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
  const hasState = hasStateSize(family);
  // Families with projections (B, C) draw dim as groups × group size, so grouped layouts get G ≥ 2;
  // a family with heads (ssd) draws G groups of groupSize heads of headdim channels each.
  const projectionNames = projectionInputNames(family);
  const grouped = projectionNames.length > 0;
  const headed = hasHeads(family);
  const rotary = descriptorOf(family).anglesFrom !== undefined;
  const layoutsChosen = hasProjectionLayouts(family);
  const alternatable = alternateShapeInputNames(family);
  // A convolution starts from zero and never resets: none where the constraints switch an initial
  // state or segment ids on (packed-sequences), which a convolution case would silently drop.
  const unconvolved = [...stateInputNames(family), ...inputNamesWithRole(family, 'segments')];
  const convolutionForm = descriptorOf(family).convolutionWhenConstant !== undefined && !unconvolved.some((name) => fixedSwitches[name] === true);
  const requests = fc
    .record({
      regime: weightedFrom(regimes, (r) => REGIME_WEIGHTS[r] ?? 1),
      length: lengthArbitrary(constraints.maxLength ?? MODES.quick.maxLength),
      batch: fc.integer({ min: 1, max: constraints.maxBatch ?? 2 }),
      // selective-scan: dim = G · (dim/G), each shrinking to 1 on its own, so a grouped B/C has
      // G ≥ 2 groups of dim/G ≥ 2 channels often (divisors of a small dim rarely give both).
      dim: grouped ? fc.constant(0) : fc.integer({ min: 1, max: constraints.maxDim ?? 3 }),
      groups: grouped ? fc.integer({ min: 1, max: constraints.maxGroups ?? 4 }) : fc.constant(1),
      groupSize: grouped ? fc.integer({ min: constraints.minGroupSize ?? 1, max: Math.max(constraints.minGroupSize ?? 1, constraints.maxGroupSize ?? 3) }) : fc.constant(1),
      stateSize: hasState ? fc.integer({ min: 1, max: constraints.maxStateSize ?? 4 }) : fc.constant(1),
      options: fc.record(Object.fromEntries(optionNames.map((name) => [name, booleanFor(fixedOptions[name])]))),
      switches: fc.record(Object.fromEntries(switchNames.map((name) => [name, booleanFor(fixedSwitches[name])]))),
      layoutB: weightedFrom(projections, (kind) => PROJECTION_WEIGHTS[kind]),
      layoutC: weightedFrom(projections, (kind) => PROJECTION_WEIGHTS[kind]),
      // A quarter of selective scans are convolutions in disguise, so FFT implementations get cases too.
      timeInvariant:
        convolutionForm && constraints.timeInvariant !== false
          ? fc.oneof({ arbitrary: fc.constant(false), weight: 3 }, { arbitrary: fc.constant(true), weight: 1 })
          : fc.constant(false),
      valueSeed: fc.nat({ max: 2 ** 31 - 1 }),
      // Drawn last, so the fields above draw the same values as before families with heads existed.
      headdim: headed ? fc.integer({ min: 1, max: constraints.maxHeadDim ?? 3 }) : fc.constant(1),
      alternates: fc.record(Object.fromEntries(alternatable.map((name) => [name, fc.boolean()]))),
      // A family with rotary angles (mamba3-siso): N = 2 × pairs, 1 ≤ A ≤ pairs angles; drawn last, so other families draw as before.
      pairs: rotary ? fc.integer({ min: 1, max: Math.max(1, Math.floor((constraints.maxStateSize ?? 4) / 2)) }) : fc.constant(0),
      angles: rotary ? fc.integer({ min: 1, max: 2 }) : fc.constant(1),
    })
    .map(({ regime, length, batch, dim, groups, groupSize, stateSize: drawnStateSize, options, switches, layoutB, layoutC, timeInvariant, valueSeed, headdim, alternates, pairs, angles }) => {
      const stateSize = rotary ? 2 * pairs : drawnStateSize;
      const on = switches as Readonly<Record<string, boolean>>;
      const alternateShapes = alternatable.filter((name) => on[name] === true && (alternates as Readonly<Record<string, boolean>>)[name] === true);
      const heads = groups * groupSize;
      const request: SampleRequest<F> = {
        family,
        regime,
        dims: headed
          ? { batch, dim: heads * headdim, length, stateSize, groups, heads, ...(rotary && { angles: Math.min(angles, pairs) }) }
          : { batch, dim: grouped ? groups * groupSize : dim, length, stateSize, groups },
        ...(alternateShapes.length > 0 && { alternateShapes }),
        // The only source of delta past exp's overflow; the fixtures keep the regime without it.
        ...(regime === 'softplus-threshold' && { expOverflow: true }),
        options: options as unknown as OptionsOf<F>,
        optionalInputs: timeInvariant ? { ...switches, ...Object.fromEntries(unconvolved.map((name) => [name, false])) } : switches,
        // layoutB and layoutC are drawn for every family (so a seed draws the same values whatever the family) and used by those with projections.
        ...(layoutsChosen && {
          projections: Object.fromEntries(projectionNames.map((name, i) => [name, timeInvariant ? ('time-invariant' as const) : [layoutB, layoutC][i]])) as SampleRequest['projections'],
        }),
      };
      return { request, valueSeed, timeInvariant };
    });
  return boundedFilter(requests, ({ request }) => regimeRestriction(request) === undefined, `the regimes [${regimes.join(', ')}] for ${family} with these options`)
    .map(({ request, valueSeed, timeInvariant }) => ({ request, valueSeed, timeInvariant, problem: problemOfCase(request, valueSeed, timeInvariant) }));
}
