/**
 * The data model of a conformance run, shared by the runner, the vitest integration and every
 * report format (JSON is this model serialised as is).
 */
import type { SpecValidationFailure } from '../spec/errors.ts';
import type { FamilyName } from '../spec/families.ts';
import type { ErrorModel } from '../spec/implementation.ts';
import type { Precision } from '../spec/precision.ts';
import type { SampleRequest } from '../spec/regimes.ts';
import type { Comparison, JudgedBy, WorstElement } from './compare.ts';
import { PROPERTIES, type GeneratedPropertyName } from './properties/index.ts';

/** Every property of the suite, in report order: the fixtures, then the registry of generated-case properties. */
export const PROPERTY_NAMES: readonly PropertyName[] = ['fixtures', ...PROPERTIES.map((p) => p.name)];

/** The name of a property: 'fixtures' (golden cases) or a generated-case property of the registry. */
export type PropertyName = 'fixtures' | GeneratedPropertyName;

/** Properties whose failure is reported but never fails a run. */
export const INFORMATIONAL_PROPERTIES: readonly PropertyName[] = ['determinism'];

/**
 * How a cell (implementation × family × property [× regime/options]) ended:
 * pass; fail (unexpected); expected-failure (listed and failed); unexpected-pass (listed but
 * passed: fails the run, so the list stays honest); not-applicable (the property has no meaning
 * here, e.g. step without a step method); declined (the implementation declined every case);
 * error (the implementation or the suite crashed outside a case); informational (a reported,
 * non-required property that did not hold).
 */
export type Outcome =
  | 'pass'
  | 'fail'
  | 'expected-failure'
  | 'unexpected-pass'
  | 'not-applicable'
  | 'declined'
  | 'error'
  | 'informational';

/** Outcomes that make a run exit non-zero. */
export const FAILING_OUTCOMES: readonly Outcome[] = ['fail', 'unexpected-pass', 'error'];

/** A shrunk counterexample with what it takes to replay it. */
export interface Counterexample {
  /** What the sampler was asked for (regime, sizes, options, switches, layouts) and the value seed. */
  readonly request: SampleRequest;
  readonly valueSeed: number;
  /** Extra parameters of the property (split point, scaling exponent, changed index…). */
  readonly parameters: Readonly<Record<string, number | string | boolean>>;
  /** fast-check's seed and path: `fc.check(property, { seed, path })` replays the shrunk case. */
  readonly seed: number;
  readonly path: string;
  /** What went wrong, in one paragraph. */
  readonly message: string;
  /** The element furthest past its bound, when the failure is numerical. */
  readonly worst?: WorstElement;
  /** Every mismatch of an answer that does not follow the spec (wrong shape, missing output, wrong type), when that is the failure. */
  readonly mismatches?: readonly SpecValidationFailure[];
  /** The stack of the error the implementation threw, when it threw (report.json only; reports print the message). */
  readonly stack?: string;
  /** How many shrink steps fast-check took. */
  readonly shrinks: number;
  /** A command that replays this counterexample. */
  readonly replay: string;
  /** The counterexample file (inputs, expected and actual outputs; suite/counterexample-file.ts), when the run had a report folder. */
  readonly file?: string;
  /** A command that replays exactly the case in `file` (`check --case`), when the implementation's module or command is known. */
  readonly caseReplay?: string;
}

/** The result of one cell. */
export interface CellResult {
  readonly implementation: string;
  readonly family: FamilyName;
  readonly property: PropertyName;
  /** Set when the cell is restricted to a regime (an expected-failure entry names one). */
  readonly regime?: string;
  /** Set when the cell is restricted to option values. */
  readonly options?: Readonly<Record<string, boolean>>;
  readonly outcome: Outcome;
  /** The expected-failure reason, the decline reason, or the error message. */
  readonly reason?: string;
  /** Cases run (for fixtures: fixture cases). */
  readonly runs: number;
  /** Set when the property search stopped at the cell time limit (this many ms) before the runs asked for: it passed on `runs` cases only. */
  readonly cutAtTimeLimitMs?: number;
  /** Cases the implementation declined (each with a reason; the first is kept). */
  readonly declined: number;
  readonly declineReason?: string;
  /** Fixtures cells: fixtures not run (varlen without runVarlen, gradient ones without vjp), neither passed nor declined; absent when none. */
  readonly notRun?: number;
  readonly notRunReason?: string;
  readonly counterexample?: Counterexample;
  /** The stack of the error that ended the cell, for an 'error' outcome (report.json only). */
  readonly stack?: string;
  readonly durationMs: number;
}

/** The fields of a Comparison an accuracy sample keeps. */
export const ACCURACY_FIELDS = [
  'passed',
  'elements',
  'maxE',
  'p99E',
  'maxBoundUsage',
  'betaAtWorst',
  'maxAbsError',
  'maxRelError',
  'maxUlp',
  'allclose',
  'overflowed',
  'nanElements',
  'infElements',
  'underflowElements',
  'underflowMaxAbsError',
  'nonzeroElements',
  'unresolvedElements',
] as const satisfies readonly (keyof Comparison)[];

