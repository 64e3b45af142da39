/**
 * ssd (Mamba-2) on the GPU: the chunked matrix form of wgsl-ssd.ts, five dispatches in one
 * submission, with the chunk size the suite asks for (settings.chunkSize) or 64. The step is the
 * same kernels over one token starting from the given state, as mamba_ssm's
 * selective_state_update computes it.
 */
import { ImplementationDeclinedError, type EvaluationSettings, type FamilyImplementation } from '../../spec/implementation.ts';
import type { Problem, SsdInputs, SsdOptions } from '../../spec/families.ts';
import { dtLimits } from '../../spec/families/ssd/discretization.ts';
import { ssdSizes, ssdStepSizes, type SsdSizes } from '../../spec/families/ssd/dimensions.ts';
import { capacityShortfall, float16RangeShortfall, type BufferNeed } from './capacity.ts';
import { moduleLabel } from './kernel-modules.ts';
import type { KernelRuntime } from './runtime.ts';
import { bytesPerElement, INFINITY_BITS } from './storage-type.ts';
import { SSD_FLAGS, SSD_MAX_CHUNK, SSD_PARAM_FLOAT_WORDS, SSD_PARAM_WORDS, SSD_WORKGROUP } from './wgsl-ssd.ts';

/** The chunk sizes run() accepts: small, two that divide few lengths (48, 100), and mamba_ssm's default 256. */
export const SSD_CHUNK_SIZES: readonly number[] = [16, 48, 64, 100, SSD_MAX_CHUNK];

/** The chunk size when the settings name none. */
export const SSD_DEFAULT_CHUNK_SIZE = 64;

/** Sequence labels repeat after this many changes; see sequenceLabels. */
const SEQUENCE_LABEL_PERIOD = 1024;

/** How one run is cut into chunks and where its working values sit in the f32 workspace. */
interface SsdPlan {
  readonly chunkSize: number;
  readonly chunks: number;
  readonly stepsLength: number;
  readonly weightsOffset: number;
  readonly statesOffset: number;
  readonly workspaceElements: number;
  readonly workgroups: Readonly<Record<'chunkCumsum' | 'chunkWeights' | 'chunkStates' | 'passStates' | 'chunkOutputs', number>>;
}

/** The chunking and workspace of a run; a chunk longer than the sequence is cut to its length (same chunks, less idle work). */
function planOf(sizes: SsdSizes, chunkSize: number): SsdPlan {
  const { batch, length, heads, headdim, groups, stateSize } = sizes;
  const Q = Math.max(1, Math.min(chunkSize, length));
  const chunks = Math.ceil(length / Q);
  const perStep = batch * heads * length;
  const pairs = batch * groups * chunks * Q * Q;
  const weights = batch * heads * chunks * Q * Q;
  const states = batch * heads * chunks * headdim * stateSize;
  const groupsOf = (elements: number): number => Math.ceil(elements / SSD_WORKGROUP);
  return {
    chunkSize: Q,
    chunks,
    stepsLength: perStep,
    // Four per-step arrays (Δ, cum, state weights, entering decays), then the matrices, then the states.
    weightsOffset: 4 * perStep,
    statesOffset: 4 * perStep + weights,
    workspaceElements: 4 * perStep + weights + states,
    workgroups: {
      chunkCumsum: batch * heads * chunks,
      chunkWeights: groupsOf(pairs),
      chunkStates: groupsOf(states),
      passStates: groupsOf(batch * heads * headdim * stateSize),
      chunkOutputs: groupsOf(batch * length * heads * headdim),
    },
  };
}

/**
 * Per-row labels of seqIdx's sequences: 0 for the row's first, +1 (mod 1024) at each change. The
 * kernels compare labels only within Q + 1 ≤ 257 consecutive steps, where a non-decreasing seqIdx
 * changes at most 256 times, so labels are equal exactly where seqIdx is; and they stay small
 * integers, exact in float16 storage whatever the seqIdx values are.
 */
