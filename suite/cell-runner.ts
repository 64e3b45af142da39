/**
 * Runs one implementation through the fixtures and every property, cell by cell
 * (family × property, split further by expected-failure entries), and gathers its report.
 * A failing or crashing implementation yields a report too; nothing here throws for it.
 * Platform-neutral (the browser page runs it too): what needs a file system (counterexample files,
 * paths relative to the current folder) comes in as a RunHost; suite/runner.ts binds Node's.
 */
import fc from 'fast-check';
import type { AnyProblem, FamilyName } from '../spec/families.ts';
import { dimensionsOf, outputShapes } from '../spec/shapes.ts';
import { elementCount } from '../spec/tensor.ts';
import type { FamilyImplementation, ScanImplementation } from '../spec/implementation.ts';
import { NoCaseError, boundedFilter, type CaseConstraints } from './arbitraries.ts';
import { aggregateAccuracy, aggregateGradientAccuracy, errorGrowth, eHistogram, pickComparison } from './accuracy.ts';
import { caseMatchesEntry, errorMessage, type CellPlan } from './cells.ts';
import type { Comparison } from './compare.ts';
import { runFixtureCell, type FixtureSource } from './fixture-replay.ts';
import { isolatedEntry } from './isolated-entry.ts';
import { cellAxes, declarationOf, dispose, environmentOf, implementationCells, implementationHead, setUp } from './lifecycle.ts';
import { propertyByName, withTimeout, type PropertyCase, type PropertyContext, type PropertyDefinition } from './properties/index.ts';
import {
  INFORMATIONAL_PROPERTIES,
  type AccuracySample,
  type GradientSample,
  type CellResult,
  type Counterexample,
  type ImplementationReport,
  type Outcome,
  type PropertyName,
} from './results.ts';
import type { ArithmeticDeclaration } from './tolerance.ts';
import type { CounterexampleContent } from './counterexample-file.ts';
import type { ExpectedOutputs } from './compare.ts';
import { replayCommandWith, type ReplayCell, type ReplayContext, type ReplayPaths } from './replay-command.ts';
import { cellTimeLimitOf, DEFAULT_RUN_TIMEOUT_MS, DEFAULT_SEED, ENVIRONMENT, MODES } from './settings.ts';

/** How thoroughly to run. */
export interface RunOptions {
  /** fast-check runs per cell (default MODES.quick.runs; deep mode MODES.deep.runs; suite/settings.ts). */
  readonly runs?: number;
  /** fast-check seed of every cell (default DEFAULT_SEED, suite/settings.ts), so a run is repeatable. */
  readonly seed?: number;
  /** A fast-check path, with seed, to replay one shrunk counterexample. */
  readonly path?: string;
  /** Longest generated L (default MODES.quick.maxLength; deep mode MODES.deep.maxLength; suite/settings.ts). */
  readonly maxLength?: number;
  readonly families?: readonly FamilyName[];
  readonly properties?: readonly PropertyName[];
  /** Where fixtures come from; none skips the fixtures cells. */
  readonly fixtures?: FixtureSource;
  /** Time limit of one run or step call (default DEFAULT_RUN_TIMEOUT_MS, suite/settings.ts). */
  readonly timeoutMs?: number;
  /** Time limit of one cell's property search in ms, 0 for none (default DEFAULT_CELL_TIME_LIMIT_MS, suite/settings.ts); a cut cell reports the runs it made and `cutAtTimeLimitMs`. */
  readonly cellTimeLimitMs?: number;
  /** How to reach this implementation again in a replay command: `--impl <path>` or `--command <command>` (suite/replay.ts). */
  readonly replayTarget?: string;
  /** Under vitest, when the module is not known: the test file, which a replay reruns. */
  readonly replayTestFile?: string;
  /**
   * The report folder: failing counterexamples are written to `<reportDir>/counterexamples/`
   * and replays write into `<reportDir>/replay-<cell>`. Without it no file is written.
   */
  readonly reportDir?: string;
  /** Called after each cell. */
  readonly onCell?: (cell: CellResult) => void;
  /** Only these cells (or parts of fixtures cells), in this order: a shard's share of a run (suite/shard-plan.ts); absent: every cell, whole. */
  readonly slices?: readonly CellSlice[];
  /** Called after each slice with its cell and the accuracy samples it measured (a shard records them for the merge). */
  readonly onSlice?: (slice: CellSlice, cell: CellResult, samples: readonly AccuracySample[], gradientSamples: readonly GradientSample[]) => void;
}

