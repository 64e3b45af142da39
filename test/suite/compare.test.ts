/** The verdicts and metrics of suite/compare.ts on hand-made answers. */
import { describe, expect, it } from 'vitest';
import type { Problem } from '../../spec/families.ts';
import { reference } from '../../reference/index.ts';
import { compareWithReference, percentile, ulpOf, unravel, type ExpectedOutputs } from '../../suite/compare.ts';
import { treeDepth } from '../../suite/tolerance.ts';

const problem: Problem<'linear-recurrence'> = {
  family: 'linear-recurrence',
  inputs: {
    a: { data: Float32Array.from([0.5, 0.25, 1]), shape: [1, 1, 3] },
    b: { data: Float32Array.from([1, 0, 2]), shape: [1, 1, 3] },
  },
  options: { reverse: false },
};
const expected = reference(problem) as unknown as ExpectedOutputs;
// h = [1, 0.25, 2.25], lastState 2.25: all exact in float32.
const answer = (h: number[], last = h[h.length - 1]) => ({
  h: { data: Float32Array.from(h), shape: [1, 1, 3] },
  lastState: { data: Float32Array.from([last]), shape: [1, 1] },
});

describe('compareWithReference', () => {
  it('passes the exact answer with zero error', () => {
    const c = compareWithReference(problem, answer([1, 0.25, 2.25]), expected, { precision: 'float32' });
    expect(c).toMatchObject({ passed: true, violations: 0, maxE: 0, maxAbsError: 0, allclose: true, elements: 4 });
  });

  it('fails an answer one float32 step off by far more than rounding, naming the worst element', () => {
    const c = compareWithReference(problem, answer([1, 0.25, 2.5]), expected, { precision: 'float32' });
    expect(c.passed).toBe(false);
    expect(c.violations).toBe(2);
    expect(c.worst).toMatchObject({ output: 'h', coordinates: [0, 0, 2], expected: 2.25, got: 2.5 });
    expect(c.worst!.error).toBeCloseTo(0.25, 12);
  });

  it('accepts an error of one float32 ulp at the end of a short sequence and measures it in ULPs', () => {
    const ulp = 2 ** -22; // float32 spacing at 2.25
    const c = compareWithReference(problem, answer([1, 0.25, 2.25 + ulp]), expected, { precision: 'float32' });
    expect(c.passed).toBe(true);
    expect(c.maxUlp).toBeCloseTo(1, 12);
    expect(c.maxE).toBeGreaterThan(0);
  });

  it('demands bit-for-bit equality in exact mode', () => {
    const c = compareWithReference(problem, answer([1, 0.25, 2.25 + 2 ** -22]), expected, { precision: 'float32' }, { exact: true });
    expect(c).toMatchObject({ passed: false, judgedBy: 'exact' });
  });

  it('rejects NaN and an Inf inside the float32 range with the reason', () => {
    const nan = compareWithReference(problem, answer([1, Number.NaN, 2.25]), expected, { precision: 'float32' });
    expect(nan.passed).toBe(false);
    expect(nan.worst?.reason).toMatch(/NaN where the reference is 0.25/);
    const inf = compareWithReference(problem, answer([1, 0.25, Number.POSITIVE_INFINITY]), expected, { precision: 'float32' });
    expect(inf.passed).toBe(false);
    expect(inf.worst?.reason).toMatch(/inside the float32 range/);
  });

  it('accepts Inf where the terms leave the float32 range', () => {
    const big: Problem<'prefix-sum'> = {
      family: 'prefix-sum',
      inputs: { x: { data: Float32Array.from([3e38, 3e38]), shape: [1, 1, 2] } },
      options: { exclusive: false, reverse: false },
    };
    const ref = reference(big) as unknown as ExpectedOutputs;
    const c = compareWithReference(big, { y: { data: Float32Array.from([3e38, Number.POSITIVE_INFINITY]), shape: [1, 1, 2] } }, ref, { precision: 'float32' });
    expect(c.passed).toBe(true);
    expect(c.overflowed).toBe(1);
  });

  it('requires exact zeros where every contributing term is zero', () => {
    const zeros: Problem<'linear-recurrence'> = { ...problem, inputs: { ...problem.inputs, b: { data: new Float32Array(3), shape: [1, 1, 3] } } };
    const ref = reference(zeros) as unknown as ExpectedOutputs;
    const c = compareWithReference(zeros, answer([0, 1e-45, 0], 0), ref, { precision: 'float32' });
    expect(c.passed).toBe(false);
    expect(c.worst?.bound).toBe(0);
  });

  it('gives a float16 declaration a looser bound than float32 for the same answer', () => {
    const off = answer([1, 0.25, 2.25 + 2 ** -10]);
    expect(compareWithReference(problem, off, expected, { precision: 'float32' }).passed).toBe(false);
    expect(compareWithReference(problem, off, expected, { precision: 'float16' }).passed).toBe(true);
  });

  it('reports allclose at mamba_ssm tolerances independently of the verdict', () => {
    const c = compareWithReference(problem, answer([1, 0.25, 2.2505]), expected, { precision: 'float32' });
    expect(c.passed).toBe(false);
    expect(c.allclose).toBe(true);
  });
});

describe('helpers', () => {
  it('treeDepth grows with log2 of the position', () => {
    expect([0, 1, 2, 3, 7, 8].map(treeDepth)).toEqual([2, 6, 10, 10, 14, 18]);
  });
  it('ulpOf gives the spacing of each precision', () => {
    expect(ulpOf(1, 'float32')).toBe(2 ** -23);
    expect(ulpOf(1, 'float64')).toBe(2 ** -52);
    expect(ulpOf(1, 'float16')).toBe(2 ** -10);
    expect(ulpOf(0, 'float32')).toBe(2 ** -149);
  });
  it('unravel and percentile', () => {
    expect(unravel(7, [2, 2, 3])).toEqual([1, 0, 1]);
    expect(percentile([5, 1, 4, 2, 3], 0.99)).toBe(5);
    expect(percentile([], 0.5)).toBe(0);
  });
});
