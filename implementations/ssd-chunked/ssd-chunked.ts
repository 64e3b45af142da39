/**
 * The chunked SSD (Mamba-2's matrix form, kernels.ts) as an implementation of the ssd family, in
 * float64 or in float32 (storage and every operation rounded). The chunk size is mamba_ssm's
 * chunk_size: one of CHUNK_SIZES, DEFAULT_CHUNK_SIZE unless the settings name one.
 */
import type { SsdInputs, SsdOptions, SsdOutputs, SsdStepInputs, StepOutputs } from '../../spec/families.ts';
import { groupOfHead, ssdSizes, ssdStepSizes, type SsdSizes } from '../../spec/families/ssd/dimensions.ts';
import { dtLimits } from '../../spec/families/ssd/discretization.ts';
import { sequenceIds, type SsdVarlenOutputs } from '../../spec/families/ssd/varlen.ts';
import type { EvaluationSettings, FamilyImplementation, ScanImplementation } from '../../spec/implementation.ts';
import { ssdDeltas, type Round, type Storage } from '../sequential/kernels.ts';
import { specialise } from '../sequential/specialise.ts';
import { ssdHeadWalk } from '../sequential/ssd-walk.ts';
import { ssdChunkedHead, ssdChunkGram, type SsdChunkScratch } from './kernels.ts';

/**
 * The chunk sizes run() accepts: a small one, 100 (divides no power of two, so the tail chunk is
 * ragged), the default and mamba_ssm's Mamba2 default 256.
 */
export const CHUNK_SIZES: readonly number[] = [16, 64, 100, 256];

/**
 * 64: the size the minimal listing's own test runs, between the small sizes and mamba_ssm's 256.
 * Speed hardly decides it: two P·N terms per token (state → output, chunk state) dominate the
 * cost whatever Q is, and on the Mamba-2-130m-like shape 64 runs within 6% of the fastest size,
 * 16 (bench/ssd-throughput.ts; numbers in README.md).
 */
export const DEFAULT_CHUNK_SIZE = 64;

/** The two arithmetics of the chunked SSD. */
export type SsdChunkedPrecision = 'float64' | 'float32';