/** One cell of an implementation (its index in implementationCells), or part of a fixtures cell: its cases [start, end). */
export interface CellSlice {
  readonly cell: number;
  readonly part?: { readonly index: number; readonly count: number; readonly start: number; readonly end: number };
}

/** What a run needs from the platform it runs on. */
export interface RunHost {
  /** How paths read in replay commands. */
  readonly paths: ReplayPaths;
  /**
   * Writes a failing case's counterexample file into the report folder and returns its path;
   * absent where no file can be written (the counterexample stays in the report). `suffix` goes
   * at the end of the file's name (partSuffix: a later part of a sharded fixtures cell), or is ''.
   */
  readonly writeCounterexample?: (
    reportDir: string,
    content: CounterexampleContent,
    entry: FamilyImplementation<FamilyName>,
    timeoutMs: number,
    suffix: string,
  ) => Promise<string>;
}

/** The arithmetic declaration of one family of an implementation (suite/lifecycle.ts). */
export { declarationOf };

/** How a replay command reaches an implementation and where it writes. */
function replayContextOf(options: RunOptions): ReplayContext {
  return {
    ...(options.replayTarget !== undefined && { target: options.replayTarget }),
    ...(options.replayTestFile !== undefined && { testFile: options.replayTestFile }),
    ...(options.reportDir !== undefined && { reportDir: options.reportDir }),
  };
}

/**
 * Writes a failing cell's counterexample file (inputs, expected and actual outputs) into the
 * report folder and adds its path and the `--case` command that replays it; a write failure is
 * said in the counterexample instead of failing the cell twice.
 */
async function withCounterexampleFile(
  host: RunHost,
  counterexample: Counterexample,
  cell: ReplayCell,
  kase: { readonly problem: AnyProblem; readonly regime: string; readonly expected?: ExpectedOutputs },
  entry: FamilyImplementation<FamilyName>,
  options: RunOptions,
  part?: CellSlice['part'],
): Promise<Counterexample> {
  if (options.reportDir === undefined || host.writeCounterexample === undefined) return counterexample;
  let file: string;
  try {
    file = await host.writeCounterexample(
      options.reportDir,
      { cell, ...kase, message: counterexample.message, origin: counterexample.path === '' ? `fixture ${String(counterexample.parameters.fixture)}` : `fast-check seed ${counterexample.seed}, path ${counterexample.path}`, replay: counterexample.replay },
      entry,
      options.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS,
      // Parts of a fixtures cell may each fail in their own shard: all but the first write a file of
      // their own, which the merge renames when that part's failure is the cell's first (suite/shard-merge.ts).
      part !== undefined && part.index > 1 ? partSuffix(part.index) : '',
    );
  } catch (error) {
    return { ...counterexample, message: `${counterexample.message} (its counterexample file could not be written: ${errorMessage(error)})` };
  }
  const context = replayContextOf(options);
  // `--case` replays a file as a conformance check against its expected outputs: exactly the
  // failure of a fixtures or conformance cell, but not of another property (a step, a scaled or
  // split run), whose file keeps the case's inputs and the reference's answer without a replay.
  const replaysAsCase = cell.property === 'fixtures' || cell.property === 'conformance';
  return {
    ...counterexample,
    file: host.paths.commandPath(file),
    ...(context.target !== undefined && replaysAsCase && { caseReplay: replayCommandWith(host.paths, context, cell, ['--case', host.paths.commandPath(file)]) }),
  };
}