/** The name of a field an accuracy sample keeps. */
export type AccuracyField = (typeof ACCURACY_FIELDS)[number];

/** One measured case: the accuracy of one run against the reference. */
export interface AccuracySample {
  readonly family: FamilyName;
  readonly length: number;
  readonly regime: string;
  /** 'fixture' or 'property' (generated). */
  readonly source: 'fixture' | 'property';
  readonly judgedBy: JudgedBy;
  readonly comparison: Pick<Comparison, AccuracyField>;
}

/**
 * Accuracy aggregated per implementation × family × length bucket. maxE, p99E, maxAbsError,
 * maxRelError and maxUlp describe the normal range; the elements under the underflow floor and
 * the NaN and ±Inf outputs are counted apart; maxBoundUsage and passed cover every element.
 */
export interface LengthBucketStats {
  readonly family: FamilyName;
  /** Lengths [min, max] of the bucket: [0, 0], [1, 1], then [2^k, 2^(k+1) − 1]. */
  readonly lengths: readonly [number, number];
  readonly label: string;
  readonly cases: number;
  /** Output elements compared, over every case of the bucket. */
  readonly elements: number;
  readonly maxE: number;
  readonly p99E: number;
  /** The bound in e units at the element of largest bound usage, maximised over cases. */
  readonly beta: number;
  readonly maxBoundUsage: number;
  readonly maxAbsError: number;
  readonly maxRelError: number;
  /** ULP distance on the declared precision's grid: never more than the format holds. */
  readonly maxUlp: number;
  /** Elements under the underflow floor (condition scale S < the smallest normal number). */
  readonly underflowElements: number;
  /** max |ŷ − y| over the elements under the underflow floor. */
  readonly underflowMaxAbsError: number;
  /** Outputs that came back NaN. */
  readonly nanElements: number;
  /** Outputs that came back ±Infinity. */
  readonly infElements: number;
  /** Normal-range elements with a finite nonzero reference (the denominator of unresolvedElements). */
  readonly nonzeroElements: number;
  /** Of nonzeroElements, those whose bound is at least |y|: an output of 0 or of the wrong sign would pass there. */
  readonly unresolvedElements: number;
  /** Whether every case would pass torch.allclose at mamba_ssm's rtol/atol. */
  readonly allclose: boolean;
  readonly passed: boolean;
}

/** One gradient tensor of one vjp case measured against rule V: e in units of u·G (u of the declared storage). */
export interface GradientComparison {
  /** The differentiable input the gradient belongs to (A, delta, h0, …). */
  readonly tensor: string;
  /** Elements judged (a non-finite reference or an ambiguous clamp is not). */
  readonly elements: number;
  /** max |ĝ − g|/(u·G) over the judged elements with G > 0. */
  readonly maxE: number;
  /** max |ĝ − g|/bound (≤ 1 passes). */
  readonly maxBoundUsage: number;
  /** Judged elements with |g| at least the storage's smallest normal number (the denominator of unresolvedElements). */
  readonly nonzeroElements: number;
  /** Of nonzeroElements, those whose bound is at least |g|: a gradient of 0 or of the wrong sign would pass there. */
  readonly unresolvedElements: number;
  readonly passed: boolean;
}

/** One gradient tensor of one case the vjp property judged. */
export interface GradientSample {
  readonly family: FamilyName;
  readonly comparison: GradientComparison;
}

/** Gradient accuracy aggregated per implementation × family × gradient tensor (the vjp property's cases). */
export interface GradientAccuracyStats {
  readonly family: FamilyName;
  readonly tensor: string;
  readonly cases: number;
  readonly elements: number;
  readonly maxE: number;
  readonly maxBoundUsage: number;
  /** Summed over the cases: see GradientComparison. */
  readonly nonzeroElements: number;
  readonly unresolvedElements: number;
  readonly passed: boolean;
}

/** Per family: how the worst error grows with length. */
export interface ErrorGrowth {
  readonly family: FamilyName;
  /** Slope of log(max e) against log(L) over the buckets with e > 0 (least squares); null with fewer than two. */
  readonly slope: number | null;
  readonly points: number;
}

/** Everything one implementation's run produced. */
export interface ImplementationReport {
  readonly name: string;
  readonly precision: Precision;
  readonly accumulation?: Precision;
  readonly description?: string;
  /** The error model each family was held to. */
  readonly errorModels: { readonly [F in FamilyName]?: ErrorModel };
  readonly environment: Readonly<Record<string, string>>;
  /** 'ok'; 'unavailable' (setup said this machine cannot run it); 'crashed' (setup or dispose threw). */
  readonly status: 'ok' | 'unavailable' | 'crashed';
  readonly statusReason?: string;
  readonly cells: readonly CellResult[];
  readonly accuracy: readonly LengthBucketStats[];
  /** Per family × gradient tensor, from the vjp property's cases; absent or empty when no vjp cell ran a case. */
  readonly gradientAccuracy?: readonly GradientAccuracyStats[];
  readonly growth: readonly ErrorGrowth[];
  /** Histogram of per-case max e: counts per decade bin [10^k, 10^(k+1)), keyed by k; 'zero' for exact. */
  readonly eHistogram: Readonly<Record<string, number>>;
  readonly durationMs: number;
}

