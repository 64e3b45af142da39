/**
 * Gradients at the plug-in interface (spec/gradients.md): a cotangent for every output, and the
 * gradient of every differentiable input present, shaped like the input. The suite's vjp entry
 * point (spec/implementation.ts) and the gradient reference (reference/vjp/) share these types.
 */
import { FAMILY_NAMES, type FamilyName, type OutputsOf } from './families.ts';
import type { OutputTensor } from './tensor.ts';

/** A cotangent or tangent: float32 or float64 values, dense row-major like the tensor it goes with. */
export interface GradientTensor {
  readonly data: Float32Array | Float64Array;
  readonly shape: readonly number[];
}

/**
 * The differentiable inputs of each family, in the order of its input table. Not differentiable:
 * ssd's dtLimit (clamp bounds, a Python tuple in mamba_ssm) and selective-scan's and ssd's seqIdx (integer labels).
 */
export const DIFFERENTIABLE_INPUTS = {
  'prefix-sum': ['x'],
  'linear-recurrence': ['a', 'b', 'h0'],
  'selective-scan': ['u', 'delta', 'A', 'B', 'C', 'D', 'z', 'deltaBias', 'h0'],
  'lti-ssm': ['Abar', 'Bbar', 'C', 'D', 'u'],
  ssd: ['x', 'dt', 'A', 'B', 'C', 'D', 'z', 'dtBias', 'initialStates'],
  'mamba3-siso': ['Q', 'K', 'V', 'ADT', 'DT', 'Trap', 'QBias', 'KBias', 'Angles', 'D', 'Z', 'angleState', 'ssmState', 'kState', 'vState'],
} as const satisfies { readonly [F in FamilyName]: readonly string[] };

/** The families whose gradients the spec defines (a differentiable input at least), in FAMILY_NAMES order. */
export const GRADIENT_FAMILIES: readonly FamilyName[] = FAMILY_NAMES.filter((family) => DIFFERENTIABLE_INPUTS[family].length > 0);

/** The name of a differentiable input of family F. */
export type DifferentiableInput<F extends FamilyName> = (typeof DIFFERENTIABLE_INPUTS)[F][number];

/** A cotangent for every output of family F (the final state included). */
export type Cotangents<F extends FamilyName> = { readonly [K in keyof OutputsOf<F>]: GradientTensor };

/** The gradients an implementation's vjp returns: one per differentiable input the problem has, shaped like it, float32 or float64. */
export type GradientsOf<F extends FamilyName> = { readonly [K in DifferentiableInput<F>]?: OutputTensor };