/** Runs every cell of one implementation and builds its report. */
export async function runImplementationWith(host: RunHost, implementation: ScanImplementation, options: RunOptions = {}): Promise<ImplementationReport> {
  const started = performance.now();
  const base = implementationHead(implementation, cellAxes(implementation, options).families);
  const setup = await setUp(implementation);
  if (setup.status !== 'ok') {
    return { ...base, environment: {}, status: setup.status, statusReason: setup.reason, cells: [], accuracy: [], growth: [], eHistogram: {}, durationMs: performance.now() - started };
  }
  const cells: CellResult[] = [];
  const samples: AccuracySample[] = [];
  const gradientSamples: GradientSample[] = [];
  let environment: Readonly<Record<string, string>> = {};
  let statusReason: string | undefined;
  try {
    environment = environmentOf(implementation);
    const plans = implementationCells(implementation, options);
    for (const slice of options.slices ?? plans.map((_, cell): CellSlice => ({ cell }))) {
      const plan = plans[slice.cell];
      if (plan === undefined) throw new RangeError(`slice: expected a cell index below ${plans.length}, got ${slice.cell}`);
      const [before, gradientsBefore] = [samples.length, gradientSamples.length];
      const cell = await runCellWith(host, implementation, plan, options, samples, gradientSamples, slice.part);
      cells.push(cell);
      options.onCell?.(cell);
      options.onSlice?.(slice, cell, samples.slice(before), gradientSamples.slice(gradientsBefore));
    }
  } finally {
    statusReason = await dispose(implementation);
  }
  return {
    ...base,
    environment,
    status: statusReason === undefined ? 'ok' : 'crashed',
    ...(statusReason && { statusReason }),
    cells,
    accuracy: aggregateAccuracy(samples),
    ...(gradientSamples.length > 0 && { gradientAccuracy: aggregateGradientAccuracy(gradientSamples) }),
    growth: errorGrowth(samples),
    eHistogram: eHistogram(samples),
    durationMs: performance.now() - started,
  };
}

/** Final outcome of a cell from whether it held and whether it was expected to fail. */
function outcomeOf(held: boolean, plan: Pick<CellPlan, 'expected' | 'property'>): Outcome {
  if (plan.expected !== undefined) return held ? 'unexpected-pass' : 'expected-failure';
  if (held) return 'pass';
  return INFORMATIONAL_PROPERTIES.includes(plan.property) ? 'informational' : 'fail';
}

/** What a cell's search had done when the cell time limit ended it (the case in flight awaited). */
export interface CutSearch {
  readonly timeLimit: number;
  /** Cases judged, the one in flight included. */
  readonly accepted: number;
  readonly declined: number;
  readonly declineReason?: string;
  /** The message of the case in flight, when it failed. */
  readonly failure?: string;
}

/**
 * The result of a cell whose search the cell time limit cut: it passed on the cases that finished,
 * unless the one in flight failed (a failure fast-check did not shrink), and is an error when no
 * case ran at all, never a pass.
 */
export function cutCell(plan: Pick<CellPlan, 'expected' | 'property'>, search: CutSearch): Pick<CellResult, 'outcome' | 'reason' | 'runs' | 'declined' | 'declineReason' | 'cutAtTimeLimitMs'> {
  const fields = { runs: search.accepted, declined: search.declined, cutAtTimeLimitMs: search.timeLimit, ...(search.declineReason !== undefined && { declineReason: search.declineReason }) };
  if (search.accepted === 0) {
    return { outcome: 'error', reason: `the cell time limit (${search.timeLimit} ms) ended the search before its first case ran: give the cell more time (--cell-time-limit, ${ENVIRONMENT.cellTimeLimit})`, ...fields };
  }
  if (search.failure !== undefined) {
    return { outcome: outcomeOf(false, plan), reason: `${search.failure} (the case in flight when the cell time limit ended the search; not shrunk)`, ...fields };
  }
  return { outcome: outcomeOf(true, plan), ...fields };
}

