/**
 * What the gradient reference takes and returns (spec/gradients.md): a cotangent for every output,
 * a tangent for every differentiable input present, and per differentiable input the gradient and
 * its condition scale. Not yet part of the suite's interface or protocol (issue 17).
 */
import type { FamilyName, OutputsOf } from '../../spec/families.ts';
import type { DifferentiableInput, GradientTensor } from '../../spec/gradients.ts';

export { DIFFERENTIABLE_INPUTS, type Cotangents, type DifferentiableInput, type GradientTensor } from '../../spec/gradients.ts';
import type { Float64Tensor } from '../../spec/tensor.ts';

/** A tangent for every differentiable input the problem has (one that is absent has none). */
export type Tangents<F extends FamilyName> = { readonly [K in DifferentiableInput<F>]?: GradientTensor };

/** The gradient of every differentiable input present, shaped like it, and its condition scale. */
export interface VjpResult<F extends FamilyName> {
  readonly gradients: { readonly [K in DifferentiableInput<F>]?: Float64Tensor };
  readonly conditionScales: { readonly [K in DifferentiableInput<F>]?: Float64Tensor };
  /** Σ over the element's terms of (decays in the term)·|term|: the adjoint's counterpart of the forward depth scale W. */
  readonly depthScales: { readonly [K in DifferentiableInput<F>]?: Float64Tensor };
  /**
   * Σ over the element's terms of τ⁺, the term with every factor raised to max(1, |factor|) (0
   * stays 0): what the absolute errors of a term's operations can be multiplied by (rule V's floor).
   */
  readonly floorScales: { readonly [K in DifferentiableInput<F>]?: Float64Tensor };
}

/** The tangent of every output of family F (J·v), float64. */
export type JvpResult<F extends FamilyName> = { readonly [K in keyof OutputsOf<F>]: Float64Tensor };

/** Values of cotangents or tangents by name, as the family functions read them (validated already). */
export type Values = Readonly<Record<string, Float32Array | Float64Array | undefined>>;

/** A family function's gradients by input name: float64 values of the inputs' shapes. */
export type GradientArrays = Record<string, Float64Array>;