/** The settings a run used, recorded so that it can be repeated. */
export interface RunSettings {
  readonly runs: number;
  /** Time limit of one cell's property search in ms; 0: none. */
  readonly cellTimeLimitMs: number;
  readonly seed: number;
  readonly deep: boolean;
  readonly families: readonly FamilyName[];
  readonly properties: readonly PropertyName[];
  readonly fixtures: boolean;
  /** Every fixtures folder replayed (or `--case` file), absolute paths; absent when no fixtures ran. */
  readonly fixtureFolders?: readonly string[];
  /** Whether a run that checked nothing (no cell ran a case) was allowed to pass (--allow-empty). */
  readonly allowEmpty?: boolean;
}

/** A run's facts beyond its settings that shards of one run must share (suite/shard-merge.ts compares them field by field). */
export interface RunFingerprint {
  readonly toolVersion: string;
  readonly specVersion: string;
  /** The code the run ran (suite/code-revision.ts): a git commit and a hash of uncommitted changes, or the package version. */
  readonly revision: string;
  readonly settings: RunSettings;
  readonly maxLength: number;
  readonly timeoutMs: number;
  readonly path?: string;
  readonly requireAvailable: boolean;
  /** Every implementation loaded, in run order (those that failed to load too). */
  readonly implementations: readonly string[];
}

/** One work unit of a sharded run as every shard records it: which cell (or part of a fixtures cell), and its shard. */
export interface PlannedUnit {
  readonly id: string;
  readonly implementation: string;
  /** The cell's index in the implementation's cells (suite/lifecycle.ts implementationCells); absent for an implementation without cells (its set-up alone). */
  readonly cell?: number;
  readonly family?: FamilyName;
  readonly property?: PropertyName;
  readonly regime?: string;
  readonly options?: Readonly<Record<string, boolean>>;
  /** A part of a fixtures cell: fixture cases [start, end) in the source's order, part `index` (1-based) of `count`. */
  readonly part?: { readonly index: number; readonly count: number; readonly start: number; readonly end: number };
  /** The shard (1-based) that runs it. */
  readonly shard: number;
}

/** What one unit a shard ran produced, beyond its cell: the accuracy it measured, so that a merge aggregates as one run does. */
export interface UnitResult {
  readonly id: string;
  /** The unit's cell among this shard's cells of its implementation; absent when it produced none (implementation unavailable or crashed in set-up). */
  readonly cell?: number;
  readonly accuracy: readonly LengthBucketStats[];
  readonly gradientAccuracy: readonly GradientAccuracyStats[];
  readonly eHistogram: Readonly<Record<string, number>>;
}

/** The shard record of a report written by `check --shard i/n` (absent from unsharded and merged reports). */
export interface ShardRecord {
  /** 1-based. */
  readonly index: number;
  readonly count: number;
  /** SHA-256 of the whole plan (every unit and its shard): shards of one run have the same. */
  readonly planHash: string;
  /** What balanced the split: 'case sizes', or the timings of an earlier report (its path). */
  readonly costSource: string;
  readonly run: RunFingerprint;
  /** Every implementation of the run with its precision, in run order. */
  readonly implementations: readonly { readonly name: string; readonly precision: Precision }[];
  /** The whole plan, every shard's units. */
  readonly plan: readonly PlannedUnit[];
  /** The units this shard ran, in plan order. */
  readonly units: readonly UnitResult[];
}

/** The whole report. */
export interface ConformanceReport {
  readonly tool: { readonly name: 'scan-conformance'; readonly version: string };
  readonly specVersion: string;
  readonly createdAt: string;
  readonly machine: Readonly<Record<string, string>>;
  readonly settings: RunSettings;
  readonly implementations: readonly ImplementationReport[];
  /** Present in the report of one shard of a sharded run (`check --shard i/n`): what `merge` needs. */
  readonly shard?: ShardRecord;
  readonly summary: {
    readonly implementations: number;
    readonly cells: number;
    readonly byOutcome: Readonly<Record<Outcome, number>>;
    /**
     * Cells whose outcome fails the run, plus one for a run that checked nothing unless it was
     * allowed to; the exit code is non-zero exactly when this is > 0.
     */
    readonly unexpectedFailures: number;
    /** Why the run checked nothing (no cell, or no cell ran a case), in words; absent when some case ran. */
    readonly nothingChecked?: string;
  };
}
