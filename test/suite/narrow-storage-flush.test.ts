/**
 * A float16 storage with float32 arithmetic that may flush subnormals (webgpu-f16 on Dawn): the
 * float32 arithmetic's flush costs 2^-126 per operation, the float16 conversions are charged by
 * what they can lose (the inputs they flush, once per stored result), not 2^-14 per operation.
 * Sound: a kernel that flushes its float16 inputs and results passes. Sharp: an error the
 * per-operation charge of 2^-14 let through is rejected.
 */
import { describe, expect, it } from 'vitest';
import type { Problem } from '../../spec/families.ts';
import { float16Bits, float16Value } from '../../spec/float16.ts';
import { MIN_NORMAL, PRECISIONS, UNIT_ROUNDOFF } from '../../spec/precision.ts';
import { reference } from '../../reference/index.ts';
import { compareWithReference, elementBounds, type ExpectedOutputs } from '../../suite/compare.ts';
import { channelModel, roundoffsOf, underflowUnit, type ArithmeticDeclaration } from '../../suite/tolerance.ts';

const FLUSH: ArithmeticDeclaration = { precision: 'float16', accumulation: 'float32', subnormals: 'flush' };
const PRESERVE: ArithmeticDeclaration = { precision: 'float16', accumulation: 'float32' };
const F16_MIN_NORMAL = 2 ** -14;

const f32 = Math.fround;
/** float16 rounding that flushes what lies below float16's normal range, as a flushing GPU may. */
const f16Flushed = (v: number) => (Math.abs(v) < F16_MIN_NORMAL ? 0 : float16Value(float16Bits(v)));

/** A correct kernel of that declaration: inputs flushed into float16, float32 recurrence, results flushed into float16. */
function flushingKernel(problem: Problem<'linear-recurrence'>) {
  const { a, b } = problem.inputs;
  const [batch, dim, L] = a.shape;
  const h = new Float32Array(a.data.length);
  const last = new Float32Array(batch * dim);
  for (let row = 0; row < batch * dim; row++) {
    let state = 0;
    for (let t = row * L; t < (row + 1) * L; t++) {
      state = f32(f32(f16Flushed(a.data[t]) * state) + f16Flushed(b.data[t]));
      h[t] = f16Flushed(state);
    }
    last[row] = f16Flushed(state);
  }
  return { h: { data: h, shape: [batch, dim, L] }, lastState: { data: last, shape: [batch, dim] } };
}

const recurrence = (a: number[], b: number[]): Problem<'linear-recurrence'> => ({
  family: 'linear-recurrence',
  inputs: { a: { data: Float32Array.from(a), shape: [1, 1, a.length] }, b: { data: Float32Array.from(b), shape: [1, 1, b.length] } },
  options: { reverse: false },
});
const expectedOf = (problem: Problem<'linear-recurrence'>) => reference(problem) as unknown as ExpectedOutputs;

