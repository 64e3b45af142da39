/**
 * runVarlen of the shipped implementations on a hand-laid row whose sequence boundaries fall
 * inside chunks of every chunk size (empty and one-token sequences included): each equals the
 * varlen reference within a float64 margin, and a sequence's answer does not change when another
 * sequence's tokens do.
 */
import { describe, expect, it } from 'vitest';
import { createSequential } from '../../implementations/sequential/sequential.ts';
import { CHUNK_SIZES, createSsdChunked } from '../../implementations/ssd-chunked/ssd-chunked.ts';
import { ssdVarlen } from '../../reference/ssd-varlen.ts';
import type { SsdVarlenOutputs, SsdVarlenProblem } from '../../spec/families/ssd/varlen.ts';
import { tensor } from '../../spec/tensor.ts';
import { filled, float32, seeded } from '../reference/random-inputs.ts';

const [H, P, G, N] = [2, 3, 1, 4];
// Starts at 0, 5 (inside the first 16-chunk), an empty sequence, 21, 22, 63 and 100 (inside
// chunks of 16, 64 and 100), 230 (inside the first 256-chunk); lengths 5, 0, 16, 1, 41, 37, 130, 10.
const BOUNDS = [0, 5, 5, 21, 22, 63, 100, 230, 240];
const T = BOUNDS[BOUNDS.length - 1];
const NSEQ = BOUNDS.length - 1;

function draw(): SsdVarlenProblem {
  const random = seeded('ssd varlen implementations');
  return {
    inputs: {
      x: filled([1, T, H, P], () => float32(random, 0.01, 4)),
      dt: filled([1, T, H], () => float32(random, 0.01, 1)),
      A: filled([H], () => -float32(random, 0.05, 1, true)),
      B: filled([1, T, G, N], () => float32(random, 0.1, 2)),
      C: filled([1, T, G, N], () => float32(random, 0.1, 2)),
      D: filled([H], () => float32(random, 0.1, 2)),
      dtBias: filled([H], () => float32(random, 0.01, 0.5)),
      cuSeqlens: tensor(BOUNDS, [NSEQ + 1]),
      initialStates: filled([NSEQ, H, P, N], () => float32(random, 0.1, 3)),
    },
    options: { dtSoftplus: true },
  };
}

/** max |a − b| / (1 + |b|) over two arrays. */
function gap(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])));
  return worst;
}

describe('runVarlen with sequence boundaries inside chunks', () => {
  const problem = draw();
  const expected = ssdVarlen(problem);
  const sequential = createSequential('float64').families.ssd!;
  const chunked = createSsdChunked('float64').families.ssd!;

  it('sequential-f64 and ssd-chunked-f64 (every chunk size) give the reference, to float64 rounding', async () => {
    const runs: [string, SsdVarlenOutputs][] = [['sequential-f64', await sequential.runVarlen!(problem)]];
    for (const chunkSize of CHUNK_SIZES) runs.push([`ssd-chunked-f64 Q=${chunkSize}`, await chunked.runVarlen!(problem, { chunkSize })]);
    for (const [name, outputs] of runs) {
      expect(outputs.finalStates.shape, name).toEqual([NSEQ, H, P, N]);
      expect(gap(outputs.y.data, expected.outputs.y.data), `${name} y`).toBeLessThan(1e-12);
      expect(gap(outputs.finalStates.data, expected.outputs.finalStates.data), `${name} finalStates`).toBeLessThan(1e-12);
    }
    // The empty sequence keeps its initial state exactly.
    const perState = H * P * N;
    const empty = Array.from(problem.inputs.initialStates!.data.subarray(perState, 2 * perState));
    expect(Array.from((await chunked.runVarlen!(problem, { chunkSize: 16 })).finalStates.data.subarray(perState, 2 * perState))).toEqual(empty);
  });

  it("another sequence's tokens do not reach a sequence (ssd-chunked-f32, Q = 16, bit for bit)", async () => {
    const f32 = createSsdChunked('float32').families.ssd!;
    const before = await f32.runVarlen!(problem, { chunkSize: 16 });
    // Sequence 4 is tokens 22…62; change every token of sequence 3 (token 21) and sequence 5.
    const x = Float32Array.from(problem.inputs.x.data);
    for (const t of [21, ...Array.from({ length: 37 }, (_, k) => 63 + k)]) x.fill(9, t * H * P, (t + 1) * H * P);
    const after = await f32.runVarlen!({ ...problem, inputs: { ...problem.inputs, x: { data: x, shape: problem.inputs.x.shape } } }, { chunkSize: 16 });
    const slice = (d: ArrayLike<number>, from: number, to: number): number[] => Array.from(d).slice(from, to);
    expect(slice(after.y.data, 22 * H * P, 63 * H * P)).toEqual(slice(before.y.data, 22 * H * P, 63 * H * P));
    expect(slice(after.finalStates.data, 4 * H * P * N, 5 * H * P * N)).toEqual(slice(before.finalStates.data, 4 * H * P * N, 5 * H * P * N));
    expect(slice(after.finalStates.data, 3 * H * P * N, 4 * H * P * N)).not.toEqual(slice(before.finalStates.data, 3 * H * P * N, 4 * H * P * N));
  });
});
