/**
 * Copies what a worker reads into shared memory. Inputs arrive on ordinary ArrayBuffers, which a
 * worker cannot see; only the part of each (batch, dim, L) sequence a worker reads is copied, so
 * the calling thread's own share costs no copy at all.
 */
import type { AnyProblem } from '../../../spec/families.ts';
import { INPUT_NAMES } from '../../../spec/families.ts';
import type { Tensor } from '../../../spec/tensor.ts';
import type { ScanJob } from '../job.ts';

/** Inputs laid out (batch, dim, L), of which a worker needs only its channels or its time slice. */
const SEQUENCE_INPUTS: ReadonlySet<string> = new Set(['x', 'a', 'b', 'u', 'delta', 'z']);

/** The element ranges [start, end) of a (batch, dim, L) sequence a worker reads. */
export type SequenceRegion = readonly (readonly [number, number])[];

/** Region of channels [g0, g1). */
export function groupRegion(length: number, g0: number, g1: number): SequenceRegion {
  return [[g0 * length, g1 * length]];
}

/** Region of time indices [t0, t1) in every one of `groups` channels. */
export function timeRegion(groups: number, length: number, t0: number, t1: number): SequenceRegion {
  const region: [number, number][] = [];
  for (let g = 0; g < groups; g++) region.push([g * length + t0, g * length + t1]);
  return region;
}

function isShared(data: Float32Array): boolean {
  return data.buffer instanceof SharedArrayBuffer;
}

function shareAll(data: Float32Array): Float32Array {
  if (isShared(data)) return data;
  const copy = new Float32Array(new SharedArrayBuffer(data.length * 4));
  copy.set(data);
  return copy;
}

function shareRegion(data: Float32Array, region: SequenceRegion): Float32Array {
  if (isShared(data)) return data;
  const copy = new Float32Array(new SharedArrayBuffer(data.length * 4));
  for (const [start, end] of region) copy.set(data.subarray(start, end), start);
  return copy;
}

/** The job with every input a worker reads in shared memory (sequences: only `region`). */
export function shareJob(job: ScanJob, region: SequenceRegion): ScanJob {
  const source = job.problem.inputs as unknown as Readonly<Record<string, Tensor | undefined>>;
  const inputs: Record<string, Tensor> = {};
  for (const name of INPUT_NAMES[job.problem.family]) {
    const tensor = source[name];
    if (tensor === undefined) continue;
    const data = SEQUENCE_INPUTS.has(name) ? shareRegion(tensor.data, region) : shareAll(tensor.data);
    inputs[name] = { data, shape: tensor.shape };
  }
  const problem = { family: job.problem.family, inputs, options: job.problem.options } as unknown as AnyProblem;
  return { problem, initialState: job.initialState === undefined ? undefined : shareAll(job.initialState) };
}
