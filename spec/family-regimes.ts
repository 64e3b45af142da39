/**
 * A family's value regimes: how each of its inputs is drawn in the generic regime, what each other
 * regime changes (or why it does not apply), the order of the draws and the family's identity
 * step. Each family declares its own in spec/families/<name>/regimes.ts; spec/regimes.ts reads
 * them and never names a family. Changing one changes committed fixtures and generated cases.
 */
import type { TensorDraw } from './draws.ts';
import type { FamilyName, InputsOf } from './families.ts';
import type { RegimeName, SampleRequest } from './regimes.ts';

/** The name of one of family F's inputs. */
type InputName<F extends FamilyName> = keyof InputsOf<F> & string;

/** How every input of family F is drawn (an optional input only when it is switched on). */
export type ValueModel<F extends FamilyName = FamilyName> = { readonly [K in InputName<F>]-?: TensorDraw };

/** What a regime draws differently from the generic model; the inputs it leaves out are drawn as there. */
export type ModelChanges<F extends FamilyName = FamilyName> = Partial<ValueModel<F>>;

/**
 * A regime for one family:
 * - changes to the generic model;
 * - a function of the request giving the changes, or why this request cannot be served (a size,
 *   option or optional input the regime cannot take);
 * - a string: the regime does not apply to the family at all, and why.
 */
export type FamilyRegime<F extends FamilyName = FamilyName> = ModelChanges<F> | ((request: SampleRequest<F>) => ModelChanges<F> | string) | string;

/**
 * The regimes a family states for itself: every regime but generic (its generic model) and
 * identity-padding (a generic problem padded with its identity step).
 */
export type OwnRegimeName = Exclude<RegimeName, 'generic' | 'identity-padding'>;

/** The value of an identity step of one input, per row ((batch, dim) pair, or (batch, G, N) for a projection); may read the unpadded inputs. */
export type IdentityFill<F extends FamilyName = FamilyName> = number | ((row: number, inputs: InputsOf<F>) => number);

/**
 * A step that leaves the state and the earlier outputs unchanged (the identity-padding regime
 * appends such steps, spec/regimes.ts#appendIdentityPadding).
 */
export interface IdentityStep<F extends FamilyName = FamilyName> {
  /**
   * The value of every input with a time axis (sequences, time-varying projections) in an identity
   * step; the inputs without one are kept as they are.
   */
  readonly fills: { readonly [K in InputName<F>]?: IdentityFill<F> };
  /** Why there is no identity step under the options that the descriptor's identityStepNeeds rules out. */
  readonly absentOtherwise?: string;
  /**
   * Why the family has no identity step under any option (mamba3-siso: the key and value states
   * are the last token's, so any appended token replaces them); identity-padding then never applies.
   */
  readonly none?: string;
  /**
   * Inputs to replace so that an identity step exists (ssd: a dtLimit widened to contain 0, which
   * keeps Δ = 0 possible), or undefined when it exists already; spec/regimes.ts#admitIdentityStep.
   */
  readonly admit?: (inputs: InputsOf<F>) => Partial<InputsOf<F>> | undefined;
}

/** The value regimes of family F. */
export interface FamilyRegimes<F extends FamilyName = FamilyName> {
  /** The fixed order in which its inputs are drawn (each row-major): every input once. */
  readonly drawOrder: readonly InputName<F>[];
  /** The generic regime: O(1) values, as the family's own reference tests draw them. */
  readonly generic: ValueModel<F>;
  /** Every other regime but identity-padding: what it changes, or why it does not apply. */
  readonly regimes: { readonly [R in OwnRegimeName]: FamilyRegime<F> };
  /** The family's identity step. */
  readonly identityStep: IdentityStep<F>;
}