export function sequenceLabels(seqIdx: Float32Array, batch: number, length: number): Float32Array {
  const labels = new Float32Array(seqIdx.length);
  for (let b = 0; b < batch; b++) {
    let label = 0;
    for (let t = 1; t < length; t++) {
      const i = b * length + t;
      if (seqIdx[i] !== seqIdx[i - 1]) label = (label + 1) % SEQUENCE_LABEL_PERIOD;
      labels[i] = label;
    }
  }
  return labels;
}

/** A (heads) and the optional dtBias (heads) and D (heads or heads·headdim), packed into one binding. */
function headTerms(inputs: Pick<SsdInputs, 'A' | 'dtBias' | 'D'>): { data: Float32Array; dtBiasOffset: number; dOffset: number } {
  const { A, dtBias, D } = inputs;
  const dtBiasOffset = A.data.length;
  const dOffset = dtBiasOffset + (dtBias?.data.length ?? 0);
  const data = new Float32Array(dOffset + (D?.data.length ?? 0));
  data.set(A.data);
  if (dtBias !== undefined) data.set(dtBias.data, dtBiasOffset);
  if (D !== undefined) data.set(D.data, dOffset);
  return { data, dtBiasOffset, dOffset };
}

/** Why a run with this chunk size does not fit the device (a buffer or a dispatch too large), or undefined; reads only sizes. */
function capacityReason(runtime: KernelRuntime, sizes: SsdSizes, chunkSize: number): string | undefined {
  const { batch, length, heads, headdim, groups, stateSize } = sizes;
  const element = bytesPerElement(runtime.storage);
  const plan = planOf(sizes, chunkSize);
  const buffers: BufferNeed[] = [
    { name: 'x', bytes: batch * length * heads * headdim * element },
    { name: 'B', bytes: batch * length * groups * stateSize * element },
    { name: 'finalStates', bytes: batch * heads * headdim * stateSize * element },
    { name: 'workspace', bytes: plan.workspaceElements * 4 },
  ];
  return capacityShortfall(runtime.limits(), buffers, Object.values(plan.workgroups));
}

/** The chunk size of a run: settings.chunkSize when given (one of SSD_CHUNK_SIZES), else the default. */
function chunkSizeOf(settings: EvaluationSettings | undefined): number {
  const requested = settings?.chunkSize;
  if (requested === undefined) return SSD_DEFAULT_CHUNK_SIZE;
  if (!SSD_CHUNK_SIZES.includes(requested)) {
    throw new RangeError(`ssd: settings.chunkSize: expected one of ${SSD_CHUNK_SIZES.join(', ')}, got ${requested}`);
  }
  return requested;
}

