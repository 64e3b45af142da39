/**
 * What the gradient reference takes and returns (spec/gradients.md): a cotangent for every output,
 * a tangent for every differentiable input present, and per differentiable input the gradient and
 * its condition scale. Not yet part of the suite's interface or protocol (issue 17).
 */
import type { FamilyName, OutputsOf } from '../../spec/families.ts';
import type { Float64Tensor } from '../../spec/tensor.ts';

/** A cotangent or tangent: float32 or float64 values, dense row-major like the tensor it goes with. */
export interface GradientTensor {
  readonly data: Float32Array | Float64Array;
  readonly shape: readonly number[];
}

/**
 * The differentiable inputs of each family, in the order of its input table. Not differentiable:
 * ssd's dtLimit (clamp bounds, a Python tuple in mamba_ssm) and seqIdx (integer labels).
 */
export const DIFFERENTIABLE_INPUTS = {
  'prefix-sum': ['x'],
  'linear-recurrence': ['a', 'b', 'h0'],
  'selective-scan': ['u', 'delta', 'A', 'B', 'C', 'D', 'z', 'deltaBias', 'h0'],
  'lti-ssm': ['Abar', 'Bbar', 'C', 'D', 'u'],
  ssd: ['x', 'dt', 'A', 'B', 'C', 'D', 'z', 'dtBias', 'initialStates'],
} as const satisfies { readonly [F in FamilyName]: readonly string[] };

/** The name of a differentiable input of family F. */
export type DifferentiableInput<F extends FamilyName> = (typeof DIFFERENTIABLE_INPUTS)[F][number];

/** A cotangent for every output of family F (the final state included). */
export type Cotangents<F extends FamilyName> = { readonly [K in keyof OutputsOf<F>]: GradientTensor };

/** A tangent for every differentiable input the problem has (one that is absent has none). */
export type Tangents<F extends FamilyName> = { readonly [K in DifferentiableInput<F>]?: GradientTensor };

/** The gradient of every differentiable input present, shaped like it, and its condition scale. */
export interface VjpResult<F extends FamilyName> {
  readonly gradients: { readonly [K in DifferentiableInput<F>]?: Float64Tensor };
  readonly conditionScales: { readonly [K in DifferentiableInput<F>]?: Float64Tensor };
  /** Σ over the element's terms of (decays in the term)·|term|: the adjoint's counterpart of the forward depth scale W. */
  readonly depthScales: { readonly [K in DifferentiableInput<F>]?: Float64Tensor };
}

/** The tangent of every output of family F (J·v), float64. */
export type JvpResult<F extends FamilyName> = { readonly [K in keyof OutputsOf<F>]: Float64Tensor };

/** Values of cotangents or tangents by name, as the family functions read them (validated already). */
export type Values = Readonly<Record<string, Float32Array | Float64Array | undefined>>;

/** A family function's gradients by input name: float64 values of the inputs' shapes. */
export type GradientArrays = Record<string, Float64Array>;
