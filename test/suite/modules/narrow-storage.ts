/**
 * Correct kernels in the storage precisions no shipped implementation declares: float16 with
 * subnormals preserved, and bfloat16 with subnormals preserved or flushed (webgpu-f16 is float16
 * with flush). Each is the sequential float32 kernel with a narrow storage around it, as a
 * mamba_ssm kernel in half precision is: every input rounded to the storage once (to nearest, ties
 * to even), computed with a float32 accumulator, every output rounded to the storage; with
 * 'flush', a subnormal input or output of the storage becomes a zero of its sign. The suite must
 * never fail them (issue 15: sound for every precision): `scan-conformance check --impl
 * test/suite/modules/narrow-storage.ts` on many seeds, and the deep sweep with `sweep --impl`.
 */
import { FLOAT16_OVERFLOW_THRESHOLD, float16Bits, float16Value } from '../../../spec/float16.ts';
import type { FamilyImplementation, ScanImplementation } from '../../../spec/implementation.ts';
import type { FamilyName } from '../../../spec/families.ts';
import { MIN_NORMAL, type Precision } from '../../../spec/precision.ts';
import { createSequential } from '../../../implementations/sequential/sequential.ts';

const bits = new Uint32Array(1);
const value = new Float32Array(bits.buffer);

/** The bfloat16 value nearest to a float32 value (ties to even; NaN stays NaN, past the range ±Infinity). */
function roundToBfloat16(x: number): number {
  value[0] = x;
  if (Number.isNaN(value[0])) return Number.NaN;
  const b = bits[0];
  bits[0] = ((b + 0x7fff + ((b >>> 16) & 1)) & 0xffff0000) >>> 0;
  return value[0];
}

/** Rounds one number to the storage, flushing its subnormals to a signed zero when asked. */
function storageRounding(storage: 'float16' | 'bfloat16', subnormals: 'preserve' | 'flush'): (x: number) => number {
  const round = storage === 'float16' ? (x: number) => float16Value(float16Bits(x)) : roundToBfloat16;
  const minNormal = MIN_NORMAL[storage];
  if (subnormals === 'preserve') return round;
  return (x) => {
    const r = round(x);
    return r !== 0 && Math.abs(r) < minNormal ? (r < 0 ? -0 : 0) : r;
  };
}

type Tensors = Readonly<Record<string, unknown>>;

/** A copy of every float tensor in `tensors` rounded to the storage; other values as they are. */
function roundTensors<T>(tensors: T, round: (x: number) => number): T {
  const out: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(tensors as Tensors)) {
    const data = (entry as { data?: unknown } | undefined)?.data;
    if (data instanceof Float32Array || data instanceof Float64Array) {
      out[key] = { ...(entry as object), data: Float32Array.from(data, round) };
    } else {
      out[key] = entry;
    }
  }
  return out as T;
}

/**
 * Why a float16 kernel cannot take these inputs: one rounds to ±Inf in its storage (as webgpu-f16
 * declines them; bfloat16 has float32's range); undefined when it can.
 */
function outOfRange(storage: 'float16' | 'bfloat16', inputs: unknown): string | undefined {
  if (storage !== 'float16') return undefined;
  for (const [name, entry] of Object.entries(inputs as Tensors)) {
    const data = (entry as { data?: unknown } | undefined)?.data;
    if (!(data instanceof Float32Array)) continue;
    for (const v of data) if (Math.abs(v) >= FLOAT16_OVERFLOW_THRESHOLD) return `input ${name} holds |value| = ${Math.abs(v)}, which rounds to Inf in float16 storage`;
  }
  return undefined;
}

/** The sequential float32 kernel's entry for one family, behind the storage's roundings. */
function narrowEntry<F extends FamilyName>(entry: FamilyImplementation<F>, storage: 'float16' | 'bfloat16', round: (x: number) => number): FamilyImplementation<F> {
  const wrapped: FamilyImplementation<FamilyName> = {
    ...(entry as FamilyImplementation<FamilyName>),
    decline: (problem) => outOfRange(storage, problem.inputs) ?? (entry as FamilyImplementation<FamilyName>).decline?.(problem),
    run: async (problem, settings) => roundTensors(await entry.run({ ...problem, inputs: roundTensors(problem.inputs, round) } as never, settings), round),
  };
  if (entry.step !== undefined) {
    const step = entry.step.bind(entry);
    wrapped.step = async (inputs, options) => roundTensors(await step(roundTensors(inputs, round) as never, options as never), round);
  }
  if (entry.vjp !== undefined) {
    const vjp = entry.vjp.bind(entry);
    wrapped.vjp = async (problem, cotangents) =>
      roundTensors(await vjp({ ...problem, inputs: roundTensors(problem.inputs, round) } as never, roundTensors(cotangents, round) as never), round);
  }
  // The variable-length form is left out: its cells are not applicable rather than half-wrapped.
  delete (wrapped as { runVarlen?: unknown }).runVarlen;
  return wrapped as FamilyImplementation<F>;
}

/** One emulated narrow-storage kernel: storage `storage`, float32 accumulation, subnormals as given. */
export function narrowStorageKernel(storage: 'float16' | 'bfloat16', subnormals: 'preserve' | 'flush'): ScanImplementation {
  const core = createSequential('float32');
  const round = storageRounding(storage, subnormals);
  const families: Record<string, unknown> = {};
  for (const [family, entry] of Object.entries(core.families)) families[family] = narrowEntry(entry as FamilyImplementation<FamilyName>, storage, round);
  return {
    name: `emulated/${storage}-${subnormals}`,
    precision: storage satisfies Precision,
    accumulation: 'float32',
    subnormals,
    description: `the sequential float32 kernel with ${storage} storage (inputs and outputs rounded to nearest even${subnormals === 'flush' ? ', subnormals flushed' : ''})`,
    families: families as ScanImplementation['families'],
  };
}

export default [
  narrowStorageKernel('float16', 'preserve'),
  narrowStorageKernel('bfloat16', 'preserve'),
  narrowStorageKernel('bfloat16', 'flush'),
  narrowStorageKernel('float16', 'flush'),
];