/** The chunked SSD in one precision. */
export function createSsdChunked(precision: SsdChunkedPrecision): ScanImplementation {
  const name = `ssd-chunked-${precision === 'float32' ? 'f32' : 'f64'}`;
  const round: Round = precision === 'float32' ? Math.fround : (v) => v;
  const alloc = (length: number): Storage => (precision === 'float32' ? new Float32Array(length) : new Float64Array(length));
  const kernels = {
    deltas: specialise(ssdDeltas, round),
    gram: specialise(ssdChunkGram, round),
    head: specialise(ssdChunkedHead, round),
  };

  const chunkSizeOf = (settings: EvaluationSettings | undefined): number => {
    const size = settings?.chunkSize ?? DEFAULT_CHUNK_SIZE;
    if (!CHUNK_SIZES.includes(size)) {
      throw new RangeError(`${name} ssd: settings.chunkSize: expected one of ${CHUNK_SIZES.join(', ')}, got ${String(size)}`);
    }
    return size;
  };

  /**
   * Evaluates every head chunk by chunk; a step is a run of one token from its state. With
   * sequenceStride > 0 (varlen, batch 1) seqIdx numbers the sequences and each reads and writes
   * its own state (kernels.ts).
   */
  const evaluate = (inputs: SsdInputs, options: SsdOptions, sizes: SsdSizes, Q: number, y: Storage, last: Storage, sequenceStride = 0): void => {
    const { batch, length: L, heads: H, headdim: P, groups: G, stateSize: N } = sizes;
    const { x, dt, A, B, C, D, z, dtBias, dtLimit, initialStates, seqIdx } = inputs;
    const { lo, hi } = dtLimits(dtLimit?.data);
    const delta = alloc(dt.data.length);
    kernels.deltas(dt.data, H, dtBias?.data ?? null, options.dtSoftplus, lo, hi, delta);
    const gram = alloc(Math.ceil(L / Q) * Q * Q);
    const scratch: SsdChunkScratch = {
      state: alloc(P * N),
      cumulative: alloc(Q),
      segsum: alloc(Q * Q),
      mixing: alloc(Q),
      decayOut: alloc(Q),
      decayIn: alloc(Q),
      scaledX: alloc(Q * P),
      weightedX: alloc(Q * P),
      output: alloc(Q * P),
      chunkState: alloc(P),
      segmentStart: new Int32Array(Q),
    };
    for (let b = 0; b < batch; b++) {
      for (let g = 0; g < G; g++) {
        // C·Bᵀ once per group, shared by the heads that read it.
        kernels.gram(B.data, C.data, (b * L * G + g) * N, G * N, L, N, Q, gram);
        for (let h = 0; h < H; h++) {
          if (groupOfHead(h, H, G) !== g) continue;
          kernels.head(
            ssdHeadWalk(sizes, D, b, h),
            L,
            P,
            N,
            Q,
            x.data,
            z?.data ?? null,
            delta,
            A.data[h],
            B.data,
            C.data,
            seqIdx?.data ?? null,
            D?.data ?? null,
            initialStates?.data ?? null,
            sequenceStride,
            gram,
            scratch,
            y,
            last,
          );
        }
      }
    }
  };

  const ssd: FamilyImplementation<'ssd'> = {
    chunkSizes: CHUNK_SIZES,
    async run(problem, settings): Promise<SsdOutputs> {
      const Q = chunkSizeOf(settings);
      const { x, B } = problem.inputs;
      const sizes = ssdSizes(x, B);
      const { batch, heads, headdim, stateSize } = sizes;
      const y = alloc(x.data.length);
      const last = alloc(batch * heads * headdim * stateSize);
      evaluate(problem.inputs, problem.options, sizes, Q, y, last);
      return { y: { data: y, shape: [...x.shape] }, finalStates: { data: last, shape: [batch, heads, headdim, stateSize] } };
    },
    async step(inputs: SsdStepInputs, options: SsdOptions): Promise<StepOutputs> {
      const sizes = ssdStepSizes(inputs.x, inputs.B);
      const { state, ...rest } = inputs;
      const y = alloc(inputs.x.data.length);
      const next = alloc(state.data.length);
      // A step's tensors are laid out as a run's of length 1: one chunk of one token.
      evaluate({ ...rest, initialStates: state }, options, sizes, 1, y, next);
      return { y: { data: y, shape: [...inputs.x.shape] }, state: { data: next, shape: [...state.shape] } };
    },
    // The packed row is cut into chunks as one row is, whatever the sequence boundaries (mamba_ssm's
    // and vLLM's kernels): the sequence numbers play seqIdx, and each sequence reads and writes its
    // own state. A sequence without tokens keeps its initial state, stored before the run.
    async runVarlen(problem, settings): Promise<SsdVarlenOutputs> {
      const Q = chunkSizeOf(settings);
      const { cuSeqlens, ...inputs } = problem.inputs;
      const sizes = ssdSizes(inputs.x, inputs.B);
      const { heads, headdim, stateSize } = sizes;
      const nseq = cuSeqlens.data.length - 1;
      const y = alloc(inputs.x.data.length);
      const last = alloc(nseq * heads * headdim * stateSize);
      if (inputs.initialStates !== undefined) last.set(inputs.initialStates.data);
      evaluate({ ...inputs, seqIdx: { data: sequenceIds(cuSeqlens), shape: [1, sizes.length] } }, problem.options, sizes, Q, y, last, heads * headdim * stateSize);
      return { y: { data: y, shape: [...inputs.x.shape] }, finalStates: { data: last, shape: [nseq, heads, headdim, stateSize] } };
    },
  };

  return {
    name,
    precision,
    description:
      precision === 'float32'
        ? 'Chunked SSD (Mamba-2 matrix form: C·Bᵀ∘exp(segsum) blocks, chunk states, a scan across chunks) in float32, every operation rounded.'
        : 'Chunked SSD (Mamba-2 matrix form: C·Bᵀ∘exp(segsum) blocks, chunk states, a scan across chunks) in plain float64.',
    families: { ssd },
  };
}