/** Runs one cell: fixture replay, or a fast-check search for a counterexample. */
export async function runCellWith(
  host: RunHost,
  implementation: ScanImplementation,
  plan: CellPlan,
  options: RunOptions,
  samples: AccuracySample[],
  gradientSamples: GradientSample[] = [],
  part?: CellSlice['part'],
): Promise<CellResult> {
  const started = performance.now();
  // Calls on copies, answers copied: a kernel cannot move the reference or alias two runs (isolated-entry.ts).
  const entry = isolatedEntry(implementation.families[plan.family] as FamilyImplementation<FamilyName>);
  const declaration = declarationOf(implementation, plan.family);
  const head = {
    implementation: implementation.name,
    family: plan.family,
    property: plan.property,
    ...(plan.only?.regime && { regime: plan.only.regime }),
    ...(plan.only?.options && { options: plan.only.options }),
  };
  const replayCell: ReplayCell = {
    implementation: implementation.name,
    family: plan.family,
    property: plan.property,
    restriction: [plan.only?.regime, ...Object.entries(plan.only?.options ?? {}).map(([k, v]) => `${k}=${v}`)].filter(Boolean).join('-'),
  };
  const replay = (flags: readonly string[]) => replayCommandWith(host.paths, replayContextOf(options), replayCell, flags);
  const finish = (fields: Omit<CellResult, keyof typeof head | 'durationMs'>): CellResult => ({
    ...head,
    ...fields,
    // An error keeps its own reason: why the cell could not run matters more than the known bug it expected.
    ...(plan.expected && fields.outcome !== 'not-applicable' && fields.outcome !== 'declined' && fields.outcome !== 'error' && { reason: plan.expected.reason }),
    durationMs: performance.now() - started,
  });

  if (plan.property === 'fixtures') {
    if (options.fixtures === undefined) return finish({ outcome: 'not-applicable', reason: 'no fixtures given', runs: 0, declined: 0 });
    let result: Awaited<ReturnType<typeof runFixtureCell>>;
    try {
      result = await runFixtureCell(options.fixtures, entry, plan, declaration, options.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS, samples, replay, part);
    } catch (error) {
      return finish({ outcome: 'error', reason: `the fixtures could not be replayed: ${errorMessage(error)}`, runs: 0, declined: 0 });
    }
    const notRun = result.notRun > 0 ? { notRun: result.notRun, ...(result.notRunReason && { notRunReason: result.notRunReason }) } : {};
    if (result.runs === 0 && result.declined === 0) {
      const reason = result.notRun > 0 ? `${result.notRun} fixtures not run: ${result.notRunReason}` : 'no fixture of this family matches the cell';
      return finish({ outcome: 'not-applicable', reason, runs: 0, declined: 0, ...notRun });
    }
    if (result.runs === 0) return finish({ outcome: 'declined', runs: 0, declined: result.declined, ...(result.declineReason && { declineReason: result.declineReason }), ...notRun });
    const outcome = outcomeOf(result.failure === undefined, plan);
    const failure =
      result.failure && result.failedCase
        ? await withCounterexampleFile(host, result.failure, replayCell, result.failedCase, entry, options, part)
        : result.failure;
    return finish({
      outcome,
      runs: result.runs,
      declined: result.declined,
      ...(result.declineReason && { declineReason: result.declineReason }),
      ...notRun,
      ...(failure && { counterexample: failure }),
      ...(outcome === 'fail' && failure && { reason: failure.message }),
    });
  }

  const property = propertyByName(plan.property) as PropertyDefinition;
  const notApplicable = property.notApplicable(plan.family, entry);
  if (notApplicable !== undefined) return finish({ outcome: 'not-applicable', reason: notApplicable, runs: 0, declined: 0 });

  const context: PropertyContext<FamilyName> = { family: plan.family, entry, declaration, timeoutMs: options.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS };
  const constraints: CaseConstraints<FamilyName> = {
    maxLength: options.maxLength ?? MODES.quick.maxLength,
    ...(plan.only?.regime && { regimes: [plan.only.regime as never] }),
    ...(plan.only?.options && { options: plan.only.options as never }),
  };
  const matchesPlan = (c: PropertyCase<FamilyName>) => {
    const caseOptions = c.problem.options as unknown as Readonly<Record<string, boolean>>;
    if (plan.only !== undefined && !caseMatchesEntry(plan.only, c.request.regime, caseOptions)) return false;
    return !plan.excluding.some((e) => caseMatchesEntry(e, c.request.regime, caseOptions));
  };
  let arbitrary: fc.Arbitrary<PropertyCase<FamilyName>>;
  try {
    arbitrary = boundedFilter(property.arbitrary(plan.family, constraints), matchesPlan, 'the cell\'s regime and option restrictions');
  } catch (error) {
    return finish({ outcome: 'error', reason: `the suite could not build cases: ${errorMessage(error)}`, runs: 0, declined: 0 });
  }

  let declined = 0;
  let accepted = 0;
  // Accepted cases with an output element: a cell whose every case had none (L 0 of a family without a state) compared nothing.
  let withOutputs = 0;
  let declineReason: string | undefined;
  let lastFailure: Pick<Counterexample, 'message' | 'worst' | 'mismatches' | 'stack'> | undefined;
  // fast-check's time limit races the case in flight and leaves it running: the cell waits for it
  // (so that no case of this cell runs beside the next cell) and judges it too.
  let inFlight: Promise<unknown> = Promise.resolve();
  const fcProperty = fc.asyncProperty(arbitrary, (testCase) => {
    const run = judgeCase(testCase);
    inFlight = run.catch(() => undefined);
    return run;
  });
  async function judgeCase(testCase: PropertyCase<FamilyName>): Promise<boolean> {
    const result = await property.check(context, testCase);
    if (result.kind === 'declined') {
      declined++;
      declineReason ??= result.reason;
      fc.pre(false);
      return true;
    }
    accepted++;
    if (Object.values<readonly number[]>(outputShapes(testCase.request.family, dimensionsOf(testCase.problem as AnyProblem))).some((shape) => elementCount(shape) > 0)) withOutputs++;
    // The accuracy tables measure passing cases and the first failing one (as drawn, before
    // fast-check shrinks it: the shrink steps would crowd the tables with tiny cases).
    if (plan.property === 'conformance' && (result.kind === 'pass' || lastFailure === undefined)) {
      for (const comparison of result.comparisons ?? []) samples.push(sampleOf(testCase, comparison));
    }
    if (plan.property === 'vjp' && (result.kind === 'pass' || lastFailure === undefined)) {
      for (const comparison of result.gradientComparisons ?? []) gradientSamples.push({ family: testCase.request.family, comparison });
    }
    if (result.kind === 'fail') {
      const { kind: _, comparisons: __, gradientComparisons: ___, ...failure } = result;
      lastFailure = failure;
      return false;
    }
    return true;
  }
  const seed = options.seed ?? DEFAULT_SEED;
  const timeLimit = cellTimeLimitOf(options);
  let details: fc.RunDetails<[PropertyCase<FamilyName>]>;
  try {
    details = await fc.check(fcProperty, {
      numRuns: options.runs ?? MODES.quick.runs,
      seed,
      ...(options.path !== undefined && { path: options.path }),
      maxSkipsPerRun: 50,
      ...(timeLimit > 0 && { interruptAfterTimeLimit: timeLimit }),
      markInterruptAsFailure: false,
    });
  } catch (error) {
    if (error instanceof NoCaseError) return finish({ outcome: 'not-applicable', reason: error.message, runs: 0, declined: 0 });
    return finish({ outcome: 'error', reason: `the property search crashed: ${errorMessage(error)}`, runs: accepted, declined, ...(error instanceof Error && error.stack !== undefined && { stack: error.stack }) });
  }
  await inFlight;
  if (details.errorInstance instanceof NoCaseError) {
    return finish({ outcome: 'not-applicable', reason: details.errorInstance.message, runs: 0, declined: 0 });
  }
  if (accepted === 0 && declined > 0) {
    return finish({ outcome: 'declined', runs: 0, declined, ...(declineReason && { declineReason }) });
  }
  // fast-check marks a search it interrupted before any run finished as failed, without a counterexample.
  if (details.interrupted && details.counterexample === null) {
    return finish(cutCell(plan, { timeLimit, accepted, declined, ...(declineReason && { declineReason }), ...(lastFailure && { failure: lastFailure.message }) }));
  }
  // fast-check fails a search whose declines exceed maxSkipsPerRun·runs, without a counterexample:
  // every accepted case held, so the cell reports the runs it made (as a cell cut by its time limit).
  const declinedOut = details.failed && details.counterexample === null && !details.interrupted && details.numSkips > 0;
  const held = !details.failed || declinedOut;
  if (held && accepted > 0 && withOutputs === 0) {
    const reason = `every case it drew (${accepted}) had no output element (an empty sequence or batch${constraints.maxLength === 0 ? ': --max-length 0' : ''}): nothing was compared`;
    return finish({ outcome: 'not-applicable', reason, runs: 0, declined });
  }
  const outcome = outcomeOf(held, plan);
  let counterexample: Counterexample | undefined;
  if (details.failed && details.counterexample !== null) {
    const [testCase] = details.counterexample;
    const path = details.counterexamplePath ?? '';
    const message = lastFailure?.message ?? (details.errorInstance ? errorMessage(details.errorInstance) : 'the property failed');
    const found: Counterexample = {
      request: testCase.request,
      valueSeed: testCase.valueSeed,
      parameters: testCase.timeInvariant ? { ...testCase.parameters, timeInvariant: true } : testCase.parameters,
      seed: details.seed,
      path,
      message,
      ...(lastFailure?.worst && { worst: lastFailure.worst }),
      ...(lastFailure?.mismatches && { mismatches: lastFailure.mismatches }),
      ...(lastFailure?.stack !== undefined && { stack: lastFailure.stack }),
      shrinks: details.numShrinks,
      // --max-length shapes the arbitrary, so a path replays the same case only with the same one.
      replay: replay(['--property', plan.property, '--seed', String(details.seed), '--path', path, '--max-length', String(constraints.maxLength), '--no-fixtures']),
    };
    counterexample = await withCounterexampleFile(host, found, replayCell, { problem: testCase.problem as AnyProblem, regime: testCase.request.regime }, entry, options);
  }
  return finish({
    outcome,
    runs: details.numRuns,
    declined,
    ...(declineReason && { declineReason }),
    ...(counterexample && { counterexample }),
    ...(outcome === 'fail' && counterexample && { reason: counterexample.message }),
    ...(outcome === 'informational' && counterexample && { reason: counterexample.message }),
  });
}

/** The file-name suffix of part `index` of a fixtures cell's counterexample file. */
export function partSuffix(index: number): string {
  return `.part-${index}`;
}

function sampleOf(testCase: PropertyCase<FamilyName>, comparison: Comparison): AccuracySample {
  return {
    family: testCase.request.family,
    length: testCase.request.dims.length,
    regime: testCase.request.regime,
    source: 'property',
    judgedBy: comparison.judgedBy,
    comparison: pickComparison(comparison),
  };
}

/** Runs a promise-returning function with a time limit (re-exported for the CLI's guards). */
export { withTimeout };
