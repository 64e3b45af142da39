/**
 * Small deterministic problems and a relative comparison for the protocol tests: the tests here
 * check that tensors travel through a testee intact, not the tolerance model (test/ of the suite).
 */
import seedrandom from 'seedrandom';
import { assert, expect } from 'vitest';
import type { OutputTensor, Tensor } from '../../spec/tensor.ts';
import { tensor } from '../../spec/tensor.ts';
import type { Problem, StepInputsOf } from '../../spec/families.ts';
import type { Float64Tensor } from '../../spec/tensor.ts';

/** Sizes of an ssd-like problem in the spec's letters: H heads of P channels, G groups of N states, L steps. */
export interface HeadSizes {
  readonly batch: number;
  readonly L: number;
  readonly H: number;
  readonly P: number;
  readonly G: number;
  readonly N: number;
}

/** A seeded source of float32 tensors with values in [lo, hi). */
export function tensorSource(seed: string): (shape: readonly number[], lo?: number, hi?: number) => Tensor {
  const random = seedrandom(seed);
  return (shape, lo = -1, hi = 1) => {
    const count = shape.reduce((x, y) => x * y, 1);
    return tensor(Array.from({ length: count }, () => lo + (hi - lo) * random()), shape);
  };
}

/** A linear recurrence of the given size, with decays in (0.5, 1) and optionally h0. */
export function linearRecurrenceProblem(seed: string, batch: number, dim: number, length: number, options: { reverse: boolean; h0: boolean }): Problem<'linear-recurrence'> {
  const t = tensorSource(seed);
  return {
    family: 'linear-recurrence',
    inputs: { a: t([batch, dim, length], 0.5, 1), b: t([batch, dim, length]), ...(options.h0 ? { h0: t([batch, dim]) } : {}) },
    options: { reverse: options.reverse },
  };
}

/** A prefix sum of the given size. */
export function prefixSumProblem(seed: string, batch: number, dim: number, length: number, options: { exclusive: boolean; reverse: boolean }): Problem<'prefix-sum'> {
  return { family: 'prefix-sum', inputs: { x: tensorSource(seed)([batch, dim, length]) }, options };
}

/** B/C layouts of a selective scan. */
export type Layout = 'time-invariant' | 'time-varying' | 'grouped';

/** A selective scan with every optional input, B and C in the given layout (grouped: G = 2). */
export function selectiveScanProblem(seed: string, layout: Layout, length: number, deltaSoftplus: boolean): Problem<'selective-scan'> {
  const [batch, dim, N, G] = [2, 4, 3, 2];
  const t = tensorSource(seed);
  const projection = (): Tensor =>
    layout === 'time-invariant' ? t([dim, N]) : layout === 'time-varying' ? t([batch, N, length]) : t([batch, G, N, length]);
  return {
    family: 'selective-scan',
    inputs: {
      u: t([batch, dim, length]),
      delta: t([batch, dim, length], 0, 0.5),
      A: t([dim, N], -2, -0.1),
      B: projection(),
      C: projection(),
      D: t([dim]),
      z: t([batch, dim, length], -3, 3),
      deltaBias: t([dim], -0.5, 0.5),
      h0: t([batch, dim, N]),
    },
    options: { deltaSoftplus },
  };
}

/** One selective-scan token in the given layout: B, C laid out as the run's with L = 1. */
export function selectiveScanStepInputs(seed: string, layout: Layout): StepInputsOf<'selective-scan'> {
  const { inputs } = selectiveScanProblem(seed, layout, 1, true);
  const token = (x: Tensor): Tensor => tensor(x.data, x.shape.slice(0, 2));
  const { h0, ...rest } = inputs;
  return { ...rest, u: token(inputs.u), delta: token(inputs.delta), z: token(inputs.z as Tensor), state: h0 as Tensor };
}

/**
 * Asserts distance(got, expected) ≤ rtol·(|expected| + 1) elementwise, with a message naming the
 * output and index; the distance is |a − b| unless given (suite/compare.ts's circularDistance for an angle).
 */
export function expectClose(name: string, got: OutputTensor, expected: Float64Tensor, rtol: number, distance = (a: number, b: number): number => Math.abs(a - b)): void {
  expect(got.shape, `${name} shape`).toEqual(expected.shape);
  for (let i = 0; i < expected.data.length; i++) {
    const error = distance(got.data[i], expected.data[i]);
    if (!(error <= rtol * (Math.abs(expected.data[i]) + 1))) {
      assert.fail(`${name}[${i}]: expected ${expected.data[i]}, got ${got.data[i]} (|error| ${error} > ${rtol}·(|expected| + 1))`);
    }
  }
}
