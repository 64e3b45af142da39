/**
 * The chunked Mamba-3 SISO (kernels.ts) as an implementation of the mamba3-siso family, in float64
 * or in float32 (storage and every operation rounded). The chunk size is one of CHUNK_SIZES,
 * DEFAULT_CHUNK_SIZE unless the settings name one.
 */
import type { Mamba3SisoInputs, Mamba3SisoOutputs, Mamba3SisoStepInputs, StepOutputs } from '../../spec/families.ts';
import { mamba3SisoSizes, mamba3SisoStepSizes, qkHeadOfHead, type Mamba3SisoSizes } from '../../spec/families/mamba3-siso/dimensions.ts';
import { mamba3SisoRunOutputs, mamba3SisoStepOutputs } from '../../spec/families/mamba3-siso/outputs.ts';
import type { EvaluationSettings, FamilyImplementation, ScanImplementation } from '../../spec/implementation.ts';
import type { Round, Storage } from '../sequential/kernels.ts';
import { specialise } from '../sequential/specialise.ts';
import { mamba3ChunkedHead, type Mamba3ChunkScratch } from './kernels.ts';

/**
 * The chunk sizes run() accepts: a small one, 48 (divides no power of two, so the tail chunk is
 * ragged at the usual lengths), mamba_ssm's default 64, and 256.
 */
export const CHUNK_SIZES: readonly number[] = [16, 48, 64, 256];

/** 64, mamba_ssm's default chunk_size of mamba3_siso_combined. */
export const DEFAULT_CHUNK_SIZE = 64;

/** The two arithmetics of the chunked Mamba-3 SISO. */
export type Mamba3ChunkedPrecision = 'float64' | 'float32';

/** The chunked Mamba-3 SISO in one precision. */
export function createMamba3Chunked(precision: Mamba3ChunkedPrecision): ScanImplementation {
  const name = `mamba3-chunked-${precision === 'float32' ? 'f32' : 'f64'}`;
  const round: Round = precision === 'float32' ? Math.fround : (v) => v;
  const alloc = (length: number): Storage => (precision === 'float32' ? new Float32Array(length) : new Float64Array(length));
  const head = specialise(mamba3ChunkedHead, round);

  const chunkSizeOf = (settings: EvaluationSettings | undefined): number => {
    const size = settings?.chunkSize ?? DEFAULT_CHUNK_SIZE;
    if (!CHUNK_SIZES.includes(size)) {
      throw new RangeError(`${name} mamba3-siso: settings.chunkSize: expected one of ${CHUNK_SIZES.join(', ')}, got ${String(size)}`);
    }
    return size;
  };

  /** y and the four final states of every head, chunk by chunk (a step: the same tensors read as a run of length 1). */
  const evaluate = (inputs: Mamba3SisoInputs, sizes: Mamba3SisoSizes, chunk: number) => {
    const { batch, length: L, heads: H, headdim: P, groups: G, stateSize: N, angles: A } = sizes;
    const Q = Math.max(1, Math.min(chunk, L));
    const scratch: Mamba3ChunkScratch = {
      state: alloc(P * N),
      phase: alloc(A),
      turned: alloc(A),
      entering: alloc(A),
      qHat: alloc(Q * N),
      keys: alloc((Q + 1) * N),
      values: alloc((Q + 1) * P),
      betaX: alloc(Q * P),
      gammaX: alloc(Q * P),
      cumulative: alloc(Q),
      decayOut: alloc(Q),
      segsum: alloc(Q * Q),
      gram: alloc(Q + 1),
      output: alloc(Q * P),
    };
    const out = { y: alloc(batch * L * H * P), angle: alloc(batch * H * A), ssm: alloc(batch * H * P * N), k: alloc(batch * H * N), v: alloc(batch * H * P) };
    const { Q: Qm, K, V, ADT, DT, Trap, QBias, KBias, Angles, D, Z, angleState, ssmState, kState, vState } = inputs;
    for (let b = 0; b < batch; b++) {
      for (let h = 0; h < H; h++) {
        head(
          { L, H, G, P, N, A },
          Q,
          b,
          h,
          qkHeadOfHead(h, H, G),
          Qm.data,
          K.data,
          V.data,
          ADT.data,
          DT.data,
          Trap.data,
          QBias.data,
          KBias.data,
          Angles.data,
          D?.data ?? null,
          Z?.data ?? null,
          angleState?.data ?? null,
          ssmState?.data ?? null,
          kState?.data ?? null,
          vState?.data ?? null,
          scratch,
          out.y,
          out.angle,
          out.ssm,
          out.k,
          out.v,
        );
      }
    }
    return out;
  };

  const family: FamilyImplementation<'mamba3-siso'> = {
    chunkSizes: CHUNK_SIZES,
    async run(problem, settings): Promise<Mamba3SisoOutputs> {
      const chunk = chunkSizeOf(settings);
      const { V, Q, Angles } = problem.inputs;
      const sizes = mamba3SisoSizes(V, Q, Angles);
      const out = evaluate(problem.inputs, sizes, chunk);
      return mamba3SisoRunOutputs(out, sizes);
    },
    async step(inputs: Mamba3SisoStepInputs): Promise<StepOutputs> {
      // A step's tensors are laid out as a run's of length 1: one chunk of one token.
      const sizes = mamba3SisoStepSizes(inputs.V, inputs.Q, inputs.Angles);
      const out = evaluate(inputs, sizes, 1);
      return mamba3SisoStepOutputs(out, sizes);
    },
  };

  return {
    name,
    precision,
    description:
      precision === 'float32'
        ? 'Chunked Mamba-3 SISO (matrix form per chunk, rotary phase and previous token carried across chunks) in float32, every operation rounded.'
        : 'Chunked Mamba-3 SISO (matrix form per chunk, rotary phase and previous token carried across chunks) in plain float64.',
    families: { 'mamba3-siso': family },
  };
}
