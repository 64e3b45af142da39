/**
 * Tiny prefix-sum implementations for the CLI and report tests: a correct float32 loop, and one
 * off by one element in both modes (inclusive forgets the newest element, exclusive takes it in),
 * so that every case with L ≥ 1 shows it, whatever options the first few runs draw.
 */
import type { PrefixSumOutputs, Problem } from '../../../spec/families.ts';
import type { ScanImplementation } from '../../../spec/implementation.ts';

/** A float32 prefix sum over (batch, dim, L) rows; `offByOne` swaps inclusive and exclusive. */
export function prefixSumF32(problem: Problem<'prefix-sum'>, offByOne: boolean): PrefixSumOutputs {
  const { x } = problem.inputs;
  const [batch, dim, L] = x.shape;
  const y = new Float32Array(batch * dim * L);
  const { exclusive, reverse } = problem.options;
  for (let row = 0; row < batch * dim; row++) {
    let sum = 0;
    for (let i = 0; i < L; i++) {
      const t = row * L + (reverse ? L - 1 - i : i);
      const value = x.data[t];
      if (exclusive !== offByOne) {
        y[t] = sum;
        sum = Math.fround(sum + value);
      } else {
        sum = Math.fround(sum + value);
        y[t] = sum;
      }
    }
  }
  return { y: { data: y, shape: [batch, dim, L] } };
}

/** A correct float32 prefix sum. */
export const correctPrefixSum: ScanImplementation = {
  name: 'test/correct-prefix-sum',
  precision: 'float32',
  description: 'a float32 loop',
  families: { 'prefix-sum': { run: async (problem) => prefixSumF32(problem, false) } },
};

/** A prefix sum off by one element (inclusive without the newest, exclusive with it): wrong. */
export const offByOnePrefixSum: ScanImplementation = {
  name: 'test/off-by-one-prefix-sum',
  precision: 'float32',
  description: 'off by one: inclusive scan without the newest element, exclusive with it',
  families: { 'prefix-sum': { run: async (problem) => prefixSumF32(problem, true) } },
};
