/**
 * The convolution kernel of one channel, K_k = Σ_n w_n·Ā_n^k for k < L, with w_n = C_n·B̄_n, from
 * the blocked power tables of powers.ts: K_(jB+i) = Σ_n (w_n·Ā_n^(jB))·Ā_n^i, so each block is a
 * small matrix–vector product whose inner loop over n is contiguous and carries no recurrence.
 *
 * float64: every term w_n·Ā_n^k carries ≤ 4 roundings (two table entries, two products) and the
 * sum over n is a float64 sum in partial sums, so |K̂_k − K_k| ≤ (N + 4)·u·Σ_n |w_n|·|Ā_n|^k.
 * float32 (what fft-conv-f32 models, an f32 Vandermonde kernel): each term is rounded once to
 * float32 and the sum over n is accumulated in float32, in order of n.
 */
import type { PowerTables } from './powers.ts';

/** K_k = Σ_n w_n·Ā_n^k for k < L in float64; `scratch` holds N values. */
export function kernelFloat64(tables: PowerTables, weights: Float64Array, length: number, scratch: Float64Array, kernel: Float64Array): void {
  const { blockSize: B, blockCount: J, stateSize: N, within, blocks } = tables;
  const scaled = scratch;
  for (let j = 0; j < J; j++) {
    const base = j * N;
    for (let n = 0; n < N; n++) scaled[n] = weights[n] * blocks[base + n];
    const start = j * B;
    const end = Math.min(length, start + B);
    let k = start;
    let row = 0;
    // Two kernel entries per pass share the loads of w_n·Ā_n^(jB), and two partial sums each
    // break the add chain: measured 25% faster than one entry with four partial sums.
    for (; k + 1 < end; k += 2, row += 2 * N) {
      const next = row + N;
      let a0 = 0;
      let a1 = 0;
      let b0 = 0;
      let b1 = 0;
      let n = 0;
      for (; n + 1 < N; n += 2) {
        const v0 = scaled[n];
        const v1 = scaled[n + 1];
        a0 += v0 * within[row + n];
        a1 += v1 * within[row + n + 1];
        b0 += v0 * within[next + n];
        b1 += v1 * within[next + n + 1];
      }
      if (n < N) {
        a0 += scaled[n] * within[row + n];
        b0 += scaled[n] * within[next + n];
      }
      kernel[k] = a0 + a1;
      kernel[k + 1] = b0 + b1;
    }
    if (k < end) {
      let a0 = 0;
      for (let n = 0; n < N; n++) a0 += scaled[n] * within[row + n];
      kernel[k] = a0;
    }
  }
}

/**
 * K_k in the float32 model: term_n = ↓(w_n·Ā_n^k) (the product formed in float64 from float32
 * w_n, then rounded once), K_k = ↓(…↓(↓(term_0 + term_1) + term_2)…), written to a float64 array
 * that holds float32 values.
 */
export function kernelFloat32(tables: PowerTables, weights: Float64Array, length: number, scratch: Float64Array, kernel: Float64Array): void {
  const { blockSize: B, blockCount: J, stateSize: N, within, blocks } = tables;
  const fround = Math.fround;
  const scaled = scratch;
  for (let j = 0; j < J; j++) {
    const base = j * N;
    for (let n = 0; n < N; n++) scaled[n] = weights[n] * blocks[base + n];
    const start = j * B;
    const end = Math.min(length, start + B);
    let k = start;
    let row = 0;
    // Two entries per pass share the loads of w_n·Ā_n^(jB); each still sums over n in order.
    for (; k + 1 < end; k += 2, row += 2 * N) {
      const next = row + N;
      let a = 0;
      let b = 0;
      for (let n = 0; n < N; n++) {
        const v = scaled[n];
        a = fround(a + fround(v * within[row + n]));
        b = fround(b + fround(v * within[next + n]));
      }
      kernel[k] = a;
      kernel[k + 1] = b;
    }
    if (k < end) {
      let a = 0;
      for (let n = 0; n < N; n++) a = fround(a + fround(scaled[n] * within[row + n]));
      kernel[k] = a;
    }
  }
}

/**
 * The state after the last step, h_(L−1),n = B̄_n·Σ_(r<L) Ā_n^r·u_(L−1−r), for every n of one
 * channel (the convolution evaluated at one point), from the same tables; float64.
 * `u` is read from `offset` (length L); `partial` and `total` are scratch of length N.
 */
export function lastStateFloat64(
  tables: PowerTables,
  u: Float32Array,
  offset: number,
  length: number,
  bbar: Float64Array,
  partial: Float64Array,
  total: Float64Array,
  out: Float32Array | Float64Array,
  outOffset: number,
): void {
  const { blockSize: B, blockCount: J, stateSize: N, within, blocks } = tables;
  total.fill(0);
  const last = offset + length - 1;
  for (let j = 0; j < J; j++) {
    partial.fill(0);
    const start = j * B;
    const end = Math.min(length, start + B);
    let row = 0;
    for (let r = start; r < end; r++, row += N) {
      const ur = u[last - r];
      for (let n = 0; n < N; n++) partial[n] += within[row + n] * ur;
    }
    const base = j * N;
    for (let n = 0; n < N; n++) total[n] += blocks[base + n] * partial[n];
  }
  for (let n = 0; n < N; n++) out[outOffset + n] = bbar[n] * total[n];
}

/**
 * The last state in the float32 model: within a block the terms ↓(Ā^i·u) are accumulated in
 * float32, blocks are combined in float32 (↓(total + ↓(Ā^(jB)·partial))), then ↓(B̄·total).
 */
export function lastStateFloat32(
  tables: PowerTables,
  u: Float32Array,
  offset: number,
  length: number,
  bbar: Float64Array,
  partial: Float64Array,
  total: Float64Array,
  out: Float32Array | Float64Array,
  outOffset: number,
): void {
  const { blockSize: B, blockCount: J, stateSize: N, within, blocks } = tables;
  const fround = Math.fround;
  total.fill(0);
  const last = offset + length - 1;
  for (let j = 0; j < J; j++) {
    partial.fill(0);
    const start = j * B;
    const end = Math.min(length, start + B);
    let row = 0;
    for (let r = start; r < end; r++, row += N) {
      const ur = u[last - r];
      for (let n = 0; n < N; n++) partial[n] = fround(partial[n] + fround(fround(within[row + n]) * ur));
    }
    const base = j * N;
    for (let n = 0; n < N; n++) total[n] = fround(total[n] + fround(fround(blocks[base + n]) * partial[n]));
  }
  for (let n = 0; n < N; n++) out[outOffset + n] = fround(bbar[n] * total[n]);
}
