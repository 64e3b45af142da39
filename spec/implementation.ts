/**
 * The plug-in interface: the one door through which every implementation, ours or a user's,
 * enters the suite. Implementations import only this module (and spec/ types).
 */
import type { FamilyName, OptionsOf, OutputsOf, Problem, StepInputsOf, StepOutputs } from './families.ts';
import type { SsdVarlenOutputs, SsdVarlenProblem } from './families/ssd/varlen.ts';
import type { Cotangents as CotangentsOf, GradientsOf } from './gradients.ts';
import type { Precision } from './precision.ts';

/**
 * Which error model an implementation's results are held to. `componentwise`: each element
 * against its condition scale (scans). `normwise`: each channel against ‖K‖·‖u‖ (FFT convolution).
 */
export type ErrorModel = 'componentwise' | 'normwise';

/** What an implementation offers for one family: the entry points of every family, and ssd's variable-length form on ssd only. */
export type FamilyImplementation<F extends FamilyName> = FamilyEntryPoints<F> & ([F] extends ['ssd'] ? SsdVarlenEntryPoint : unknown);

/** The entry points every family has. */
export interface FamilyEntryPoints<F extends FamilyName> {
  /**
   * Computes the whole scan. Outputs have the shapes of spec/shapes.ts#outputShapes. The suite's
   * time limit applies to the asynchronous part: a synchronous loop in run() cannot be interrupted
   * in-process (run a kernel that may hang as a process testee). Inputs are read-only, in every
   * entry point: a call that writes to a tensor it is given (an in-place kernel) fails the case,
   * naming the tensor. The suite passes each call copies and keeps a copy of each answer, so an
   * answer may live in a buffer the kernel reuses for the next call.
   */
  run(problem: Problem<F>, settings?: EvaluationSettings): Promise<OutputsOf<F>>;
  /**
   * Why this implementation declines a problem it cannot compute (an FFT convolution and a
   * time-varying selective scan), or undefined when it accepts it. Declined cases are reported,
   * never counted as passes.
   */
  decline?(problem: Problem<F>): string | undefined;
  /** One-token recurrent update (SSM decoding): the state advanced by one time step. */
  step?(inputs: StepInputsOf<F>, options: OptionsOf<F>): Promise<StepOutputs>;
  /**
   * The backward pass (spec/gradients.md): given the problem and a cotangent for every output, the
   * gradient of every differentiable input present, with parameters shared across batch or time
   * summed as autograd sums them. Optional. Where present, the suite's vjp properties judge it on
   * generated cases with random float32 cotangents: every gradient within rule V of the reference
   * (spec/tolerance.md, "Gradients"; `vjp`), ⟨ȳ, J·v⟩ from the forward-mode reference equal to
   * ⟨vjp(ȳ), v⟩ (`vjp-dot-product`), exact zeros from zero cotangents (`vjp-zero`) and linearity
   * in ȳ (`vjp-linearity`), two halves chained through the state (the second's dh0 as the
   * first's final-state cotangent) equal to the whole (`vjp-state-passing`), and a permuted batch
   * permuting the gradients (`vjp-batch-permutation`). A gradient of another shape, a missing gradient of a present input
   * and a gradient of an absent input fail; decline() applies as for run(). A process testee
   * declares it per family (spec/protocol.md, `vjp`). The golden gradient fixtures (form 'vjp')
   * replay through it too, and count as not run without it.
   */
  vjp?(problem: Problem<F>, cotangents: CotangentsOf<F>): Promise<GradientsOf<F>>;
  /** The error model the results are held to; componentwise when absent. */
  readonly errorModel?: ErrorModel;
  /**
   * The chunk sizes run() accepts in its settings (mamba_ssm's chunk_size), for a chunked
   * evaluation: the chunk-size property runs each one, which must not change the result. Absent:
   * run() ignores settings.chunkSize.
   */
  readonly chunkSizes?: readonly number[];
}

/** ssd's extra entry point (spec/families/ssd/ssd.md#variable-length-form). */
export interface SsdVarlenEntryPoint {
  /**
   * The variable-length form: sequences packed into one row, cut by cuSeqlens, each from its own
   * initial state, y (1, T, H, P) and one final state per sequence (vLLM's
   * mamba_chunk_scan_combined_varlen). Optional; the varlen property checks it where present.
   * settings.chunkSize as for run().
   */
  runVarlen?(problem: SsdVarlenProblem, settings?: EvaluationSettings): Promise<SsdVarlenOutputs>;
}

