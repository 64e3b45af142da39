/**
 * The registry of generated-case properties, one per file beside this one: this list is THE list
 * (suite/results.ts derives PROPERTY_NAMES from it, after the fixtures). Adding a property is its
 * file and one line here.
 */
import { batchPermutation } from './batch-permutation.ts';
import { causality } from './causality.ts';
import { chunkSize } from './chunk-size.ts';
import { conformance } from './conformance.ts';
import { determinism } from './determinism.ts';
import { groupedHeads } from './grouped-heads.ts';
import { identityPadding } from './identity-padding.ts';
import { linearity } from './linearity.ts';
import { packedSequences } from './packed-sequences.ts';
import { reverseFlip } from './reverse-flip.ts';
import { scaling } from './scaling.ts';
import { statePassing } from './state-passing.ts';
import { step } from './step.ts';
import { varlen } from './varlen.ts';
import { vjp } from './vjp.ts';
import { vjpBatchPermutation } from './vjp-batch-permutation.ts';
import { vjpDotProduct } from './vjp-dot-product.ts';
import { vjpLinearity } from './vjp-linearity.ts';
import { vjpStatePassing } from './vjp-state-passing.ts';
import { vjpZero } from './vjp-zero.ts';
import { zeroInput } from './zero-input.ts';
import type { PropertyDefinition } from './harness.ts';

/** Every generated-case property, in report order. */
export const PROPERTIES = [
  conformance,
  statePassing,
  packedSequences,
  varlen,
  step,
  chunkSize,
  scaling,
  linearity,
  identityPadding,
  zeroInput,
  reverseFlip,
  causality,
  batchPermutation,
  groupedHeads,
  determinism,
  vjp,
  vjpDotProduct,
  vjpZero,
  vjpLinearity,
  vjpStatePassing,
  vjpBatchPermutation,
] as const satisfies readonly PropertyDefinition[];

/** The name of a generated-case property. */
export type GeneratedPropertyName = (typeof PROPERTIES)[number]['name'];

/** The property of a name (undefined for 'fixtures', which replays golden cases instead). */
export function propertyByName(name: string): PropertyDefinition | undefined {
  return PROPERTIES.find((p) => p.name === name);
}

export type { PropertyCase, PropertyContext, PropertyDefinition } from './harness.ts';
export { runChecked, withTimeout, type CheckResult } from '../pipeline.ts';
