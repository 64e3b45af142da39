/**
 * The backward pass of one channel (spec/gradients.md, "One channel: the adjoint scan") in plain
 * sequential order, rounded by `round` after every operation (Math.fround: float32, the identity:
 * float64): the forward states recomputed and kept, then the reverse adjoint scan,
 *
 *     forward   h_{k,n} ← ↓(↓(a_{k,n}·h_{k−1,n}) + x_{k,n});  y''_k ← Σ_n ↓(c·h) then + s_k, in order
 *     adjoint   ȳg ← ↓(g_k·ȳ_k);  s̄_k ← ȳg;  ḡ_k ← ↓(ȳ_k·y''_k);  per n:  c̄ ← ↓(ȳg·h_{k,n});
 *               λ ← ↓(λ + ↓(c·ȳg));  x̄ ← λ;  ā ← ↓(λ·h_{k−1,n});  λ ← ↓(a_{k,n}·λ)
 *     h̄0 = λ after k = 0 (the first decay applied), f̄ before k = L−1
 *
 * which is the order autograd takes through a forward loop written this way: every node's
 * cotangent is formed once from its consumers and multiplied back through its product.
 * The factors are given already rounded as the family's forward computes them (exp, Δ·B·u, …).
 */
import type { Round } from './kernels.ts';

/** One channel's factors in processing order: a, x, c at k·N + n; s, g at k; h0 at n. */
export interface ChannelFactorArrays {
  readonly decay: Float64Array;
  readonly input: Float64Array;
  readonly readout: Float64Array;
  readonly skip: Float64Array;
  readonly gate: Float64Array;
  readonly initial: Float64Array;
}

/** The cotangents of one channel's factors, indexed as ChannelFactorArrays. */
export type ChannelFactorCotangents = ChannelFactorArrays;

/** Allocates factors (or their cotangents) for a channel of L tokens and N states. */
export function channelArrays(L: number, N: number): ChannelFactorArrays & ChannelFactorCotangents {
  return {
    decay: new Float64Array(L * N),
    input: new Float64Array(L * N),
    readout: new Float64Array(L * N),
    skip: new Float64Array(L),
    gate: new Float64Array(L),
    initial: new Float64Array(N),
  };
}

/** What one channel's backward pass works in, allocated once and reused for every channel: factors, their cotangents, the states, y'' and ȳ. */
export function channelWorkspace(L: number, N: number) {
  return {
    f: channelArrays(L, N),
    bar: channelArrays(L, N),
    states: new Float64Array((L + 1) * N),
    inner: new Float64Array(L),
    yBar: new Float64Array(L),
    finalBar: new Float64Array(N),
  };
}

/**
 * The adjoint of a channel of L tokens and N states: from ȳ (yBar[k], processing order) and the
 * final state's cotangent (finalBar[n]), every factor's cotangent into `out`. `states` is scratch of
 * (L + 1)·N, `inner` of L.
 */
export function channelBackward(
  round: Round,
  L: number,
  N: number,
  f: ChannelFactorArrays,
  yBar: Float64Array,
  finalBar: Float64Array,
  states: Float64Array,
  inner: Float64Array,
  out: ChannelFactorCotangents,
): void {
  for (let n = 0; n < N; n++) states[n] = f.initial[n];
  for (let k = 0; k < L; k++) {
    let acc = 0;
    for (let n = 0; n < N; n++) {
      const i = k * N + n;
      // A reset (a = 0) starts from x alone: 0·h would be NaN after an overflowed state.
      const h = f.decay[i] === 0 ? f.input[i] : round(round(f.decay[i] * states[i]) + f.input[i]);
      states[i + N] = h;
      acc = round(acc + round(f.readout[i] * h));
    }
    inner[k] = round(acc + f.skip[k]);
  }
  const lambda = new Float64Array(N);
  for (let n = 0; n < N; n++) lambda[n] = finalBar[n];
  for (let k = L - 1; k >= 0; k--) {
    const gy = round(f.gate[k] * yBar[k]);
    out.skip[k] = gy;
    out.gate[k] = round(yBar[k] * inner[k]);
    for (let n = 0; n < N; n++) {
      const i = k * N + n;
      out.readout[i] = round(gy * states[i + N]);
      const l = round(lambda[n] + round(f.readout[i] * gy));
      out.input[i] = l;
      out.decay[i] = round(l * states[i]);
      lambda[n] = round(f.decay[i] * l);
    }
  }
  for (let n = 0; n < N; n++) out.initial[n] = lambda[n];
}