/** The ssd entry of an implementation when it has the varlen form, else undefined (for code that holds an entry of any family). */
export function varlenEntryOf(family: FamilyName, entry: FamilyEntryPoints<FamilyName>): (FamilyImplementation<'ssd'> & Required<SsdVarlenEntryPoint>) | undefined {
  if (family !== 'ssd') return undefined;
  const ssd = entry as unknown as FamilyImplementation<'ssd'>;
  return typeof ssd.runVarlen === 'function' ? (ssd as FamilyImplementation<'ssd'> & Required<SsdVarlenEntryPoint>) : undefined;
}

/** How the suite asks run() to evaluate, beyond the problem: only the chunk size so far. */
export interface EvaluationSettings {
  /** One of the family implementation's chunkSizes; absent: its own default. */
  readonly chunkSize?: number;
}

/**
 * A known failure, run and reported as expected; one that unexpectedly passes fails the run,
 * so the list stays honest. Absent fields match anything.
 */
export interface ExpectedFailure {
  readonly family?: FamilyName;
  /** A property name of the suite (e.g. 'conformance', 'state-passing') or 'fixtures'. */
  readonly property?: string;
  /** A regime name of spec/regimes.ts. */
  readonly regime?: string;
  /** Option values that must all match, e.g. { reverse: true }. */
  readonly options?: Readonly<Record<string, boolean>>;
  /** Why it fails: shown in the report. */
  readonly reason: string;
}

/** A scan implementation under test. */
export interface ScanImplementation {
  /** Unique name, e.g. 'parallel-scan/blelloch-f32'. */
  readonly name: string;
  /** The arithmetic its results are computed in; sets the unit roundoff of its tolerance. */
  readonly precision: Precision;
  /**
   * Precision of the scan accumulator when wider than `precision` (a float16 kernel that
   * accumulates in float32 declares 'float32' here); the tolerance model uses it for the
   * recurrence and `precision` for storage roundings.
   */
  readonly accumulation?: Precision;
  /**
   * 'flush' when subnormal intermediates may become zero (WGSL and CUDA's ftz allow it); the
   * tolerance then allows the smallest normal per operation instead of half a subnormal spacing.
   */
  readonly subnormals?: 'preserve' | 'flush';
  /** One line on what it is, shown in reports. */
  readonly description?: string;
  /** The families it computes. */
  readonly families: { readonly [F in FamilyName]?: FamilyImplementation<F> };
  /** Known failures (see ExpectedFailure). */
  readonly expectedFailures?: readonly ExpectedFailure[];
  /**
   * Acquires resources (a GPU device, a worker pool) once before any run. Throws
   * ImplementationUnavailableError when the machine cannot run it (no WebGPU adapter).
   */
  setup?(): Promise<void>;
  /** Releases what setup acquired; the process must be able to exit afterwards. */
  dispose?(): Promise<void>;
  /** Facts about where it ran (GPU adapter, backend, thread count), for the report; after setup. */
  environment?(): Readonly<Record<string, string>>;
}

/** Thrown by setup when this machine cannot run the implementation; the reason goes into the report. */
export class ImplementationUnavailableError extends Error {
  override readonly name = 'ImplementationUnavailableError';
}

/**
 * Thrown by run or step to decline a problem only discovered at run time (a testee process that
 * declines, a device limit); the suite reports it as declined, never as a failure.
 */
export class ImplementationDeclinedError extends Error {
  override readonly name: string = 'ImplementationDeclinedError';
}

/**
 * Whether `error` is an ImplementationUnavailableError: of this class, or of the class of that name
 * in another copy of this package (a user's module that resolves an install of its own, a bundle).
 */
export function isUnavailableError(error: unknown): error is Error {
  return error instanceof ImplementationUnavailableError || (error instanceof Error && error.name === 'ImplementationUnavailableError');
}

/** Whether `error` is an ImplementationDeclinedError: of this class or a subclass, or of the class of that name in another copy of this package. */
export function isDeclinedError(error: unknown): error is Error {
  return error instanceof ImplementationDeclinedError || (error instanceof Error && error.name === 'ImplementationDeclinedError');
}

/** Identity helper that gives a literal implementation its type (and checks it). */
export function defineImplementation(implementation: ScanImplementation): ScanImplementation {
  return implementation;
}
