/**
 * What crosses to a worker goes through shared memory that is kept from run to run. Inputs arrive
 * on ordinary ArrayBuffers, which a worker cannot see; only the part of each (batch, dim, L)
 * sequence a worker reads is copied, so the calling thread's own share costs no copy at all. A
 * worker writes its outputs into reused shared buffers too, copied into the run's ordinary output
 * arrays afterwards: a fresh SharedArrayBuffer is fresh pages (measured here: 3.9 ms to fill a new
 * 4 MB one, 0.8 ms a new ordinary one, 0.4 ms a reused one), which cost more than the copy.
 */
import type { AnyProblem } from '../../../spec/families.ts';
import { INPUT_NAMES } from '../../../spec/families.ts';
import type { Tensor } from '../../../spec/tensor.ts';
import type { Arithmetic, ScanArray } from '../arithmetic.ts';
import type { JobOutputs, ScanJob } from '../job.ts';

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

/**
 * Shared input buffers kept across runs, one per input name and worker. A fresh SharedArrayBuffer
 * costs its page faults on first touch (measured: copying 2 × 2 MB into fresh ones took ~5 ms,
 * more than the scan of that half); reused ones cost only the copy. The caller must not start a
 * run before the previous one finished with them (threaded.ts serialises runs).
 */
export class SharedInputs {
  private readonly buffers = new Map<string, Float32Array>();

  /** A shared array called `name` of exactly `length` elements (a view of a reused buffer). */
  view(name: string, length: number): Float32Array {
    let buffer = this.buffers.get(name);
    if (buffer === undefined || buffer.length < length) {
      buffer = new Float32Array(new SharedArrayBuffer(Math.max(length, 16) * 4));
      this.buffers.set(name, buffer);
    }
    return buffer.subarray(0, length);
  }

  /** Releases every buffer. */
  clear(): void {
    this.buffers.clear();
  }
}

function isShared(data: Float32Array): boolean {
  return data.buffer instanceof SharedArrayBuffer;
}

function shareAll(data: Float32Array, inputs: SharedInputs, name: string): Float32Array {
  if (isShared(data)) return data;
  const copy = inputs.view(name, data.length);
  copy.set(data);
  return copy;
}

function shareRegion(data: Float32Array, region: SequenceRegion, inputs: SharedInputs, name: string): Float32Array {
  if (isShared(data)) return data;
  const copy = inputs.view(name, data.length);
  for (const [start, end] of region) copy.set(data.subarray(start, end), start);
  return copy;
}

/** The job with every input a worker reads in shared memory (sequences: only `region`), in `inputs`' buffers. */
export function shareJob(job: ScanJob, region: SequenceRegion, inputs: SharedInputs): ScanJob {
  const source = job.problem.inputs as unknown as Readonly<Record<string, Tensor | undefined>>;
  const shared: Record<string, Tensor> = {};
  for (const name of INPUT_NAMES[job.problem.family]) {
    const tensor = source[name];
    if (tensor === undefined) continue;
    const data = SEQUENCE_INPUTS.has(name) ? shareRegion(tensor.data, region, inputs, name) : shareAll(tensor.data, inputs, name);
    shared[name] = { data, shape: tensor.shape };
  }
  const problem = { family: job.problem.family, inputs: shared, options: job.problem.options } as unknown as AnyProblem;
  const initialState = job.initialState === undefined ? undefined : shareAll(job.initialState, inputs, 'initialState');
  return { problem, initialState };
}

/** A worker's output buffers, kept across runs (one set per worker). */
export class SharedOutputs {
  private primary: ScanArray | undefined;
  private finalState: ScanArray | undefined;

  /** Shared arrays shaped like `outputs` (same lengths and precision), reused when large enough. */
  like(outputs: JobOutputs, arithmetic: Arithmetic): JobOutputs {
    this.primary = reuse(this.primary, outputs.primary.length, arithmetic);
    const finalState = outputs.finalState === undefined ? undefined : (this.finalState = reuse(this.finalState, outputs.finalState.length, arithmetic));
    return { primary: this.primary.subarray(0, outputs.primary.length), finalState: finalState?.subarray(0, outputs.finalState?.length) };
  }
}

function reuse(buffer: ScanArray | undefined, length: number, arithmetic: Arithmetic): ScanArray {
  return buffer !== undefined && buffer.length >= length ? buffer : arithmetic.allocate(Math.max(length, 16), true);
}

/** Copies what a worker wrote (its sequence `region` and final-state range) from `shared` into `outputs`. */
export function copyOutputs(shared: JobOutputs, outputs: JobOutputs, region: SequenceRegion, stateRange: readonly [number, number]): void {
  for (const [start, end] of region) outputs.primary.set(shared.primary.subarray(start, end), start);
  if (outputs.finalState !== undefined && shared.finalState !== undefined) {
    outputs.finalState.set(shared.finalState.subarray(stateRange[0], stateRange[1]), stateRange[0]);
  }
}
