/**
 * A family's choices for the golden fixture catalogue (fixtures/catalogue.ts): the sizes of its
 * cases, where every option/input variant runs, how its variants are tagged in case ids, and its
 * long cases. Each family declares its own in spec/families/<name>/catalogue.ts; the generic
 * catalogue reads these and never names a family. Changing one changes committed fixtures.
 */
import type { FamilyName, OptionsOf } from './families.ts';
import type { OptionalInputSwitches, ProjectionKind, RegimeName, SampleDimensions } from './regimes.ts';

/** A variant of a family: options, optional inputs and (for projection inputs) B/C layouts. */
export interface Variant<F extends FamilyName = FamilyName> {
  readonly options: OptionsOf<F>;
  readonly optionalInputs: OptionalInputSwitches;
  readonly projections?: { readonly B: ProjectionKind; readonly C: ProjectionKind };
  /** Inputs drawn in their descriptor's second shape (ssd's D as (H, P)); only inputs that are on. */
  readonly alternateShapes?: readonly string[];
}

/** A long case: one per entry, at the catalogue's LONG_LENGTH. */
export interface LongCase<F extends FamilyName = FamilyName> {
  readonly regime: RegimeName;
  /** Its sizes but the length, which is LONG_LENGTH. */
  readonly dims: Omit<SampleDimensions, 'length'>;
  /** Picks its variant: the first of variantsOf(family) that satisfies this. */
  readonly variant: (variant: Variant<F>) => boolean;
}

/** The fixture catalogue's choices for family F. */
export interface FamilyCatalogue<F extends FamilyName = FamilyName> {
  /**
   * The sizes of a case of this length: small channels everywhere, fewer on long sequences;
   * `batched` asks for the batch/channel indexing cases (batch 2, dim 4).
   */
  readonly dims: (length: number, batched: boolean) => SampleDimensions;
  /**
   * The lengths at which every option/input variant runs once each; absent: the catalogue's short
   * boundary lengths (EDGE_LENGTHS). A family with many variants picks one length.
   */
  readonly everyVariantAt?: readonly number[];
  /**
   * Optional inputs that vary only against the others' absence instead of in every combination
   * with them (selective-scan's seqIdx, which would double its 288 variants): variantsOf leaves
   * them off, and each adds its own cases instead (fixtures/catalogue.ts#separateInputCases), drawn
   * from its variants — it on, every other optional input off, in every B/C layout, shape and
   * option set: each variant once at everyVariantAt, one rotating along SWEEP_LENGTHS, the two
   * batched cases, and each applicable regime at SEPARATE_REGIME_LENGTHS.
   */
  readonly separateInputs?: readonly string[];
  /** The case-id tags of each option: [tag when true, tag when false], '' for none; in the descriptor's option order. */
  readonly optionTags: { readonly [K in keyof OptionsOf<F>]-?: readonly [string, string] };
  /** The case-id tag of an optional input that is on, where it is not the input's own name. */
  readonly inputTags?: Readonly<Record<string, string>>;
  /** The case-id tag of an input drawn in its second shape (ssd: D as (H, P) is 'Dhp'); default `<name>2`. */
  readonly alternateTags?: Readonly<Record<string, string>>;
  /**
   * The longest length of its sweep and regime cases, where its cases are heavy (mamba3-siso: 257,
   * past four chunks of 64); absent: the catalogue's lengths up to 4096.
   */
  readonly maxLength?: number;
  /** Its long cases (about 2 MB each, so few). */
  readonly longCases?: readonly LongCase<F>[];
}