/** The ssd family of a WebGPU implementation. */
export function ssdFamily(runtime: KernelRuntime): FamilyImplementation<'ssd'> {
  const module = moduleLabel('ssd scan', runtime.storage);

  async function scan(inputs: SsdInputs, options: SsdOptions, sizes: SsdSizes, chunkSize: number) {
    const { batch, length, heads, headdim, groups, stateSize } = sizes;
    const states = batch * heads * headdim * stateSize;
    if (states === 0) return { y: new Float32Array(batch * length * heads * headdim), finalStates: new Float32Array(states) };
    const plan = planOf(sizes, chunkSize);
    const { lo, hi } = dtLimits(inputs.dtLimit?.data);
    const terms = headTerms(inputs);
    const flags =
      (inputs.D !== undefined ? SSD_FLAGS.D : 0) |
      (inputs.D !== undefined && inputs.D.shape.length === 2 ? SSD_FLAGS.dPerChannel : 0) |
      (inputs.z !== undefined ? SSD_FLAGS.z : 0) |
      (inputs.dtBias !== undefined ? SSD_FLAGS.dtBias : 0) |
      (inputs.initialStates !== undefined ? SSD_FLAGS.initialStates : 0) |
      (inputs.seqIdx !== undefined ? SSD_FLAGS.seqIdx : 0) |
      (options.dtSoftplus ? SSD_FLAGS.dtSoftplus : 0) |
      // Infinite bounds are no clamp; the kernel never sees Inf in its uniforms.
      (lo > Number.NEGATIVE_INFINITY ? SSD_FLAGS.dtLo : 0) |
      (hi < Number.POSITIVE_INFINITY ? SSD_FLAGS.dtHi : 0);
    const params = new Uint32Array(SSD_PARAM_WORDS);
    params.set([batch, length, heads, headdim, groups, stateSize, plan.chunkSize, plan.chunks, flags, INFINITY_BITS]);
    params.set([terms.dtBiasOffset, terms.dOffset, plan.stepsLength, plan.weightsOffset, plan.statesOffset], 12);
    const floats = new Float32Array(params.buffer);
    if ((flags & SSD_FLAGS.dtLo) !== 0) floats[SSD_PARAM_FLOAT_WORDS.dtLo] = lo;
    if ((flags & SSD_FLAGS.dtHi) !== 0) floats[SSD_PARAM_FLOAT_WORDS.dtHi] = hi;
    const out = await runtime.engine().run({
      module,
      params,
      inputs: {
        x: inputs.x.data,
        dt: inputs.dt.data,
        B: inputs.B.data,
        C: inputs.C.data,
        z: inputs.z?.data,
        initialStates: inputs.initialStates?.data,
        seqIdx: inputs.seqIdx === undefined ? undefined : sequenceLabels(inputs.seqIdx.data, batch, length),
        headTerms: terms.data,
      },
      scratchBytes: { workspace: plan.workspaceElements * 4 },
      outputs: { y: batch * length * heads * headdim, finalStates: states },
      dispatches: Object.entries(plan.workgroups).map(([entryPoint, workgroups]) => ({ entryPoint, workgroups })),
    });
    return { y: out.y, finalStates: out.finalStates };
  }

  return {
    chunkSizes: SSD_CHUNK_SIZES,
    decline(problem: Problem<'ssd'>): string | undefined {
      const { inputs } = problem;
      return (
        capacityReason(runtime, ssdSizes(inputs.x, inputs.B), SSD_DEFAULT_CHUNK_SIZE) ??
        float16RangeShortfall(runtime.storage, {
          x: inputs.x.data,
          dt: inputs.dt.data,
          A: inputs.A.data,
          B: inputs.B.data,
          C: inputs.C.data,
          D: inputs.D?.data,
          z: inputs.z?.data,
          dtBias: inputs.dtBias?.data,
          initialStates: inputs.initialStates?.data,
        })
      );
    },
    async run(problem: Problem<'ssd'>, settings?: EvaluationSettings) {
      const chunkSize = chunkSizeOf(settings);
      const sizes = ssdSizes(problem.inputs.x, problem.inputs.B);
      // decline() checked the default chunk size; a larger or smaller one needs another workspace.
      const reason = capacityReason(runtime, sizes, chunkSize);
      if (reason !== undefined) throw new ImplementationDeclinedError(`chunk size ${chunkSize}: ${reason}`);
      const { batch, length, heads, headdim, stateSize } = sizes;
      const out = await scan(problem.inputs, problem.options, sizes, chunkSize);
      return {
        y: { data: out.y, shape: [batch, length, heads, headdim] },
        finalStates: { data: out.finalStates, shape: [batch, heads, headdim, stateSize] },
      };
    },
    async step(inputs, options) {
      const sizes = ssdStepSizes(inputs.x, inputs.B);
      const { batch, heads, headdim, stateSize } = sizes;
      // One token: (batch, H, P), (batch, H) and (batch, G, N) are the run's layouts with L = 1.
      const { state, ...rest } = inputs;
      const out = await scan({ ...rest, initialStates: state }, options, sizes, 1);
      return {
        y: { data: out.y, shape: [batch, heads, headdim] },
        state: { data: out.finalStates, shape: [batch, heads, headdim, stateSize] },
      };
    },
  };
}
