/** The shared-memory helpers both multi-threaded implementations hand their work to workers with. */
import { describe, expect, it } from 'vitest';
import { copyRegion, dimRegion, groupRegion, shareAll, shareProblem, SharedBuffers, sharedOutput, shareRegion, timeRegion } from '../../../implementations/threads/shared-memory.ts';
import type { Problem } from '../../../spec/families.ts';

describe('regions of a (batch, dim, L) array', () => {
  it('name the element ranges of channels, time slices and dims', () => {
    expect(groupRegion(5, 1, 3)).toEqual([[5, 15]]);
    expect(timeRegion(2, 5, 1, 3)).toEqual([[1, 3], [6, 8]]);
    // batch 2, dim 3, rows of 4: dims [1, 3) of each batch entry.
    expect(dimRegion(2, 3, 4, 1, 3)).toEqual([[4, 12], [16, 24]]);
  });
});

describe('SharedBuffers', () => {
  it('hands out shared views, reused while large enough, reallocated when the precision or size changes', () => {
    const buffers = new SharedBuffers();
    const first = buffers.view('x', 8, new Float32Array(0));
    expect(first.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(first).toBeInstanceOf(Float32Array);
    expect(first.length).toBe(8);
    const again = buffers.view('x', 4, new Float32Array(0));
    expect(again.buffer).toBe(first.buffer);
    expect(buffers.view('x', 64, new Float32Array(0)).buffer).not.toBe(first.buffer);
    expect(buffers.view('x', 4, new Float64Array(0))).toBeInstanceOf(Float64Array);
  });

  it('copies only what a worker reads, and leaves shared data where it is', () => {
    const buffers = new SharedBuffers();
    const data = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const copy = shareRegion(data, [[1, 3]], buffers, 'u');
    expect(copy.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(Array.from(copy.subarray(1, 3))).toEqual([2, 3]);
    expect(Array.from(shareAll(data, buffers, 'all'))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(shareAll(copy, buffers, 'other')).toBe(copy);
  });

  it('shares a problem: sequence inputs by region, parameters whole, options as they are', () => {
    const buffers = new SharedBuffers();
    const u = Float32Array.from({ length: 2 * 2 * 3 }, (_, i) => i + 1);
    const problem: Problem<'lti-ssm'> = {
      family: 'lti-ssm',
      options: {},
      inputs: {
        Abar: { data: Float32Array.from([0.5, 0.25, 0.5, 0.25]), shape: [2, 2] },
        Bbar: { data: Float32Array.from([1, 1, 1, 1]), shape: [2, 2] },
        C: { data: Float32Array.from([1, 2, 3, 4]), shape: [2, 2] },
        u: { data: u, shape: [2, 2, 3] },
      },
    };
    const shared = shareProblem(problem, dimRegion(2, 2, 3, 1, 2), buffers) as Problem<'lti-ssm'>;
    expect(shared.family).toBe('lti-ssm');
    expect(shared.inputs.u.shape).toEqual([2, 2, 3]);
    expect(shared.inputs.u.data.buffer).toBeInstanceOf(SharedArrayBuffer);
    // dim 1 of both batch entries: elements 3–5 and 9–11.
    expect(Array.from(shared.inputs.u.data.subarray(3, 6))).toEqual([4, 5, 6]);
    expect(Array.from(shared.inputs.u.data.subarray(9, 12))).toEqual([10, 11, 12]);
    expect(Array.from(shared.inputs.C.data)).toEqual([1, 2, 3, 4]);
    expect(shared.inputs.D).toBeUndefined();
  });

  it('stands in for an output and copies a region of it back', () => {
    const buffers = new SharedBuffers();
    const output = new Float64Array(6);
    const standIn = sharedOutput(output, buffers, 'y');
    expect(standIn).not.toBe(output);
    standIn.set([1, 2, 3, 4, 5, 6]);
    copyRegion(standIn, output, [[0, 1], [4, 6]]);
    expect(Array.from(output)).toEqual([1, 0, 0, 0, 5, 6]);
    const sharedAlready = new Float64Array(new SharedArrayBuffer(48));
    expect(sharedOutput(sharedAlready, buffers, 'y')).toBe(sharedAlready);
  });
});
