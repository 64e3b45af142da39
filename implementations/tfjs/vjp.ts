/**
 * The vjp of the tfjs implementations by TensorFlow.js's own autodiff: tf.grads of Σ_k ⟨ȳ_k, y_k⟩
 * over the builders run() uses, with respect to every differentiable input present (a parameter
 * used in many places, as A or a shared B, is summed by tfjs's tape). None of the backward pass is
 * ours: a gradient error here is tfjs's.
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core registers no gradients itself: the @tensorflow/tfjs bundle does, on import (tfjs-core's own
// register_all_gradients is ESM with directory imports, which Node cannot load).
import '@tensorflow/tfjs';
import type { FamilyName, OutputsOf, Problem } from '../../spec/families.ts';
import { DIFFERENTIABLE_INPUTS, type Cotangents } from '../../spec/gradients.ts';
import type { OutputTensor, Tensor } from '../../spec/tensor.ts';
import { copyOutput, toTf, zerosOutput, type Liftable, type LiftedTensor } from './tensors.ts';

/** The tfjs tensors a builder returns, one per output of family F. */
export type BuiltOutputs<F extends FamilyName> = { readonly [K in keyof OutputsOf<F>]: tf.Tensor };

/** The differentiable inputs a problem has, in DIFFERENTIABLE_INPUTS order. */
function presentInputs(problem: Problem<FamilyName>): { readonly name: string; readonly tensor: Tensor }[] {
  const inputs = problem.inputs as unknown as Readonly<Record<string, Tensor | undefined>>;
  const names: readonly string[] = DIFFERENTIABLE_INPUTS[problem.family];
  return names.flatMap((name) => {
    const tensor = inputs[name];
    return tensor === undefined ? [] : [{ name, tensor }];
  });
}

/**
 * The gradient of every differentiable input present as tfjs tensors (the caller reads and
 * disposes them): tf.grads of the cotangent-weighted sum of `build`'s outputs, the inputs lifted
 * to the tensors tf.grads differentiates with respect to. Everything else is disposed.
 */
export function tfjsGradients<F extends FamilyName>(
  problem: Problem<F>,
  cotangents: Cotangents<F>,
  build: (inputs: Liftable<F>) => BuiltOutputs<F>,
): Record<string, tf.Tensor> {
  const present = presentInputs(problem as Problem<FamilyName>);
  return tf.tidy(() => {
    const weights = Object.entries(cotangents as Readonly<Record<string, { data: ArrayLike<number>; shape: readonly number[] }>>).map(
      ([name, cotangent]) => [name, tf.tensor(Float32Array.from(cotangent.data), [...cotangent.shape], 'float32')] as const,
    );
    const objective = (...values: tf.Tensor[]): tf.Tensor => {
      const lifted: Record<string, unknown> = { ...problem.inputs };
      present.forEach(({ name, tensor }, i) => {
        lifted[name] = { lifted: values[i], shape: tensor.shape } satisfies LiftedTensor;
      });
      const outputs = build(lifted as Liftable<F>) as Readonly<Record<string, tf.Tensor>>;
      return tf.addN(weights.map(([name, weight]) => tf.sum(tf.mul(weight, outputs[name]))));
    };
    const xs = present.map(({ tensor }) => toTf(tensor));
    // tf.grads throws for an input no op reaches (A of a selective scan with L = 1 and no h0: the
    // decay meets no state); the engine's own call with allowNoGradients leaves its gradient
    // undefined instead, and the gradient of an input the outputs do not depend on is zero.
    const { grads } = tf.engine().gradients(() => objective(...xs), xs, undefined, true);
    return Object.fromEntries(present.map(({ name }, i) => [name, grads[i] ?? tf.zerosLike(xs[i])]));
  });
}

/**
 * The gradients of a problem run() answers without tfjs (batch, channels or L zero): zero for every
 * input, except a state input run() passes through unchanged when L = 0, whose gradient is that
 * final state's cotangent.
 */
export function emptyGradients<F extends FamilyName>(
  problem: Problem<F>,
  cotangents: Cotangents<F>,
  passedThrough?: { readonly input: string; readonly output: string },
): Record<string, OutputTensor> {
  const weights = cotangents as Readonly<Record<string, { data: Float32Array | Float64Array; shape: readonly number[] }>>;
  return Object.fromEntries(
    presentInputs(problem as Problem<FamilyName>).map(({ name, tensor }) => {
      const through = passedThrough !== undefined && passedThrough.input === name ? weights[passedThrough.output] : undefined;
      return [name, through === undefined ? zerosOutput(tensor.shape) : copyOutput({ data: Float32Array.from(through.data), shape: through.shape }, tensor.shape)];
    }),
  );
}

