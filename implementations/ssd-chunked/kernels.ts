/**
 * The chunked SSD of Mamba-2 (the matrix form of the paper's minimal listing, mamba_ssm's
 * ssd_minimal_discrete and the passes of its Triton kernels), written once and parameterised by
 * `round` as the sequential loops are: the identity for float64, Math.fround for float32 rounded
 * after every operation. Cloned per rounding by ../sequential/specialise.ts, so each kernel is
 * self-contained: only its parameters, locals and the global Math.
 *
 * Per chunk of Q tokens (the last one ragged), with a_l = ↓(Δ_l·A_h), ↓ = round:
 *   cum_l      ← ↓(cum_{l−1} + a_l)                          cumulative sum inside the chunk
 *   seg_{l,s}  ← ↓(seg_{l−1,s} + a_l), seg_{s,s} = 0          segsum: a_{s+1} + … + a_l, summed afresh
 *   X_l        ← ↓(Δ_l·x_l)                                   per channel p
 *   G_{l,s}    ← Σ_n ↓(C_{l,n}·B_{s,n}), summed in n order     C·Bᵀ, once per group (ssdChunkGram)
 *   Y_l        ← ↓(↓(Σ_n ↓(C_{l,n}·S_n)) · ↓exp(cum_l))        state → output, S the state entering the chunk
 *   Y_l        ← ↓(Y_l + ↓(M_{l,s}·X_s)), s = start_l … l,     the quadratic block (C·Bᵀ ∘ L)·X,
 *                M_{l,s} = ↓(G_{l,s} · ↓exp(seg_{l,s}))        L = exp(segsum)
 *   y          ← D and the gate as in the sequential order
 *   T_n        ← Σ_l ↓(↓(↓exp(seg_{end,l})·X_l)·B_{l,n})       the chunk's own state: L's last row (l from the last reset)
 *   S_n        ← ↓(↓(↓exp(cum_end)·S_n) + T_n), or T_n when a sequence starts inside the chunk
 *
 * segsum is summed afresh per segment, as the minimal listing's segsum does, not taken as the
 * difference cum_l − cum_s of mamba_ssm's Triton kernels: the difference cancels when the
 * cumulative sums are large (Δ·A of −1e39 then −1e19 gives cum_l − cum_s = 0, so a decay of
 * exp(−1e19) is taken as 1; in float32 two −∞ sums give NaN), where the fresh sum keeps each
 * segment's own value. Both cost one addition per (l, s).
 *
 * seqIdx: a token reads the state entering its chunk only when it belongs to the same sequence as
 * the token before the chunk; the quadratic block pairs only tokens of one sequence; the chunk's
 * own state sums only its last sequence's tokens, and the carried state is dropped when that
 * sequence started inside the chunk. mamba_ssm masks by seq_idx equality; here the masked terms
 * are skipped (a mask multiplying an infinite term would make a NaN the recurrence never sees).
 *
 * varlen (cuSeqlens, one initial and final state per sequence): the chunks are cut as for one row,
 * whatever the sequence boundaries, so a sequence may start and end inside a chunk, as in
 * mamba_ssm's and vLLM's kernels. A sequence starting at l0 inside a chunk reads its own initial
 * state S⁰ as in vLLM's pseudo-chunks (there exp(cum_l − cum_{l0−1})): Y_l += ↓(↓(Σ_n C_{l,n}·S⁰_n) · ↓exp(seg_{l,l0−1})); its
 * final state, where it ends at e inside a chunk, is mamba_ssm's chunk_state_varlen:
 * ↓(↓(↓exp(seg_{e,l0−1})·S⁰_n) + Σ_{l=l0..e} ↓(↓(↓exp(seg_{e,l})·X_l)·B_{l,n})), with the state
 * entering the chunk (decayed by exp(cum_e)) in place of S⁰ for the sequence that continues.
 */
import type { Round, SsdHeadWalk, Storage } from '../sequential/kernels.ts';