describe('float16 storage, float32 arithmetic, subnormals may flush', () => {
  it('η per operation is the float32 flush or the float16 gradual unit, whichever is larger; the storage flush is charged apart', () => {
    expect(underflowUnit(FLUSH)).toBe(2 ** -25);
    expect(underflowUnit(PRESERVE)).toBe(2 ** -25);
    expect(roundoffsOf(FLUSH).storageFlush).toBe(F16_MIN_NORMAL);
    expect(roundoffsOf(PRESERVE).storageFlush).toBe(0);
    // Storage = arithmetic: unchanged, the flush is per operation.
    expect(underflowUnit({ precision: 'float32', subnormals: 'flush' })).toBe(2 ** -126);
    expect(underflowUnit({ precision: 'float16', subnormals: 'flush' })).toBe(F16_MIN_NORMAL);
    expect(roundoffsOf({ precision: 'float16', subnormals: 'flush' }).storageFlush).toBe(0);
  });

  it('without a wider accumulation nothing is charged apart, so those bounds are what they were before the split', () => {
    const problem = recurrence([1, 1], [3e-5, 1e-41]);
    for (const precision of PRECISIONS) {
      for (const subnormals of [undefined, 'preserve', 'flush'] as const) {
        for (const accumulation of [undefined, precision]) {
          const declaration: ArithmeticDeclaration = { precision, ...(accumulation && { accumulation }), ...(subnormals && { subnormals }) };
          const r = roundoffsOf(declaration);
          expect(r.storageFlush, JSON.stringify(declaration)).toBe(0);
          expect(channelModel(problem, r).inputFlush, JSON.stringify(declaration)).toEqual({ largest: 0, total: 0 });
          const unit = subnormals === 'flush' ? MIN_NORMAL[precision] : MIN_NORMAL[precision] * UNIT_ROUNDOFF[precision];
          expect(underflowUnit(declaration), JSON.stringify(declaration)).toBe(Math.max(unit, Number.MIN_VALUE));
        }
      }
    }
  });

  it('a kernel that flushes float16-subnormal inputs passes; declared preserving, it fails', () => {
    // Every b = 3·10⁻⁵ lies below float16's smallest normal 6.1·10⁻⁵: the kernel reads 0 and
    // returns h = 0 where the sum reaches 9·10⁻⁵ and 1.2·10⁻⁴, normal float16 values.
    const problem = recurrence([1, 1, 1, 1], [3e-5, 3e-5, 3e-5, 3e-5]);
    expect(channelModel(problem, roundoffsOf(FLUSH)).inputFlush).toEqual({ largest: f32(3e-5), total: 4 * f32(3e-5) });
    expect(channelModel(problem, roundoffsOf(PRESERVE)).inputFlush).toEqual({ largest: 0, total: 0 });
    const answer = flushingKernel(problem);
    expect(Array.from(answer.h.data)).toEqual([0, 0, 0, 0]);
    expect(compareWithReference(problem, answer, expectedOf(problem), FLUSH).passed).toBe(true);
    expect(compareWithReference(problem, answer, expectedOf(problem), PRESERVE).passed).toBe(false);
  });

  it('a result below float16\'s normal range stored as 0 passes: one storage flush per result', () => {
    const problem = recurrence([0.25, 0.25, 0.25], [2 ** -12, 0, 0]);
    const answer = flushingKernel(problem);
    expect(expectedOf(problem).outputs.h.data[2]).toBe(2 ** -16);
    expect(answer.h.data[2]).toBe(0);
    expect(channelModel(problem, roundoffsOf(FLUSH)).inputFlush).toEqual({ largest: 0, total: 0 });
    expect(compareWithReference(problem, answer, expectedOf(problem), FLUSH).passed).toBe(true);
    expect(compareWithReference(problem, answer, expectedOf(problem), PRESERVE).passed).toBe(false);
  });

  it('an error the per-operation charge of 2^-14 let through at L 300 is rejected', () => {
    const L = 300;
    const a = Array.from({ length: L }, (_, t) => 0.5 + 0.25 * Math.sin(t));
    const b = Array.from({ length: L }, (_, t) => 1 + 0.5 * Math.cos(3 * t));
    const problem = recurrence(a, b);
    const expected = expectedOf(problem);
    const answer = flushingKernel(problem);
    expect(compareWithReference(problem, answer, expected, FLUSH).passed).toBe(true);
    const last = L - 1;
    const bound = elementBounds(problem, expected, FLUSH).h[last];
    const perOperationCharge = F16_MIN_NORMAL * (4 * L + 8);
    const error = 0.02;
    expect(bound).toBeLessThan(error);
    expect(perOperationCharge).toBeGreaterThan(error);
    answer.h.data[last] = f32(answer.h.data[last] + error);
    const verdict = compareWithReference(problem, answer, expected, FLUSH);
    expect(verdict.passed).toBe(false);
    expect(verdict.worst).toMatchObject({ output: 'h', coordinates: [0, 0, last] });
  });
});
