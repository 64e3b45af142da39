/**
 * The scan algorithms on their own, on inputs whose every partial result is exact (a ∈ {−1, 0, 1},
 * integer b), so any correct evaluation order gives exactly the serial answer and a wrong operand
 * order, a lost carry or a bad padding shows as an inequality, not a tolerance.
 */
import { describe, expect, it } from 'vitest';
import type { ScanAlgorithm } from '../../../implementations/parallel-scan/algorithms/algorithm.ts';
import { blelloch, blellochTreeSize } from '../../../implementations/parallel-scan/algorithms/blelloch.ts';
import { ChunkedScan } from '../../../implementations/parallel-scan/algorithms/chunked.ts';
import { hillisSteele } from '../../../implementations/parallel-scan/algorithms/hillis-steele.ts';
import type { Arithmetic } from '../../../implementations/parallel-scan/arithmetic.ts';
import { FLOAT32, FLOAT64 } from '../../../implementations/parallel-scan/arithmetic.ts';
import { additiveOperator, affineOperator } from '../../../implementations/parallel-scan/operators.ts';
import { AWKWARD_LENGTHS, randomSource } from './problems.ts';

const algorithms: ScanAlgorithm[] = [hillisSteele, blelloch, new ChunkedScan(), new ChunkedScan(1), new ChunkedScan(3), new ChunkedScan(4), new ChunkedScan(7)];
const arithmetics: Arithmetic[] = [FLOAT32, FLOAT64];

function exactInputs(length: number, seed: string, bufferLength: number, arithmetic: Arithmetic) {
  const random = randomSource(seed);
  const A = arithmetic.allocate(bufferLength);
  const B = arithmetic.allocate(bufferLength);
  for (let i = 0; i < length; i++) {
    A[i] = Math.floor(random(0, 3)) - 1;
    B[i] = Math.floor(random(-5, 6));
  }
  return { A, B };
}

describe.each(arithmetics.map((a) => [a.precision, a] as const))('%s', (_precision, arithmetic) => {
  describe.each(algorithms.map((a) => [`${a.name}${a instanceof ChunkedScan ? ` (chunks of ${a.chunkSize})` : ''}`, a] as const))('%s', (_name, algorithm) => {
    it.each(AWKWARD_LENGTHS)('affine combine, L = %i: exactly the serial recurrence, initial state included', (length) => {
      const { A, B } = exactInputs(length, `affine/${length}`, algorithm.bufferLength(length), arithmetic);
      const initial = 3;
      const expected: number[] = [];
      let h = initial;
      for (let i = 0; i < length; i++) expected.push((h = A[i] * h + B[i]));
      const op = affineOperator(arithmetic);
      if (length > 0) B[0] = op.advance(A, B, 0, initial);
      algorithm.scan(op, A, B, length);
      expect(Array.from(B.subarray(0, length))).toEqual(expected);
    });

    it.each(AWKWARD_LENGTHS)('addition, L = %i: exactly the serial prefix sums', (length) => {
      const { B } = exactInputs(length, `add/${length}`, algorithm.bufferLength(length), arithmetic);
      const A = arithmetic.allocate(0);
      const expected: number[] = [];
      let s = 0;
      for (let i = 0; i < length; i++) expected.push((s += B[i]));
      algorithm.scan(additiveOperator(arithmetic), A, B, length);
      expect(Array.from(B.subarray(0, length))).toEqual(expected);
    });
  });
});

describe('blellochTreeSize', () => {
  it('is the least power of two above L, so the shifted exclusive scan covers every position', () => {
    expect([0, 1, 2, 3, 4, 7, 8, 9, 1000].map(blellochTreeSize)).toEqual([1, 2, 4, 4, 8, 8, 16, 16, 1024]);
  });
});

describe('affine combine', () => {
  it('is not commutative: (a₁, b₁) ∘ (a₂, b₂) = (a₁a₂, a₂b₁ + b₂), left operand first', () => {
    const op = affineOperator(FLOAT64);
    const A = new Float64Array([2, 3, 0]);
    const B = new Float64Array([5, 7, 0]);
    op.combine(A, B, 2, A, B, 0, A, B, 1);
    expect([A[2], B[2]]).toEqual([6, 3 * 5 + 7]);
    op.combine(A, B, 2, A, B, 1, A, B, 0);
    expect([A[2], B[2]]).toEqual([6, 2 * 7 + 5]);
  });

  it('rounds every operation in float32', () => {
    const op = affineOperator(FLOAT32);
    const A = new Float32Array([1 + 2 ** -20, 1 + 2 ** -20, 0]);
    const B = new Float32Array([1, 2 ** -30, 0]);
    op.combine(A, B, 2, A, B, 0, A, B, 1);
    // a₂·b₁ = 1 + 2^-20 exactly; + 2^-30 rounds away in float32 (it would survive in float64).
    expect(B[2]).toBe(Math.fround(1 + 2 ** -20));
    expect(A[2]).toBe(Math.fround((1 + 2 ** -20) * (1 + 2 ** -20)));
  });
});
