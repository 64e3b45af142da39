/**
 * The tensors of a vjp request and its answer (spec/protocol.md#vjp): the problem's inputs under
 * their own names, a cotangent per output as `cotangent.<output>`, and a gradient per
 * differentiable input present as `gradient.<input>`. Input names are identifiers without a dot
 * (spec/families.ts INPUT_NAMES), so the prefixed names can never clash with them.
 */
import { INPUT_NAMES, OUTPUT_NAMES, type FamilyName, type Problem } from '../spec/families.ts';
import { DIFFERENTIABLE_INPUTS, type Cotangents, type GradientsOf } from '../spec/gradients.ts';
import { dimensionsOf, outputShapes } from '../spec/shapes.ts';
import type { AnyProblem } from '../spec/families.ts';
import type { OutputTensor, Tensor } from '../spec/tensor.ts';
import { validateOutputTensors } from '../spec/validate.ts';

/** Prefix of a cotangent tensor's name in a vjp request. */
export const COTANGENT_PREFIX = 'cotangent.';
/** Prefix of a gradient tensor's name in a vjp answer. */
export const GRADIENT_PREFIX = 'gradient.';

/** The tensors of a vjp request: the inputs present, then `cotangent.<output>` for every output (validated: names, dtype, shapes). */
export function vjpRequestTensors<F extends FamilyName>(problem: Problem<F>, cotangents: Cotangents<F>): Record<string, Tensor> {
  const outputs = OUTPUT_NAMES[problem.family] as readonly string[];
  const shapes = outputShapes(problem.family, dimensionsOf(problem as AnyProblem)) as Readonly<Record<string, readonly number[]>>;
  const checked = validateOutputTensors(`${problem.family} vjp cotangents`, outputs, shapes, cotangents);
  const tensors: Record<string, Tensor> = {};
  for (const [name, value] of Object.entries(problem.inputs as object)) if (value !== undefined) tensors[name] = value as Tensor;
  for (const name of outputs) tensors[`${COTANGENT_PREFIX}${name}`] = checked[name] as unknown as Tensor;
  return tensors;
}

/**
 * The gradients of a vjp answer: exactly `gradient.<input>` for every differentiable input the
 * problem has, each shaped like that input; every missing, extra or misshapen tensor is named in
 * one SpecValidationError. Values are not judged here.
 */
export function gradientsOfAnswer<F extends FamilyName>(problem: Problem<F>, answer: Readonly<Record<string, OutputTensor>>): GradientsOf<F> {
  const inputs = problem.inputs as unknown as Readonly<Record<string, Tensor | undefined>>;
  const present = (DIFFERENTIABLE_INPUTS[problem.family] as readonly string[]).filter((name) => inputs[name] !== undefined);
  const names = present.map((name) => `${GRADIENT_PREFIX}${name}`);
  const shapes = Object.fromEntries(present.map((name) => [`${GRADIENT_PREFIX}${name}`, (inputs[name] as Tensor).shape]));
  const checked = validateOutputTensors(`${problem.family} vjp answer`, names, shapes, answer);
  return Object.fromEntries(present.map((name) => [name, checked[`${GRADIENT_PREFIX}${name}`]])) as GradientsOf<F>;
}

// The prefixed names rely on input and output names having no dot.
for (const family of Object.keys(INPUT_NAMES) as FamilyName[]) {
  for (const name of [...INPUT_NAMES[family], ...OUTPUT_NAMES[family]]) {
    if (name.includes('.')) throw new Error(`protocol/vjp-tensors.ts: tensor name ${family}.${name} contains a dot and could clash with cotangent./gradient. names`);
  }
}