/** Scratch of one head's chunked evaluation, in the precision's storage; sizes for a chunk size Q. */
export interface SsdChunkScratch {
  /** The head's state between chunks, transposed to (N, P) so the loops over p are contiguous. */
  readonly state: Storage;
  /** cum_l, length Q. */
  readonly cumulative: Storage;
  /** seg_{l,s} for s ≤ l, (Q, Q). */
  readonly segsum: Storage;
  /** M_{l,s} of one row l, length Q. */
  readonly mixing: Storage;
  /** ↓exp(cum_l), length Q. */
  readonly decayOut: Storage;
  /** The decay from a piece's start to token l: ↓exp(cum_l), or ↓exp(seg_{l, l0−1}) for a piece starting at l0 > 0; length Q. */
  readonly decayIn: Storage;
  /** Δ_l·x_l, (Q, P). */
  readonly scaledX: Storage;
  /** ↓(↓exp(↓(cum_end − cum_l))·Δ_l·x_l), (Q, P). */
  readonly weightedX: Storage;
  /** The chunk's outputs before they are stored, (Q, P). */
  readonly output: Storage;
  /** The chunk's own state of one state index n over the channels, length P. */
  readonly chunkState: Storage;
  /** The first token of the chunk in the sequence of token l, length Q. */
  readonly segmentStart: Int32Array;
}

/**
 * C·Bᵀ of every chunk of one (batch, group): entry (l, s ≤ l) of chunk c at c·Q² + l·Q + s, B and C
 * at bcBase + t·bcStride + n.
 */
export function ssdChunkGram(
  round: Round,
  B: Float32Array,
  C: Float32Array,
  bcBase: number,
  bcStride: number,
  L: number,
  N: number,
  Q: number,
  gram: Storage,
): void {
  for (let c0 = 0, c = 0; c0 < L; c0 += Q, c++) {
    const len = Math.min(Q, L - c0);
    for (let l = 0; l < len; l++) {
      const cAt = bcBase + (c0 + l) * bcStride;
      const row = c * Q * Q + l * Q;
      for (let s = 0; s <= l; s++) {
        const bAt = bcBase + (c0 + s) * bcStride;
        let acc = 0;
        for (let n = 0; n < N; n++) acc = round(acc + round(C[cAt + n] * B[bAt + n]));
        gram[row + s] = acc;
      }
    }
  }
}

/**
 * One head (b, h) of the chunked SSD, chunk after chunk: the state entering each chunk is the
 * previous chunk's, advanced by the inter-chunk recurrence, so the scan across chunks runs as the
 * chunks are visited. `gram` is ssdChunkGram's for the head's (batch, group); y and `last` are
 * written at the walk's positions.
 *
 * Inside a chunk the tokens fall into pieces, one per sequence (seqIdx): each piece reads the state
 * it starts from (the state entering the chunk for the piece that continues the sequence before
 * the chunk; otherwise none, or in the varlen form its sequence's own initial state), decayed by
 * exp(cum_l) from the chunk's start or exp(seg_{l, l0−1}) from a start l0 inside it. The piece's
 * end state is formed where it is carried into the next chunk (the chunk's last piece) and, in the
 * varlen form, where its sequence ends: that is the sequence's final state.
 *
 * `sequenceStride` 0: one row of (packed) sequences, `initial` and `last` at stateBase, the first
 * sequence from the initial state and every later one from zero, `last` after the row's last token.
 * `sequenceStride` > 0 (varlen, batch 1): seqIdx holds sequence numbers s, sequence s starts from
 * `initial` at stateBase + s·sequenceStride and ends in `last` there; sequences with no token are
 * not written (the caller stores their initial states).
 */
