/** Shared helpers of the sequential-implementation tests: running a family, reading outputs, slicing a token. */
import { expect } from 'vitest';
import implementations from '../../../implementations/sequential/index.ts';
import type { FamilyImplementation, ScanImplementation } from '../../../spec/implementation.ts';
import type { FamilyName, OptionsOf, OutputsOf, Problem, StepInputsOf, StepOutputs } from '../../../spec/families.ts';
import { tensor, type OutputTensor, type Tensor } from '../../../spec/tensor.ts';
import { validateOutputs, validateProblem, validateStepInputs, validateStepOutputs } from '../../../spec/validate.ts';

export { implementations };

/** A float32 tensor from nested-free data and a shape. */
export const t = (data: readonly number[], shape: readonly number[]): Tensor => tensor(data, shape);

/** The family implementation of `implementation`, failing the test when absent. */
export function familyOf<F extends FamilyName>(implementation: ScanImplementation, family: F): FamilyImplementation<F> {
  const found = implementation.families[family] as FamilyImplementation<F> | undefined;
  if (found === undefined) throw new Error(`${implementation.name} does not implement ${family}`);
  return found;
}

/** Validates the problem, runs it and validates the answer's shapes. */
export async function run<F extends FamilyName>(implementation: ScanImplementation, problem: Problem<F>): Promise<OutputsOf<F>> {
  validateProblem(problem);
  const outputs = await familyOf(implementation, problem.family).run(problem);
  return validateOutputs(problem, outputs);
}

/** Validates the step inputs, steps once and validates the answer's shapes. */
export async function step<F extends FamilyName>(
  implementation: ScanImplementation,
  family: F,
  inputs: StepInputsOf<F>,
  options: OptionsOf<F>,
): Promise<StepOutputs> {
  validateStepInputs(family, inputs, options);
  const stepFn = familyOf(implementation, family).step;
  if (stepFn === undefined) throw new Error(`${implementation.name} has no ${family} step`);
  const outputs = await stepFn(inputs, options);
  return validateStepOutputs(family, inputs, outputs);
}

/** The values of an output as plain numbers, −0 read as 0 (the spec does not distinguish them). */
export function values(output: OutputTensor): number[] {
  return Array.from(output.data, (v) => v + 0);
}

/** Asserts an output's values exactly. */
export function expectValues(output: OutputTensor, expected: readonly number[]): void {
  expect(values(output)).toEqual(expected.map((v) => v + 0));
}

/** Asserts an output's values to a relative tolerance (for results that go through exp). */
export function expectClose(output: OutputTensor, expected: readonly number[], relative: number): void {
  const got = values(output);
  expect(got.length).toBe(expected.length);
  got.forEach((v, i) => {
    expect(Math.abs(v - expected[i]), `element ${i}: got ${v}, expected ${expected[i]}`).toBeLessThanOrEqual(relative * Math.abs(expected[i]));
  });
}

/** The relative tolerance of results that went through exp: a few ulps of the implementation's precision. */
export function expTolerance(implementation: ScanImplementation): number {
  return implementation.precision === 'float32' ? 8 * 2 ** -24 : 8 * 2 ** -53;
}

/**
 * Token t of a tensor whose last axis is time (length L): `keep` keeps that axis with length 1
 * (a step's B and C), otherwise it is dropped (u, delta, z, x, a, b).
 */
export function tokenOf(source: Tensor, t: number, keep: boolean): Tensor {
  const L = source.shape[source.shape.length - 1];
  const rows = source.data.length / L;
  const data = new Float32Array(rows);
  for (let r = 0; r < rows; r++) data[r] = source.data[r * L + t];
  const leading = source.shape.slice(0, -1);
  return { data, shape: keep ? [...leading, 1] : leading };
}

/** A float32 tensor of the given shape from a deterministic generator of values. */
export function sampled(shape: readonly number[], next: () => number): Tensor {
  const count = shape.reduce((p, s) => p * s, 1);
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = next();
  return { data, shape: [...shape] };
}

/** A small deterministic generator (LCG) of values uniform in [lo, hi). */
export function uniform(seed: number, lo: number, hi: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + ((s >>> 8) / 2 ** 24) * (hi - lo);
  };
}
