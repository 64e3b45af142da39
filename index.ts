/**
 * scan-conformance, the package: the spec (types, shapes, validators, regimes), the double-double
 * reference, the fixture loader, the fast-check arbitraries, the conformance suite (for vitest and
 * programmatic runs), the report writers and the testee-process adapter.
 */

// ---------------------------------------------------------------- spec
export * from './spec/index.ts';
export { SPEC_VERSION } from './spec/version.ts';
export { SpecValidationError, type SpecValidationFailure } from './spec/errors.ts';
export { validateOptions, validateOutputs, validateProblem, validateStepInputs, validateStepOutputs } from './spec/validate.ts';
export { sequenceIds, sequenceProblem, type SsdVarlenInputs, type SsdVarlenOutputs, type SsdVarlenProblem } from './spec/families/ssd/varlen.ts';
export { validateVarlenOutputs, validateVarlenProblem } from './spec/families/ssd/varlen-validate.ts';
export {
  OPTIONAL_INPUTS,
  PROJECTION_KINDS,
  REGIME_NAMES,
  REGIMES,
  RegimeNotApplicableError,
  SampleRequestError,
  appendIdentityPadding,
  isRegimeName,
  regimeByName,
  regimesFor,
  sampleProblem,
  type OptionalInputName,
  type OptionalInputSwitches,
  type ProjectionKind,
  type Regime,
  type RegimeName,
  type SampleDimensions,
  type SampleRequest,
  type Uniform,
} from './spec/regimes.ts';

// ---------------------------------------------------------------- reference
export { reference, referenceStep } from './reference/index.ts';
export { ssdVarlen } from './reference/ssd-varlen.ts';
export type { ReferenceResult, ReferenceStepResult, ReferenceTensors } from './reference/result.ts';

// ---------------------------------------------------------------- fixtures
export {
  FixtureContentError,
  FixtureError,
  FixtureFormatError,
  FixtureHashError,
  FixturePathError,
  FixtureReadError,
  FixtureSizeError,
  ManifestError,
  decodeFixture,
  iterateFixtures,
  loadAllFixtures,
  loadFixtureCase,
  loadManifest,
  type AnyFixtureCase,
  type FixtureCase,
  type FixtureFailure,
} from './fixtures/loader.ts';
export { type Manifest, type ManifestEntry } from './fixtures/manifest.ts';
export { FIXTURES_DIR } from './fixtures/folder.ts';

// ---------------------------------------------------------------- arbitraries
export {
  DANGEROUS_LENGTHS,
  caseArbitrary,
  lengthArbitrary,
  problemOfCase,
  type CaseConstraints,
  type GeneratedCase,
} from './suite/arbitraries.ts';

// ---------------------------------------------------------------- tolerance and comparison
export { MAMBA_ALLCLOSE, compareWithReference, type CompareOptions, type Comparison, type ExpectedOutputs, type JudgedBy, type WorstElement } from './suite/compare.ts';
export type { ArithmeticDeclaration } from './suite/tolerance.ts';

// ---------------------------------------------------------------- the suite
export { describeConformance, conformanceTestPlan, CELL_META_KEY, type DescribeConformanceOptions } from './suite/vitest.ts';
export { runImplementation, declarationOf, type RunOptions } from './suite/runner.ts';
export {
  runConformance,
  assembleReport,
  summarise,
  machineFacts,
  OUTCOMES,
  type ConformanceOptions,
  type ConformanceProgress,
} from './suite/conformance-run.ts';
export {
  MODES,
  DEFAULT_SEED,
  DEFAULT_RUN_TIMEOUT_MS,
  DEFAULT_CELL_TIME_LIMIT_MS,
  DEFAULT_REPORT_DIR,
  DEFAULT_VITEST_REPORT_DIR,
  ENVIRONMENT,
  runOptionsFromEnvironment,
  deepFromEnvironment,
  requireAvailableFromEnvironment,
} from './suite/settings.ts';
export { describeCellFailure } from './suite/messages.ts';
export { PROPERTIES, type PropertyDefinition } from './suite/properties/index.ts';
export {
  FAILING_OUTCOMES,
  INFORMATIONAL_PROPERTIES,
  PROPERTY_NAMES,
  type CellResult,
  type ConformanceReport,
  type Counterexample,
  type ErrorGrowth,
  type ImplementationReport,
  type LengthBucketStats,
  type Outcome,
  type PropertyName,
  type RunSettings,
} from './suite/results.ts';
export { type FixtureSource, type FixtureCase as SuiteFixtureCase } from './suite/fixture-replay.ts';
export { fixtureSourceFromDirectory, type FixtureSourceOptions } from './suite/fixture-source.ts';
export {
  IMPLEMENTATIONS_DIR,
  ImplementationModuleError,
  discoverImplementations,
  implementationModules,
  implementationsOfModule,
  loadImplementationModule,
} from './suite/registry.ts';
export { InvalidImplementationError, validateImplementation } from './suite/implementation-check.ts';

// ---------------------------------------------------------------- reports
export { writeReports, writeFileAtomically, type WrittenReport, type WriteReportsOptions } from './suite/report/write.ts';
export { renderMarkdown } from './suite/report/markdown.ts';
export { renderHtml } from './suite/report/html.ts';
export { renderJson } from './suite/report/json.ts';
export { reportPlots, type Plot } from './suite/report/plots.ts';

// ---------------------------------------------------------------- testees in other languages
export { processImplementation, type ProcessImplementation, type ProcessImplementationOptions } from './protocol/process-implementation.ts';
export { TesteeDeclinedError, TesteeError, type TesteeFailureKind } from './protocol/errors.ts';