export function ssdChunkedHead(
  round: Round,
  walk: SsdHeadWalk,
  L: number,
  P: number,
  N: number,
  Q: number,
  x: Float32Array,
  z: Float32Array | null,
  delta: Storage,
  A: number,
  B: Float32Array,
  C: Float32Array,
  seqIdx: Float32Array | null,
  D: Float32Array | null,
  initial: Float32Array | null,
  sequenceStride: number,
  gram: Storage,
  scratch: SsdChunkScratch,
  y: Storage,
  last: Storage,
): void {
  const { xBase, xStride, deltaBase, deltaStride, bcBase, bcStride, seqBase, stateBase, dBase, dStride } = walk;
  const { state, cumulative, segsum, mixing, decayOut, decayIn, scaledX, weightedX, output, chunkState, segmentStart } = scratch;
  const varlen = sequenceStride > 0 && seqIdx !== null;
  const firstBase = varlen && L > 0 ? stateBase + seqIdx[seqBase] * sequenceStride : stateBase;
  for (let p = 0; p < P; p++) for (let n = 0; n < N; n++) state[n * P + p] = initial === null ? 0 : initial[firstBase + p * N + n];
  for (let c0 = 0, c = 0; c0 < L; c0 += Q, c++) {
    const len = Math.min(Q, L - c0);
    const gramBase = c * Q * Q;
    // The sequence of the state entering the chunk: the token before it, or the row's first.
    const seqBefore = seqIdx === null ? 0 : seqIdx[seqBase + (c0 > 0 ? c0 - 1 : 0)];
    // Whether the chunk's last sequence ends with it (varlen: its final state is due here).
    const endsAtChunkEnd = varlen && (c0 + len === L || seqIdx[seqBase + c0 + len] !== seqIdx[seqBase + c0 + len - 1]);

    // Cumulative sums of Δ·A inside the chunk, Δ·x, and where each token's sequence starts.
    let cum = 0;
    let start = 0;
    for (let l = 0; l < len; l++) {
      const t = c0 + l;
      const dl = delta[deltaBase + t * deltaStride];
      const a = round(dl * A);
      cum = round(cum + a);
      cumulative[l] = cum;
      const row = l * Q;
      for (let s = 0; s < l; s++) segsum[row + s] = round(segsum[row - Q + s] + a);
      segsum[row + l] = 0;
      decayOut[l] = round(Math.exp(cum));
      if (seqIdx !== null && l > 0 && seqIdx[seqBase + t] !== seqIdx[seqBase + t - 1]) start = l;
      segmentStart[l] = start;
      const xAt = xBase + t * xStride;
      for (let p = 0; p < P; p++) scaledX[l * P + p] = round(dl * x[xAt + p]);
    }
    for (let i = 0; i < len * P; i++) output[i] = 0;

    for (let l0 = 0, l1 = 1; l0 < len; l0 = l1) {
      l1 = l0 + 1;
      while (l1 < len && segmentStart[l1] === l0) l1++;
      // The state the piece starts from: the one entering the chunk, its sequence's own initial
      // state (varlen), or none (zero: it is not read).
      let reads = l0 === 0 && (seqIdx === null || seqIdx[seqBase + c0] === seqBefore);
      if (!reads && varlen && initial !== null) {
        const base = stateBase + seqIdx[seqBase + c0 + l0] * sequenceStride;
        for (let p = 0; p < P; p++) for (let n = 0; n < N; n++) state[n * P + p] = initial[base + p * N + n];
        reads = true;
      }
      for (let l = l0; l < l1; l++) decayIn[l] = l0 === 0 ? decayOut[l] : round(Math.exp(segsum[l * Q + l0 - 1]));

      // State → output: decayIn_l·(C_l·S) for the piece's tokens. Each (l, p) sums over n in
      // order, four terms per load and store of the partial sum, four rows of the state hot meanwhile.
      if (reads) {
        let n4 = 0;
        for (; n4 + 3 < N; n4 += 4) {
          const r0 = n4 * P;
          const r1 = r0 + P;
          const r2 = r1 + P;
          const r3 = r2 + P;
          for (let l = l0; l < l1; l++) {
            const at = bcBase + (c0 + l) * bcStride + n4;
            const k0 = C[at];
            const k1 = C[at + 1];
            const k2 = C[at + 2];
            const k3 = C[at + 3];
            const rowOut = l * P;
            for (let p = 0; p < P; p++) {
              let o = output[rowOut + p];
              o = round(o + round(k0 * state[r0 + p]));
              o = round(o + round(k1 * state[r1 + p]));
              o = round(o + round(k2 * state[r2 + p]));
              o = round(o + round(k3 * state[r3 + p]));
              output[rowOut + p] = o;
            }
          }
        }
        for (; n4 < N; n4++) {
          const row = n4 * P;
          for (let l = l0; l < l1; l++) {
            const c = C[bcBase + (c0 + l) * bcStride + n4];
            const rowOut = l * P;
            for (let p = 0; p < P; p++) output[rowOut + p] = round(output[rowOut + p] + round(c * state[row + p]));
          }
        }
        for (let l = l0; l < l1; l++) {
          const e = decayIn[l];
          const rowOut = l * P;
          for (let p = 0; p < P; p++) output[rowOut + p] = round(output[rowOut + p] * e);
        }
      }

      // The piece's end state, where it is carried on (the chunk's last piece) or is a sequence's
      // final state (varlen): its own tokens' state (L's row of its last token, summed in token
      // order), plus the state it started from decayed over the piece.
      const carried = l1 === len;
      const final = varlen && (!carried || endsAtChunkEnd);
      if (!carried && !final) continue;
      const endRow = (l1 - 1) * Q;
      const pieceDecay = decayIn[l1 - 1];
      for (let l = l0; l < l1; l++) {
        const e = round(Math.exp(segsum[endRow + l]));
        for (let p = 0; p < P; p++) weightedX[l * P + p] = round(e * scaledX[l * P + p]);
      }
      for (let n = 0; n < N; n++) {
        for (let p = 0; p < P; p++) chunkState[p] = 0;
        // Each p sums over l in order, four terms per load and store of the partial sum.
        let l4 = l0;
        for (; l4 + 3 < l1; l4 += 4) {
          const at = bcBase + (c0 + l4) * bcStride + n;
          const b0 = B[at];
          const b1 = B[at + bcStride];
          const b2 = B[at + 2 * bcStride];
          const b3 = B[at + 3 * bcStride];
          const x0 = l4 * P;
          const x1 = x0 + P;
          const x2 = x1 + P;
          const x3 = x2 + P;
          for (let p = 0; p < P; p++) {
            let acc = chunkState[p];
            acc = round(acc + round(weightedX[x0 + p] * b0));
            acc = round(acc + round(weightedX[x1 + p] * b1));
            acc = round(acc + round(weightedX[x2 + p] * b2));
            acc = round(acc + round(weightedX[x3 + p] * b3));
            chunkState[p] = acc;
          }
        }
        for (; l4 < l1; l4++) {
          const b = B[bcBase + (c0 + l4) * bcStride + n];
          const rowX = l4 * P;
          for (let p = 0; p < P; p++) chunkState[p] = round(chunkState[p] + round(weightedX[rowX + p] * b));
        }
        const row = n * P;
        if (reads) for (let p = 0; p < P; p++) state[row + p] = round(round(pieceDecay * state[row + p]) + chunkState[p]);
        else for (let p = 0; p < P; p++) state[row + p] = chunkState[p];
      }
      if (final) {
        const base = stateBase + seqIdx[seqBase + c0 + l1 - 1] * sequenceStride;
        for (let p = 0; p < P; p++) for (let n = 0; n < N; n++) last[base + p * N + n] = state[n * P + p];
      }
    }

    // The quadratic block: (C·Bᵀ ∘ exp(segsum))·(Δ·x), pairs inside one sequence only; each (l, p)
    // sums over s in order, four terms per load and store of the partial sum.
    for (let l = 0; l < len; l++) {
      const rowOut = l * P;
      const gramRow = gramBase + l * Q;
      const segRow = l * Q;
      const first = segmentStart[l];
      for (let s = first; s <= l; s++) mixing[s] = round(gram[gramRow + s] * round(Math.exp(segsum[segRow + s])));
      let s4 = first;
      for (; s4 + 3 <= l; s4 += 4) {
        const m0 = mixing[s4];
        const m1 = mixing[s4 + 1];
        const m2 = mixing[s4 + 2];
        const m3 = mixing[s4 + 3];
        const x0 = s4 * P;
        const x1 = x0 + P;
        const x2 = x1 + P;
        const x3 = x2 + P;
        for (let p = 0; p < P; p++) {
          let o = output[rowOut + p];
          o = round(o + round(m0 * scaledX[x0 + p]));
          o = round(o + round(m1 * scaledX[x1 + p]));
          o = round(o + round(m2 * scaledX[x2 + p]));
          o = round(o + round(m3 * scaledX[x3 + p]));
          output[rowOut + p] = o;
        }
      }
      for (; s4 <= l; s4++) {
        const m = mixing[s4];
        const rowX = s4 * P;
        for (let p = 0; p < P; p++) output[rowOut + p] = round(output[rowOut + p] + round(m * scaledX[rowX + p]));
      }
    }

    // The skip term and the gate, then the chunk's outputs are stored.
    for (let l = 0; l < len; l++) {
      const xAt = xBase + (c0 + l) * xStride;
      for (let p = 0; p < P; p++) {
        const i = xAt + p;
        let acc = output[l * P + p];
        if (D !== null) acc = round(acc + round(D[dBase + p * dStride] * x[i]));
        if (z !== null) {
          const zi = z[i];
          acc = round(acc * round(zi / round(1 + round(Math.exp(-zi)))));
        }
        y[i] = acc;
      }
    }
  }
  if (!varlen) for (let p = 0; p < P; p++) for (let n = 0; n < N; n++) last[stateBase + p * N + n] = state[n * P + p];
}
