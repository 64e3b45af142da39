/**
 * ssd's tolerance terms (spec/families/ssd/tolerance.ts, spec/tolerance.md rule M) against a
 * float32 chunked kernel written here in Mamba-2's matrix form (ssd_minimal_discrete: float32
 * cumulative sums of Δ·A inside each chunk, exp of their differences, chunk states passed across
 * chunks), every chunk size from 1 to L and both a sequential and a tree (Hillis–Steele)
 * cumulative sum: sound where it is correct, and the chunk-start-decay bug of issue 16 exceeds it.
 * The bound is suite/tolerance.ts elementBound with the ssd channel of each element placed by hand
 * (y (batch, L, H, P): channel b·H·P + h·P + p, t steps in).
 */
import { describe, expect, it } from 'vitest';
import { reference } from '../../reference/index.ts';
import type { SsdInputs } from '../../spec/families.ts';
import { groupOfHead, ssdSizes } from '../../spec/families/ssd/dimensions.ts';
import { dtLimits, effectiveDt, silu } from '../../spec/families/ssd/discretization.ts';
import { ssdTolerance } from '../../spec/families/ssd/tolerance.ts';
import { elementBound, roundoffsOf, type ChannelModel } from '../../suite/tolerance.ts';
import { filled, float32, seeded, type Random } from '../reference/random-inputs.ts';

const f = Math.fround;
type CumulativeSum = 'sequential' | 'tree';
type Bug = 'none' | 'chunk-start decay';

/** Float32 inclusive cumulative sum of a[from … to), sequential or Hillis–Steele. */
function cumulativeSum(a: Float32Array, from: number, to: number, order: CumulativeSum): Float32Array {
  const out = a.slice(from, to);
  if (order === 'sequential') {
    for (let i = 1; i < out.length; i++) out[i] = f(out[i - 1] + out[i]);
    return out;
  }
  for (let stride = 1; stride < out.length; stride *= 2) {
    const before = out.slice();
    for (let i = stride; i < out.length; i++) out[i] = f(before[i] + before[i - stride]);
  }
  return out;
}

/** A float32 chunked SSD (the matrix form of ssd_minimal_discrete, with seqIdx masking): y and finalStates. */
function chunkedSsd(inputs: SsdInputs, dtSoftplus: boolean, Q: number, order: CumulativeSum, bug: Bug): { y: Float32Array; finalStates: Float32Array } {
  const { batch, length: L, heads: H, headdim: P, groups: G, stateSize: N } = ssdSizes(inputs.x, inputs.B);
  const { lo, hi } = dtLimits(inputs.dtLimit?.data);
  const y = new Float32Array(batch * L * H * P);
  const finalStates = new Float32Array(batch * H * P * N);
  const dot = (u: Float32Array, uo: number, v: ArrayLike<number>, vo: number): number => {
    let s = 0;
    for (let n = 0; n < N; n++) s = f(s + f(u[uo + n] * v[vo + n]));
    return s;
  };
  for (let b = 0; b < batch; b++) {
    const seq = (t: number): number => inputs.seqIdx?.data[b * L + t] ?? 0;
    for (let h = 0; h < H; h++) {
      const g = groupOfHead(h, H, G);
      const delta = Float32Array.from({ length: L }, (_, t) => effectiveDt(inputs.dt.data[(b * L + t) * H + h], inputs.dtBias?.data[h] ?? 0, dtSoftplus, lo, hi));
      const a = Float32Array.from(delta, (d) => d * inputs.A.data[h]);
      for (let p = 0; p < P; p++) {
        const c = (b * H + h) * P + p;
        const state = inputs.initialStates === undefined ? new Float32Array(N) : inputs.initialStates.data.slice(c * N, (c + 1) * N);
        let stateSeq = seq(0);
        const X = Float32Array.from({ length: L }, (_, t) => inputs.x.data[((b * L + t) * H + h) * P + p] * delta[t]);
        const bc = (t: number): number => ((b * L + t) * G + g) * N;
        for (let start = 0; start < L; start += Q) {
          const end = Math.min(L, start + Q);
          const cum = cumulativeSum(a, start, end, order);
          for (let t = start; t < end; t++) {
            let diagonal = 0;
            for (let s = start; s <= t; s++) {
              if (seq(s) !== seq(t)) continue;
              const decay = f(Math.exp(f(cum[t - start] - cum[s - start])));
              diagonal = f(diagonal + f(f(dot(inputs.C.data, bc(t), inputs.B.data, bc(s)) * decay) * X[s]));
            }
            let offDiagonal = 0;
            if (stateSeq === seq(t)) {
              // The bug: the chunk's first decay left out, as if the cumulative sum were the previous chunk's.
              const exponent = bug === 'chunk-start decay' && start > 0 ? f(cum[t - start] - cum[0]) : cum[t - start];
              offDiagonal = f(dot(inputs.C.data, bc(t), state, 0) * f(Math.exp(exponent)));
            }
            const i = ((b * L + t) * H + h) * P + p;
            let out = f(diagonal + offDiagonal);
            if (inputs.D !== undefined) out = f(out + f(inputs.D.data[inputs.D.shape.length === 2 ? h * P + p : h] * inputs.x.data[i]));
            y[i] = inputs.z === undefined ? out : f(out * f(silu(inputs.z.data[i])));
          }
          const last = end - 1;
          const carry = stateSeq === seq(last) ? f(Math.exp(cum[last - start])) : 0;
          for (let n = 0; n < N; n++) {
            let sum = f(carry * state[n]);
            for (let s = start; s <= last; s++) {
              if (seq(s) !== seq(last)) continue;
              sum = f(sum + f(f(inputs.B.data[bc(s) + n] * f(Math.exp(f(cum[last - start] - cum[s - start])))) * X[s]));
            }
            state[n] = sum;
          }
          stateSeq = seq(last);
        }
        finalStates.set(state, c * N);
      }
    }
  }
  return { y, finalStates };
}

