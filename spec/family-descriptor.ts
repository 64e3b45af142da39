/**
 * What a family is, declared once: its inputs with their roles, its outputs with their kind, its
 * options, the state a step carries, the error models it admits and the family it reduces to.
 * Validation, shapes, transforms, the protocol's vocabulary, fixtures and the tolerance read these
 * facts instead of testing family names. Each family declares its own in spec/families/<name>/.
 */
import type { FamilyTypes, InputsOf, OptionsOf, OutputsOf } from './families.ts';
import type { ErrorModel } from './implementation.ts';

/**
 * What an input is to the recurrence, which fixes its shape and how transforms treat it:
 * - `sequence`: (batch, dim, L), one value per channel and time step (x, a, b, u, delta, z);
 * - `parameter`: shared across batch and time, (dim) or (dim, N) (A, D, deltaBias, Abar…);
 * - `projection`: selective-scan's B and C, (dim, N) time-invariant, (batch, N, L) time-varying or
 *   (batch, G, N, L) grouped, its layout read from its rank;
 * - `state`: the initial state, (batch, dim) or (batch, dim, N);
 * - `segments`: sequence ids along time (seqIdx of ssd and selective-scan), (batch, L), non-decreasing: the state resets
 *   where they change, so transforms that cut or pad time keep those changes (never additive).
 * An input that declares `axes` has that shape instead of its role's.
 */
export type InputRole = 'sequence' | 'parameter' | 'projection' | 'state' | 'segments';

/**
 * A named axis of a tensor whose shape is not its role's default (ssd's tensors, laid out as
 * mamba_ssm's Mamba-2 kernels take them): its size comes from the problem's dimensions, `headdim`
 * being dim / heads, `limits` the 2 of a (lo, hi) pair and `angles` the rotary angles per head
 * (mamba3-siso's headdim_angles).
 */
export type AxisName = 'batch' | 'length' | 'heads' | 'headdim' | 'groups' | 'state' | 'limits' | 'angles';

/** One input of a family. */
export interface InputDescriptor<Name extends string = string> {
  readonly name: Name;
  readonly role: InputRole;
  /** Whether a problem may leave it out. */
  readonly optional: boolean;
  /**
   * Whether the outputs are jointly linear in it with the other additive inputs (b and h0 of a
   * linear recurrence; u and h0 of an SSM): linearity, scaling by 2^k and zero input act on these.
   */
  readonly additive: boolean;
  /** A parameter with a state axis, (dim, N) rather than (dim). */
  readonly perState?: boolean;
  /** Its shape in named axes, where its role's default shape does not fit; a time axis is `length`. */
  readonly axes?: readonly AxisName[];
  /** A second accepted shape (ssd's D: (H) or (H, P)); problems may be drawn in either. */
  readonly alternateAxes?: readonly AxisName[];
}

/** One output: a sequence (batch, dim, L) or a final state, unless it declares its axes. */
export interface OutputDescriptor<Name extends string = string> {
  readonly name: Name;
  readonly kind: 'sequence' | 'state';
  /** Its shape in named axes where the kind's default does not fit (ssd: y (batch, L, H, P)). */
  readonly axes?: readonly AxisName[];
  /**
   * How its elements are compared with the reference: `angle` for an angle taken mod 2π
   * (mamba3-siso's angle state), by circular distance, so a wrap near 2π is never a difference.
   * Absent: as numbers.
   */
  readonly comparison?: 'angle';
  /**
   * Whether it is linear in the additive inputs (scaled with them, zero when they are); absent:
   * true. mamba3-siso's angle and key states are not (they depend on none of V, S, ṽ).
   */
  readonly linear?: boolean;
}

/**
 * One state a run hands on: its initial-state input, its final-state output and its name among a
 * step's inputs and outputs.
 */
export interface StateDescriptor<InputName extends string = string, OutputName extends string = string> {
  readonly input: InputName;
  readonly output: OutputName;
  readonly step: string;
}

/** One boolean option. */
export interface OptionDescriptor {
  readonly default: boolean;
  /** It reverses the processing order (a reverse scan runs from t = L−1 down to 0). */
  readonly directional?: boolean;
  /** A step is always forward and inclusive: options the step does not take are false there. */
  readonly inStep: boolean;
  /** One line on what it does. */
  readonly description: string;
}

/** The descriptor of family F. */
export interface FamilyDescriptor<F extends keyof FamilyTypes = keyof FamilyTypes> {
  readonly name: F;
  /** One line on the math, for listings. */
  readonly summary: string;
  /** Every input, in the family's documented order. */
  readonly inputs: readonly InputDescriptor<keyof InputsOf<F> & string>[];
  /** Every output, in a fixed order (reports, fixtures, protocol); the sequence output first. */
  readonly outputs: readonly OutputDescriptor<keyof OutputsOf<F> & string>[];
  /** Every option with its default. */
  readonly options: { readonly [K in keyof OptionsOf<F>]-?: OptionDescriptor };
  /** The sequence input whose shape (batch, dim, L), or whose axes, give a problem's dimensions. */
  readonly dimensionsFrom: keyof InputsOf<F> & string;
  /**
   * The input that gives the state size N: a parameter's second axis, or its `state` axis where it
   * declares axes; absent for the scalar-state families.
   */
  readonly stateSizeFrom?: keyof InputsOf<F> & string;
  /** The input whose `groups` axis gives the number of groups G, where the family has one in its axes. */
  readonly groupsFrom?: keyof InputsOf<F> & string;
  /** The input whose `angles` axis gives the number of rotary angles per head, where the family has one. */
  readonly anglesFrom?: keyof InputsOf<F> & string;
  /**
   * The states a run hands on and a step carries, where there are several (mamba3-siso: angle,
   * SSM, key and value states); absent: the one state input and the state output, `state` in a step.
   */
  readonly states?: readonly StateDescriptor<keyof InputsOf<F> & string, keyof OutputsOf<F> & string>[];
  /** Whether the sequence output reads the state out through C (and D, the gate): y = C·h + D·u. */
  readonly readsOut: boolean;
  /** The error models the family admits; normwise only where it is a convolution (FFT). */
  readonly errorModels: readonly ErrorModel[];
  /**
   * Sequence inputs that, held constant over time together with time-invariant projections and
   * no initial state, make the family a convolution (what FFT implementations compute); the suite
   * draws a share of such cases. Absent where holding inputs does not give one.
   */
  readonly convolutionWhenConstant?: readonly (keyof InputsOf<F> & string)[];
  /**
   * The options under which an identity step exists (a step that leaves the state and the earlier
   * outputs unchanged, which appendIdentityPadding in spec/regimes.ts appends): selective-scan's
   * Δ' = 0 needs Δ' = Δ, so deltaSoftplus false (softplus(0) is log 2, not 0). Absent: under every option.
   */
  readonly identityStepNeeds?: Partial<OptionsOf<F>>;
  /** The family it reduces to, and how (proved on the reference in test/reference/reductions.test.ts). */
  readonly reducesTo?: { readonly family: keyof FamilyTypes; readonly how: string };
}
