/**
 * Deterministic problems for the parallel-scan tests: every family, option and B/C layout over the
 * lengths where scans break (0, 1, powers of two and their neighbours, a long odd one).
 */
import seedrandom from 'seedrandom';
import type { AnyProblem, FamilyName, StepInputsOf } from '../../../spec/families.ts';
import type { ScannedFamily } from '../../../implementations/parallel-scan/job.ts';
import type { Tensor } from '../../../spec/tensor.ts';

/** Lengths around every power-of-two boundary the algorithms pad or chunk at. */
export const AWKWARD_LENGTHS = [0, 1, 2, 3, 7, 8, 9, 31, 32, 33, 63, 64, 65, 127, 128, 129, 1000] as const;

/** A uniform random source seeded by a string. */
export function randomSource(seed: string): (lo: number, hi: number) => number {
  const rng = seedrandom(seed);
  return (lo, hi) => lo + (hi - lo) * rng();
}

function tensorOf(random: (lo: number, hi: number) => number, shape: readonly number[], lo: number, hi: number): Tensor {
  const length = shape.reduce((x, y) => x * y, 1);
  const data = new Float32Array(length);
  for (let i = 0; i < length; i++) data[i] = random(lo, hi);
  return { data, shape: [...shape] };
}

/** B/C layouts of a selective scan, as shapes for given batch, dim, N, L. */
export function projectionShapes(batch: number, dim: number, N: number, L: number): Record<string, readonly number[]> {
  return { 'time-invariant': [dim, N], 'time-varying': [batch, N, L], grouped: [batch, 2, N, L] };
}

/** Problems of `family` of length L covering its options (and, for selective-scan, layouts and optional inputs). */
export function problemsOf(family: ScannedFamily, L: number, seed: string): AnyProblem[] {
  const random = randomSource(`${family}/${L}/${seed}`);
  const batch = 2;
  const dim = 2;
  const N = 2;
  const sequence = [batch, dim, L];
  switch (family) {
    case 'prefix-sum':
      return [false, true].flatMap((exclusive) =>
        [false, true].map((reverse): AnyProblem => ({
          family,
          inputs: { x: tensorOf(random, sequence, -1, 1) },
          options: { exclusive, reverse },
        })),
      );
    case 'linear-recurrence':
      return [false, true].flatMap((reverse) =>
        [false, true].map((withH0): AnyProblem => ({
          family,
          inputs: {
            a: tensorOf(random, sequence, -1, 1),
            b: tensorOf(random, sequence, -1, 1),
            ...(withH0 ? { h0: tensorOf(random, [batch, dim], -2, 2) } : {}),
          },
          options: { reverse },
        })),
      );
    case 'selective-scan': {
      const shapes = projectionShapes(batch, dim, N, L);
      const layouts = Object.keys(shapes);
      return layouts.flatMap((bLayout, i) =>
        [false, true].map((full): AnyProblem => ({
          family,
          inputs: {
            u: tensorOf(random, sequence, -1, 1),
            delta: tensorOf(random, sequence, full ? -3 : 0, full ? 25 : 0.5),
            A: tensorOf(random, [dim, N], -2, -0.05),
            B: tensorOf(random, shapes[bLayout], -1, 1),
            C: tensorOf(random, shapes[layouts[(i + 1) % layouts.length]], -1, 1),
            ...(full
              ? {
                  D: tensorOf(random, [dim], -1, 1),
                  z: tensorOf(random, sequence, -3, 3),
                  deltaBias: tensorOf(random, [dim], -1, 1),
                  h0: tensorOf(random, [batch, dim, N], -1, 1),
                }
              : {}),
          },
          options: { deltaSoftplus: full },
        })),
      );
    }
    case 'lti-ssm':
      return [false, true].map((withD): AnyProblem => ({
        family,
        inputs: {
          Abar: tensorOf(random, [dim, N], -0.99, 0.99),
          Bbar: tensorOf(random, [dim, N], -1, 1),
          C: tensorOf(random, [dim, N], -1, 1),
          ...(withD ? { D: tensorOf(random, [dim], -1, 1) } : {}),
          u: tensorOf(random, sequence, -1, 1),
        },
        options: {},
      }));
  }
}

/** A one-token step of `family` from a random state, in the given B/C layout for selective-scan. */
export function stepOf(family: ScannedFamily, seed: string, layout: 'time-invariant' | 'time-varying' | 'grouped' = 'grouped'): StepInputsOf<ScannedFamily> {
  const random = randomSource(`${family}/step/${seed}`);
  const batch = 2;
  const dim = 4;
  const N = 3;
  const row = [batch, dim];
  switch (family) {
    case 'prefix-sum':
      return { x: tensorOf(random, row, -1, 1), state: tensorOf(random, row, -1, 1) };
    case 'linear-recurrence':
      return { a: tensorOf(random, row, -1, 1), b: tensorOf(random, row, -1, 1), state: tensorOf(random, row, -1, 1) };
    case 'selective-scan':
      return {
        u: tensorOf(random, row, -1, 1),
        delta: tensorOf(random, row, -1, 2),
        A: tensorOf(random, [dim, N], -2, -0.05),
        B: tensorOf(random, projectionShapes(batch, dim, N, 1)[layout], -1, 1),
        C: tensorOf(random, projectionShapes(batch, dim, N, 1)[layout], -1, 1),
        D: tensorOf(random, [dim], -1, 1),
        z: tensorOf(random, row, -3, 3),
        deltaBias: tensorOf(random, [dim], -1, 1),
        state: tensorOf(random, [batch, dim, N], -1, 1),
      };
    case 'lti-ssm':
      return {
        Abar: tensorOf(random, [dim, N], -0.99, 0.99),
        Bbar: tensorOf(random, [dim, N], -1, 1),
        C: tensorOf(random, [dim, N], -1, 1),
        D: tensorOf(random, [dim], -1, 1),
        u: tensorOf(random, row, -1, 1),
        state: tensorOf(random, [batch, dim, N], -1, 1),
      };
  }
}