/** The largest |ŷ − y| / bound over y and finalStates of a float32 kernel's answer. */
function maxBoundUsage(inputs: SsdInputs, dtSoftplus: boolean, answer: { y: Float32Array; finalStates: Float32Array }): number {
  const problem = { family: 'ssd' as const, inputs, options: { dtSoftplus } };
  const expected = reference(problem);
  const sizes = ssdSizes(inputs.x, inputs.B);
  const { batch, length: L, heads: H, headdim: P, stateSize: N } = sizes;
  const dims = { batch, dim: H * P, length: L, stateSize: N };
  const r = roundoffsOf({ precision: 'float32' });
  const model: ChannelModel = { ...ssdTolerance.channelTerms(problem, dims, r), dims, reverse: false, readsOut: true, timeInner: H * P, inputFlush: { largest: 0, total: 0 } };
  let usage = 0;
  const judge = (got: number, want: number, bound: number): void => {
    expect(Number.isFinite(got)).toBe(true);
    usage = Math.max(usage, bound === 0 ? (got === want ? 0 : Infinity) : Math.abs(got - want) / bound);
  };
  answer.y.forEach((got, i) => {
    const t = Math.floor(i / (H * P)) % L;
    const channel = Math.floor(i / (L * H * P)) * H * P + (i % (H * P));
    const place = { channel, steps: t, sequenceIndex: i };
    judge(got, expected.outputs.y.data[i], elementBound(model, r, place, expected.conditionScales.y.data[i], expected.depthScales.y.data[i]));
  });
  answer.finalStates.forEach((got, i) => {
    const place = { channel: Math.floor(i / N), steps: Math.max(0, L - 1), sequenceIndex: -1 };
    judge(got, expected.outputs.finalStates.data[i], elementBound(model, r, place, expected.conditionScales.finalStates.data[i], expected.depthScales.finalStates.data[i]));
  });
  return usage;
}

/** A problem with every optional input; seqIdx with a few sequences, one of them of length 1. */
function draw(random: Random, L: number, G: number, withSeqIdx: boolean): SsdInputs {
  const [batch, H, P, N] = [2, 4, 2, 3];
  const cuts = [Math.floor(L / 3), Math.floor(L / 3) + 1, Math.floor((2 * L) / 3)];
  return {
    x: filled([batch, L, H, P], () => float32(random, 0.01, 4)),
    dt: filled([batch, L, H], () => float32(random, 0.05, 3) - 1.5),
    A: filled([H], () => -float32(random, 0.05, 3, true)),
    B: filled([batch, L, G, N], () => float32(random, 0.1, 2)),
    C: filled([batch, L, G, N], () => float32(random, 0.1, 2)),
    D: filled([H, P], () => float32(random, 0.1, 2)),
    z: filled([batch, L, H, P], () => float32(random, 0.1, 4)),
    dtBias: filled([H], () => float32(random, 0.01, 0.5)),
    initialStates: filled([batch, H, P, N], () => float32(random, 0.1, 3)),
    ...(withSeqIdx ? { seqIdx: filled([batch, L], (i) => cuts.filter((cut) => i % L >= cut).length) } : {}),
  };
}

describe('ssd tolerance (rule M): a float32 chunked kernel stays within the bound for every chunk size', () => {
  const L = 37;
  for (const order of ['sequential', 'tree'] as const) {
    for (const withSeqIdx of [false, true]) {
      it(`${order} cumulative sums${withSeqIdx ? ', seqIdx with four sequences' : ''}: chunk sizes 1 … ${L}`, () => {
        const random = seeded(`ssd tolerance ${order} ${withSeqIdx}`);
        let worst = 0;
        for (const G of [1, 2]) {
          const inputs = draw(random, L, G, withSeqIdx);
          for (const Q of [1, 2, 3, 4, 5, 8, 16, 17, 36, 37]) {
            worst = Math.max(worst, maxBoundUsage(inputs, true, chunkedSsd(inputs, true, Q, order, 'none')));
          }
        }
        expect(worst).toBeLessThan(1);
        // The kernel does round (the comparison is not vacuous).
        expect(worst).toBeGreaterThan(0);
      });
    }
  }
});

describe('ssd tolerance (rule M) is sharp: the chunk-start decay bug fails within two chunks plus one', () => {
  for (const Q of [4, 16]) {
    it(`chunk size ${Q}, L = ${2 * Q + 1}`, () => {
      const random = seeded(`ssd sharp ${Q}`);
      const inputs = draw(random, 2 * Q + 1, 2, false);
      expect(maxBoundUsage(inputs, true, chunkedSsd(inputs, true, Q, 'tree', 'none'))).toBeLessThan(1);
      expect(maxBoundUsage(inputs, true, chunkedSsd(inputs, true, Q, 'tree', 'chunk-start decay'))).toBeGreaterThan(1);
    });
  }
});
