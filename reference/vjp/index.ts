/**
 * The gradient reference of every family (spec/gradients.md): the VJP (cotangents of the inputs
 * from cotangents of the outputs, with a condition scale per gradient element) and the JVP
 * (tangents of the outputs from tangents of the inputs), evaluated in double-double and rounded
 * once to float64. A foundation for issue 17: not yet wired into the interface, protocol or suite.
 */
import type { AnyProblem, FamilyName, Problem } from '../../spec/families.ts';
import { dimensionsOf, outputShapes } from '../../spec/shapes.ts';
import type { Float64Tensor } from '../../spec/tensor.ts';
import { validateProblem } from '../../spec/validate.ts';
import { checkGradientTensors } from './check-gradient-tensors.ts';
import { linearRecurrenceGradients, linearRecurrenceTangents } from './linear-recurrence.ts';
import { ltiSsmGradients, ltiSsmTangents } from './lti-ssm.ts';
import { mamba3SisoGradients, mamba3SisoTangents } from './mamba3-siso.ts';
import { prefixSumFloorScales, prefixSumGradients, prefixSumTangents } from './prefix-sum.ts';
import { selectiveScanGradients, selectiveScanTangents } from './selective-scan.ts';
import { ssdGradients, ssdTangents } from './ssd.ts';
import { DIFFERENTIABLE_INPUTS, type Cotangents, type GradientArrays, type JvpResult, type Tangents, type Values, type VjpResult } from './types.ts';

export { DIFFERENTIABLE_INPUTS } from './types.ts';
export type { Cotangents, DifferentiableInput, GradientTensor, JvpResult, Tangents, VjpResult } from './types.ts';

/** The shapes of the differentiable inputs a validated problem has. */
function differentiableShapes(problem: Problem): Record<string, readonly number[]> {
  const inputs = problem.inputs as unknown as Record<string, { shape: readonly number[] } | undefined>;
  const names: readonly string[] = DIFFERENTIABLE_INPUTS[problem.family];
  return Object.fromEntries(names.flatMap((name) => (inputs[name] === undefined ? [] : [[name, inputs[name].shape]])));
}

/**
 * ε of the depth scale's difference quotient: (G(1 + ε) − G)/ε over-estimates Σ_τ m_τ·|τ| by
 * at most ε·Σ m_τ²/2·|τ| (relative ε·L/2) and loses 2^-53/ε = 2^-33 of G to the two float64 roundings.
 */
const DEPTH_STEP = 2 ** -20;

/** The depth scale from the condition scale and the one with decays times (1 + DEPTH_STEP); never below 0. */
function depthFromShift(scales: GradientArrays, shifted: GradientArrays): GradientArrays {
  const depths: GradientArrays = {};
  for (const [name, base] of Object.entries(scales)) {
    // A plain loop, written into the shifted array itself: Float64Array.from with a map function
    // boxes every element and was a tenth of a deep selective-scan VJP's time.
    const depth = shifted[name];
    for (let i = 0; i < base.length; i++) depth[i] = Math.max(0, (depth[i] - base[i]) / DEPTH_STEP);
    depths[name] = depth;
  }
  return depths;
}

/** Float64 arrays with the shapes of the inputs they belong to, as tensors. */
function asTensors(arrays: GradientArrays, shapes: Record<string, readonly number[]>): Record<string, Float64Tensor> {
  return Object.fromEntries(Object.entries(arrays).map(([name, data]) => [name, { data, shape: [...shapes[name]] }]));
}

/**
 * The VJP reference: validates the problem and a cotangent for every output, then returns the
 * gradient of every differentiable input present (parameters shared over batch or time summed as
 * autograd sums them), its condition scale and its depth scale (spec/gradients.md, spec/tolerance.md rule V).
 */
