/**
 * What crosses to a worker goes through shared memory that is kept from run to run. Inputs arrive
 * on ordinary ArrayBuffers, which a worker cannot see; only the part of each (batch, dim, L)
 * sequence a worker reads is copied, so the calling thread's own share costs no copy at all. A
 * worker writes its outputs into reused shared buffers too, copied into the run's ordinary output
 * arrays afterwards: a fresh SharedArrayBuffer is fresh pages (measured here: 3.9 ms to fill a new
 * 4 MB one, 0.8 ms a new ordinary one, 0.4 ms a reused one), which cost more than the copy.
 */
import type { AnyProblem } from '../../spec/families.ts';
import { INPUT_NAMES } from '../../spec/families.ts';
import type { Tensor } from '../../spec/tensor.ts';

/** Inputs laid out (batch, dim, L), of which a worker needs only its channels or its time slice. */
const SEQUENCE_INPUTS: ReadonlySet<string> = new Set(['x', 'a', 'b', 'u', 'delta', 'z']);

/** The element ranges [start, end) of a flat array a worker reads or writes. */
export type SequenceRegion = readonly (readonly [number, number])[];

/** Region of channels [g0, g1) of rows of `length` elements. */
export function groupRegion(length: number, g0: number, g1: number): SequenceRegion {
  return [[g0 * length, g1 * length]];
}

/** Region of time indices [t0, t1) in every one of `groups` channels. */
export function timeRegion(groups: number, length: number, t0: number, t1: number): SequenceRegion {
  const region: [number, number][] = [];
  for (let g = 0; g < groups; g++) region.push([g * length + t0, g * length + t1]);
  return region;
}

/** Region of dims [d0, d1) in every batch entry of a (batch, dim, rowLength) array. */
export function dimRegion(batch: number, dim: number, rowLength: number, d0: number, d1: number): SequenceRegion {
  const region: [number, number][] = [];
  for (let b = 0; b < batch; b++) region.push([(b * dim + d0) * rowLength, (b * dim + d1) * rowLength]);
  return region;
}

/** A float array of either precision (inputs are float32; outputs float32 or float64). */
type FloatArray = Float32Array | Float64Array;

function allocateShared(length: number, like: FloatArray): FloatArray {
  return like instanceof Float64Array ? new Float64Array(new SharedArrayBuffer(length * 8)) : new Float32Array(new SharedArrayBuffer(length * 4));
}

/**
 * Shared buffers kept across runs, one per name (a worker owns one set). A fresh SharedArrayBuffer
 * costs its page faults on first touch; reused ones cost only the copy. The caller must not start
 * a run before the previous one finished with them.
 */
export class SharedBuffers {
  private readonly buffers = new Map<string, FloatArray>();

  /** A shared array called `name` of exactly `length` elements of `like`'s precision (a view of a reused buffer). */
  view<T extends FloatArray>(name: string, length: number, like: T): T {
    let buffer = this.buffers.get(name);
    if (buffer === undefined || buffer.length < length || buffer.constructor !== like.constructor) {
      buffer = allocateShared(Math.max(length, 16), like);
      this.buffers.set(name, buffer);
    }
    return buffer.subarray(0, length) as T;
  }

  /** Releases every buffer. */
  clear(): void {
    this.buffers.clear();
  }
}

function isShared(data: FloatArray): boolean {
  return data.buffer instanceof SharedArrayBuffer;
}

/** `data` itself when shared already, else a shared copy of it. */
export function shareAll<T extends FloatArray>(data: T, buffers: SharedBuffers, name: string): T {
  if (isShared(data)) return data;
  const copy = buffers.view(name, data.length, data);
  copy.set(data);
  return copy;
}

/** `data` itself when shared already, else a shared array holding `data` within `region` (elsewhere stale). */
export function shareRegion<T extends FloatArray>(data: T, region: SequenceRegion, buffers: SharedBuffers, name: string): T {
  if (isShared(data)) return data;
  const copy = buffers.view(name, data.length, data);
  for (const [start, end] of region) copy.set(data.subarray(start, end), start);
  return copy;
}

/** The problem with every input in shared memory (sequences: only `region`), in `buffers`. */
export function shareProblem(problem: AnyProblem, region: SequenceRegion, buffers: SharedBuffers): AnyProblem {
  const staged = stageProblem(problem, buffers);
  staged.fill(region);
  return staged.problem;
}

/** A problem in shared memory whose sequence inputs are filled later, region by region. */
export interface StagedProblem {
  /** The problem, every input in shared memory: all but the sequences filled already. */
  readonly problem: AnyProblem;
  /** Copies `region` of every sequence input into its shared array. */
  fill(region: SequenceRegion): void;
}

/**
 * The problem in `buffers` with its small inputs copied now and its (batch, dim, L) sequences not
 * yet, so that a worker can be sent the problem first and its sequences copied while it starts.
 */
export function stageProblem(problem: AnyProblem, buffers: SharedBuffers): StagedProblem {
  const source = problem.inputs as unknown as Readonly<Record<string, Tensor | undefined>>;
  const shared: Record<string, Tensor> = {};
  const sequences: (readonly [string, FloatArray])[] = [];
  for (const name of INPUT_NAMES[problem.family]) {
    const tensor = source[name];
    if (tensor === undefined) continue;
    let data: FloatArray;
    if (!SEQUENCE_INPUTS.has(name)) data = shareAll(tensor.data, buffers, name);
    else if (isShared(tensor.data)) data = tensor.data;
    else {
      data = buffers.view(name, tensor.data.length, tensor.data);
      sequences.push([name, tensor.data]);
    }
    shared[name] = { data, shape: tensor.shape };
  }
  return {
    problem: { family: problem.family, inputs: shared, options: problem.options } as unknown as AnyProblem,
    fill(region) {
      for (const [name, data] of sequences) shareRegion(data, region, buffers, name);
    },
  };
}

/** A shared stand-in for output array `output` (reused buffer `name`), or `output` itself when shared already. */
export function sharedOutput<T extends FloatArray>(output: T, buffers: SharedBuffers, name: string): T {
  return isShared(output) ? output : buffers.view(name, output.length, output);
}

/** Copies `region` of `shared` into `output` (nothing when they are the same array). */
export function copyRegion(shared: FloatArray, output: FloatArray, region: SequenceRegion): void {
  if (shared === output) return;
  for (const [start, end] of region) output.set(shared.subarray(start, end), start);
}
