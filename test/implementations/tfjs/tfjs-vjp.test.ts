/**
 * The tfjs implementations' vjp (TensorFlow.js's own autodiff): present on every family, equal to
 * the reference on one small selective scan, and the tfjs cumsum gradient bug that ssd's segsum
 * works around (implementations/tfjs/ssd.ts, stableSegsum). The suite's vjp properties judge it in full (scripts/cli.ts check --property vjp).
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FamilyName, Problem } from '../../../spec/families.ts';
import type { Cotangents } from '../../../spec/gradients.ts';
import implementations from '../../../implementations/tfjs/index.ts';
// vjp.ts registers tfjs's gradients (through @tensorflow/tfjs), which the bare tf.grad below needs.
import '../../../implementations/tfjs/vjp.ts';
import { referenceVjp } from '../../../reference/vjp/index.ts';
import { tensorSource } from './tensor-source.ts';

const cpu = implementations.find((i) => i.name === 'tfjs-cpu');
if (cpu === undefined) throw new Error('no tfjs-cpu implementation');

beforeAll(async () => cpu.setup?.());
afterAll(async () => cpu.dispose?.());

describe('tfjs vjp', () => {
  it('is wired on every family of tfjs-cpu', () => {
    const families = Object.keys(cpu.families) as FamilyName[];
    expect(families.length).toBe(5);
    for (const family of families) expect(typeof cpu.families[family]?.vjp, family).toBe('function');
  });

  it('is left out where the backend cannot run it right: selective-scan and ssd on wasm, prefix-sum and ssd on webgpu', () => {
    const wired = (name: string, family: FamilyName): boolean => typeof implementations.find((i) => i.name === name)?.families[family]?.vjp === 'function';
    const families: FamilyName[] = ['prefix-sum', 'linear-recurrence', 'selective-scan', 'lti-ssm', 'ssd'];
    expect(families.filter((family) => wired('tfjs-wasm', family))).toEqual(['prefix-sum', 'linear-recurrence', 'lti-ssm']);
    // tfjs-webgpu is registered whether or not this machine has an adapter: its families are known before setup.
    expect(families.filter((family) => wired('tfjs-webgpu', family))).toEqual(['linear-recurrence', 'selective-scan', 'lti-ssm']);
  });

  it('matches the reference on a selective scan with every optional input (shared A, B, C, D, deltaBias summed by tfjs)', async () => {
    const random = tensorSource('tfjs-vjp');
    const [batch, dim, length, stateSize] = [2, 2, 5, 3];
    const problem: Problem<'selective-scan'> = {
      family: 'selective-scan',
      inputs: {
        u: random([batch, dim, length]),
        delta: random([batch, dim, length], -1, 0.5),
        A: random([dim, stateSize], -1, -0.1),
        B: random([dim, stateSize]),
        C: random([dim, stateSize]),
        D: random([dim]),
        z: random([batch, dim, length]),
        deltaBias: random([dim], -0.2, 0.2),
        h0: random([batch, dim, stateSize]),
      },
      options: { deltaSoftplus: true },
    };
    const cotangents: Cotangents<'selective-scan'> = { y: random([batch, dim, length]), lastState: random([batch, dim, stateSize]) };
    const tensorsBefore = tf.memory().numTensors;
    const gradients = await cpu.families['selective-scan']!.vjp!(problem, cotangents);
    // The tape's saved tensors and the gradients read back are all disposed.
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    const reference = referenceVjp(problem, cotangents);
    const names = Object.keys(reference.gradients) as (keyof typeof reference.gradients)[];
    expect(Object.keys(gradients).sort()).toEqual([...names].sort());
    for (const name of names) {
      const expected = reference.gradients[name]!;
      const scale = reference.conditionScales[name]!;
      const actual = gradients[name]!;
      expect(actual.shape, name).toEqual(expected.shape);
      // 2^-10·(condition scale): ~16000 float32 roundings of slack, far below a misplaced or transposed term.
      actual.data.forEach((value, i) => expect(Math.abs(value - expected.data[i]), `${name}[${i}]`).toBeLessThanOrEqual(2 ** -10 * scale.data[i] + 1e-30));
    }
  });

  it("shows tfjs-core 4.22's cumsum gradient bug that ssd's segsum works around: along a non-last axis it comes back transposed", () => {
    // d/dx Σ w ⊙ cumsum(x, axis 0) = reverse cumsum of w along axis 0: [[w00 + w10, w01 + w11], [w10, w11]].
    const w = tf.tensor2d([[1, 2], [3, 4]]);
    const x = tf.tensor2d([[0, 0], [0, 0]]);
    const gradient = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(w, tf.cumsum(v, 0))))(x);
    const correct = [4, 6, 3, 4];
    const transposed = [4, 3, 6, 4];
    expect(Array.from(gradient.dataSync())).toEqual(transposed);
    expect(transposed).not.toEqual(correct);
    tf.dispose([w, x, gradient]);
  });
});