export function referenceVjp<F extends FamilyName>(problem: Problem<F>, cotangents: Cotangents<F>): VjpResult<F> {
  const checked = validateProblem(problem);
  const cot = checkGradientTensors(`${checked.family} cotangents`, cotangents, outputShapes(checked.family, dimensionsOf(checked)));
  const shapes = differentiableShapes(checked);
  let values: GradientArrays;
  let scales: GradientArrays;
  let depths: GradientArrays;
  // The depth scale Σ_τ (decays in τ)·|τ| is d/dε of the condition scale with every decay times (1 + ε).
  const shiftedDepth = (scaled: (decayScale: number) => GradientArrays): GradientArrays => depthFromShift(scales, scaled(1 + DEPTH_STEP));
  switch (checked.family) {
    case 'prefix-sum': {
      const { value, scale, depth } = prefixSumGradients(cot.y as Float32Array | Float64Array, checked.inputs.x.shape, checked.options);
      [values, scales, depths] = [{ x: value }, { x: scale }, { x: depth }];
      break;
    }
    case 'linear-recurrence':
      values = linearRecurrenceGradients(checked.inputs, checked.options, cot, false);
      scales = linearRecurrenceGradients(checked.inputs, checked.options, cot, true);
      depths = shiftedDepth((e) => linearRecurrenceGradients(checked.inputs, checked.options, cot, true, e));
      break;
    case 'selective-scan':
      values = selectiveScanGradients(checked.inputs, checked.options, cot, false);
      scales = selectiveScanGradients(checked.inputs, checked.options, cot, true);
      depths = shiftedDepth((e) => selectiveScanGradients(checked.inputs, checked.options, cot, true, e));
      break;
    case 'lti-ssm':
      values = ltiSsmGradients(checked.inputs, cot, false);
      scales = ltiSsmGradients(checked.inputs, cot, true);
      depths = shiftedDepth((e) => ltiSsmGradients(checked.inputs, cot, true, e));
      break;
    case 'ssd':
      values = ssdGradients(checked.inputs, checked.options, cot, false);
      scales = ssdGradients(checked.inputs, checked.options, cot, true);
      depths = shiftedDepth((e) => ssdGradients(checked.inputs, checked.options, cot, true, e));
      break;
    case 'mamba3-siso':
      values = mamba3SisoGradients(checked.inputs, cot, false);
      scales = mamba3SisoGradients(checked.inputs, cot, true);
      depths = shiftedDepth((e) => mamba3SisoGradients(checked.inputs, cot, true, e));
      break;
  }
  const floorScales = asTensors(floorScalesOf(checked, cot), shapes);
  return { gradients: asTensors(values, shapes), conditionScales: asTensors(scales, shapes), depthScales: asTensors(depths, shapes), floorScales } as VjpResult<F>;
}

/** Σ_τ τ⁺ of every gradient element of a validated problem (every factor raised to max(1, |v|)): rule V's floor scale. */
function floorScalesOf(checked: AnyProblem, cot: Values): GradientArrays {
  switch (checked.family) {
    case 'prefix-sum':
      return { x: prefixSumFloorScales(cot.y as Float32Array | Float64Array, checked.inputs.x.shape, checked.options) };
    case 'linear-recurrence':
      return linearRecurrenceGradients(checked.inputs, checked.options, cot, true, 1, true);
    case 'selective-scan':
      return selectiveScanGradients(checked.inputs, checked.options, cot, true, 1, true);
    case 'lti-ssm':
      return ltiSsmGradients(checked.inputs, cot, true, 1, true);
    case 'ssd':
      return ssdGradients(checked.inputs, checked.options, cot, true, 1, true);
    case 'mamba3-siso':
      return mamba3SisoGradients(checked.inputs, cot, true, 1, true);
  }
}

/**
 * The floor scale of every gradient element alone (referenceVjp returns it too): for a gradient
 * fixture, whose file holds the gradients and their condition and depth scales.
 */
export function referenceFloorScales<F extends FamilyName>(problem: Problem<F>, cotangents: Cotangents<F>): NonNullable<VjpResult<F>['floorScales']> {
  const checked = validateProblem(problem);
  const cot = checkGradientTensors(`${checked.family} cotangents`, cotangents, outputShapes(checked.family, dimensionsOf(checked)));
  return asTensors(floorScalesOf(checked, cot), differentiableShapes(checked)) as NonNullable<VjpResult<F>['floorScales']>;
}

/**
 * The JVP reference: validates the problem and a tangent for every differentiable input it has,
 * then returns the tangent of every output (J·v), the forward-mode check on the VJP.
 */
export function referenceJvp<F extends FamilyName>(problem: Problem<F>, tangents: Tangents<F>): JvpResult<F> {
  const checked = validateProblem(problem);
  const dot = checkGradientTensors(`${checked.family} tangents`, tangents, differentiableShapes(checked));
  const shapes = outputShapes(checked.family, dimensionsOf(checked)) as Record<string, readonly number[]>;
  let outputs: GradientArrays;
  switch (checked.family) {
    case 'prefix-sum':
      outputs = { y: prefixSumTangents(dot.x as Float32Array | Float64Array, checked.inputs.x.shape, checked.options) };
      break;
    case 'linear-recurrence':
      outputs = linearRecurrenceTangents(checked.inputs, checked.options, dot);
      break;
    case 'selective-scan':
      outputs = selectiveScanTangents(checked.inputs, checked.options, dot);
      break;
    case 'lti-ssm':
      outputs = ltiSsmTangents(checked.inputs, dot);
      break;
    case 'ssd':
      outputs = ssdTangents(checked.inputs, checked.options, dot);
      break;
    case 'mamba3-siso':
      outputs = mamba3SisoTangents(checked.inputs, dot);
      break;
  }
  return asTensors(outputs, shapes) as JvpResult<F>;
}
