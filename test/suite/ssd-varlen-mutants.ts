/**
 * A varlen ssd kernel (test-only) with one switch per classic bug of the variable-length form:
 * the varlen property must fail each wrong kernel and pass the right one. It walks the packed row
 * token by token in float64 (declared float32), with the chunk grid of a chunked kernel (Q tokens,
 * whatever the sequence boundaries) only where a bug needs it; run() is sequential-f64's (or wrong).
 */
import type { SsdOptions } from '../../spec/families.ts';
import { groupOfHead, ssdSizes } from '../../spec/families/ssd/dimensions.ts';
import { dtLimits, effectiveDt, silu } from '../../spec/families/ssd/discretization.ts';
import { sequenceBounds, type SsdVarlenOutputs, type SsdVarlenProblem } from '../../spec/families/ssd/varlen.ts';
import type { ScanImplementation } from '../../spec/implementation.ts';
import { createSequential } from '../../implementations/sequential/sequential.ts';

/** The bugs, each off unless set. */
export interface VarlenBugs {
  /** Only the row's first sequence starts from its initial state (mamba_ssm's one initial state per row); the others from zero. */
  readonly perSequenceInitialIgnored?: boolean;
  /** Every sequence's final state is the state at the end of the chunk its last token is in (the chunk state, not the sequence's). */
  readonly chunkStateAsFinal?: boolean;
  /** A sequence starting inside a chunk continues the previous sequence's state instead of starting from its own. */
  readonly leakInsideChunk?: boolean;
  /** runVarlen is right, but run() starts every row from zero: only the padded batch can tell. */
  readonly runIgnoresInitialStates?: boolean;
}

/** The chunk grid of the mutants. */
export const VARLEN_CHUNK = 16;

/** The varlen ssd of a validated problem, token by token, with the given bugs. */
export function varlenLoop(problem: SsdVarlenProblem, bugs: VarlenBugs): SsdVarlenOutputs {
  const { x, dt, A, B, C, D, z, dtBias, dtLimit, initialStates, cuSeqlens } = problem.inputs;
  const { length: T, heads: H, headdim: P, groups: G, stateSize: N } = ssdSizes(x, B);
  const options: SsdOptions = problem.options;
  const { lo, hi } = dtLimits(dtLimit?.data);
  const bounds = sequenceBounds(cuSeqlens);
  const nseq = bounds.length - 1;
  const y = new Float32Array(x.data.length);
  const finalStates = new Float32Array(nseq * H * P * N);
  const stateAfter = new Float64Array(T * N); // one channel's state after every token, for chunkStateAsFinal
  for (let h = 0; h < H; h++) {
    const g = groupOfHead(h, H, G);
    for (let p = 0; p < P; p++) {
      const h0 = new Float64Array(N);
      for (let s = 0; s < nseq; s++) {
        const [start, end] = [bounds[s], bounds[s + 1]];
        const base = (s * H + h) * P * N + p * N;
        const leaks = bugs.leakInsideChunk === true && s > 0 && start % VARLEN_CHUNK !== 0;
        const ownInitial = initialStates !== undefined && !(bugs.perSequenceInitialIgnored === true && s > 0);
        if (!leaks) for (let n = 0; n < N; n++) h0[n] = ownInitial ? initialStates.data[base + n] : 0;
        for (let t = start; t < end; t++) {
          const delta = effectiveDt(dt.data[t * H + h], dtBias?.data[h] ?? 0, options.dtSoftplus, lo, hi);
          const decay = Math.exp(delta * A.data[h]);
          const xi = x.data[(t * H + h) * P + p];
          let out = 0;
          for (let n = 0; n < N; n++) {
            h0[n] = decay * h0[n] + delta * B.data[(t * G + g) * N + n] * xi;
            out += C.data[(t * G + g) * N + n] * h0[n];
            stateAfter[t * N + n] = h0[n];
          }
          if (D !== undefined) out += D.data[D.shape.length === 2 ? h * P + p : h] * xi;
          if (z !== undefined) out *= silu(z.data[(t * H + h) * P + p]);
          y[(t * H + h) * P + p] = out;
        }
        for (let n = 0; n < N; n++) finalStates[base + n] = h0[n];
      }
      if (bugs.chunkStateAsFinal) {
        for (let s = 0; s < nseq; s++) {
          const last = bounds[s + 1] - 1;
          if (last < bounds[s]) continue;
          const chunkEnd = Math.min(T, (Math.floor(last / VARLEN_CHUNK) + 1) * VARLEN_CHUNK) - 1;
          for (let n = 0; n < N; n++) finalStates[(s * H + h) * P * N + p * N + n] = stateAfter[chunkEnd * N + n];
        }
      }
    }
  }
  return { y: { data: y, shape: [...x.shape] }, finalStates: { data: finalStates, shape: [nseq, H, P, N] } };
}

/** The mutant as an implementation of ssd: run() is sequential-f64's, runVarlen the loop above. */
export function varlenLoopImplementation(bugs: VarlenBugs = {}): ScanImplementation {
  const sequential = createSequential('float64').families.ssd!;
  const flags = Object.keys(bugs).filter((key) => bugs[key as keyof VarlenBugs]);
  return {
    name: `varlen-loop${flags.length === 0 ? '' : `-${flags.join('-')}`}`,
    precision: 'float32',
    families: {
      ssd: {
        run: (problem) => {
          const { initialStates: _ignored, ...inputs } = problem.inputs;
          return sequential.run(bugs.runIgnoresInitialStates ? { ...problem, inputs } : problem);
        },
        async runVarlen(problem) {
          return varlenLoop(problem, bugs);
        },
      },
    },
  };
}
