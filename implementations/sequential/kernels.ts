/**
 * The sequential loops of every family, written once and parameterised by `round`: the identity
 * gives plain float64 arithmetic, Math.fround gives float32 arithmetic rounded after every
 * operation (the honest f32 sequential order every fast kernel is compared with).
 *
 * Each kernel is cloned per rounding function by specialise.ts (Function.prototype.toString +
 * new Function), so its body must be self-contained: only its parameters, locals and the global
 * Math — no imports, no nested functions (tsx's keepNames would wrap them in a helper the clone
 * cannot see).
 *
 * The f32 order, per element (↓ = round):
 *   prefix-sum          s ← ↓(s + x_t)
 *   linear-recurrence   h ← ↓(↓(a_t·h) + b_t)
 *   selective-scan      δ ← ↓(δ + bias); δ ← δ > 20 ? δ : ↓log1p(↓exp(δ)); δu ← ↓(δ·u);
 *                       per n: Ā ← ↓exp(↓(δ·A_n)) (0 at a reset, the state zeroed); h_n ← ↓(↓(Ā·h_n) + ↓(B_n·δu)); y ← ↓(y + ↓(C_n·h_n));
 *                       y ← ↓(y + ↓(D·u)); y ← ↓(y · ↓(z / ↓(1 + ↓exp(−z))))
 *   lti-ssm             per n: h_n ← ↓(↓(Ā_n·h_n) + ↓(B̄_n·u)); y ← ↓(y + ↓(C_n·h_n)); y ← ↓(y + ↓(D·u))
 *   ssd                 Δ ← ↓(dt + dtBias); Δ ← Δ > 20 ? Δ : ↓log1p(↓exp(Δ)); Δ ← min(max(Δ, lo), hi);
 *                       Ā ← ↓exp(↓(Δ·A_h)) (0 at a reset, the state zeroed); Δx ← ↓(Δ·x);
 *                       per n: h_n ← ↓(↓(Ā·h_n) + ↓(B_n·Δx)); y ← ↓(y + ↓(C_n·h_n)); then D and the gate as above
 * That is mamba_ssm's CUDA order for the selective scan (δu formed once, then B·δu; y summed over n in order).
 */

/** A rounding applied after every arithmetic operation: identity (float64) or Math.fround (float32). */
export type Round = (x: number) => number;

/** Output storage: Float64Array for the float64 loop, Float32Array for the float32 loop. */
export type Storage = Float32Array | Float64Array;

/**
 * Prefix sums of `rows` contiguous rows of length L. `initial` (one value per row) seeds the
 * running sum (the step's state); `last` receives the sum after the last step when given.
 */
export function prefixSumRows(
  round: Round,
  x: Float32Array | Float64Array,
  y: Storage,
  rows: number,
  L: number,
  initial: Float32Array | null,
  last: Storage | null,
  exclusive: boolean,
  reverse: boolean,
): void {
  const step = reverse ? -1 : 1;
  for (let row = 0; row < rows; row++) {
    const base = row * L;
    let s = initial === null ? 0 : initial[row];
    for (let k = 0, i = reverse ? base + L - 1 : base; k < L; k++, i += step) {
      if (exclusive) {
        y[i] = s;
        s = round(s + x[i]);
      } else {
        s = round(s + x[i]);
        y[i] = s;
      }
    }
    if (last !== null) last[row] = s;
  }
}

/**
 * h_t = a_t·h_{t∓1} + b_t on `rows` contiguous rows of length L, from h0 (one value per row) or 0;
 * `last` receives the state after the last step in processing order.
 */
export function linearRecurrenceRows(
  round: Round,
  a: Float32Array,
  b: Float32Array,
  h: Storage,
  rows: number,
  L: number,
  h0: Float32Array | null,
  last: Storage,
  reverse: boolean,
): void {
  const step = reverse ? -1 : 1;
  for (let row = 0; row < rows; row++) {
    const base = row * L;
    let state = h0 === null ? 0 : h0[row];
    for (let k = 0, i = reverse ? base + L - 1 : base; k < L; k++, i += step) {
      state = round(round(a[i] * state) + b[i]);
      h[i] = state;
    }
    last[row] = state;
  }
}

/** Where a channel's B or C values sit: element (n, t) is at base + n·strideN + t·strideT. */
export interface ProjectionWalk {
  readonly base: number;
  readonly strideN: number;
  readonly strideT: number;
}

/**
 * The selective scan of one channel (b, d): u, delta, z from `offset` (length L), A from
 * `stateOffset` (length N), B and C walked as given, `state` (length N, scratch) holding the
 * initial state on entry; y written from `offset`, the final state to `last` at `lastOffset`.
 * `bias`, `D` are the channel's scalars, used when `hasBias` / `hasD`. Where `seqIdx` (the row's
 * ids from `seqBase`) changes, the state resets: Ā is 0 (never exp(…)·0, which is NaN when exp
 * overflows) and the state zeroed.
 */
export function selectiveScanChannel(
  round: Round,
  u: Float32Array,
  delta: Float32Array,
  z: Float32Array | null,
  offset: number,
  L: number,
  A: Float32Array,
  stateOffset: number,
  N: number,
  B: Float32Array,
  bWalk: ProjectionWalk,
  C: Float32Array,
  cWalk: ProjectionWalk,
  hasD: boolean,
  D: number,
  hasBias: boolean,
  bias: number,
  softplus: boolean,
  seqIdx: Float32Array | null,
  seqBase: number,
  state: Float64Array,
  y: Storage,
  last: Storage,
  lastOffset: number,
): void {
  const bStrideN = bWalk.strideN;
  const bStrideT = bWalk.strideT;
  const cStrideN = cWalk.strideN;
  const cStrideT = cWalk.strideT;
  for (let t = 0; t < L; t++) {
    const i = offset + t;
    const ui = u[i];
    let dt = delta[i];
    if (hasBias) dt = round(dt + bias);
    // PyTorch's softplus(threshold = 20): the identity above the threshold.
    if (softplus && dt <= 20) dt = round(Math.log1p(round(Math.exp(dt))));
    const du = round(dt * ui);
    const reset = seqIdx !== null && t > 0 && seqIdx[seqBase + t] !== seqIdx[seqBase + t - 1];
    if (reset) state.fill(0);
    let bAt = bWalk.base + t * bStrideT;
    let cAt = cWalk.base + t * cStrideT;
    let acc = 0;
    for (let n = 0; n < N; n++) {
      const decay = reset ? 0 : round(Math.exp(round(dt * A[stateOffset + n])));
      const h = round(round(decay * state[n]) + round(B[bAt] * du));
      state[n] = h;
      acc = round(acc + round(C[cAt] * h));
      bAt += bStrideN;
      cAt += cStrideN;
    }
    if (hasD) acc = round(acc + round(D * ui));
    if (z !== null) {
      const zi = z[i];
      acc = round(acc * round(zi / round(1 + round(Math.exp(-zi)))));
    }
    y[i] = acc;
  }
  for (let n = 0; n < N; n++) last[lastOffset + n] = state[n];
}

/**
 * The lti-ssm recurrence of one channel: u from `offset` (length L), Abar, Bbar, C from
 * `stateOffset` (length N), `state` (length N, scratch) holding the initial state on entry;
 * y written from `offset`, the final state to `last` at `lastOffset` when given.
 */
export function ltiSsmChannel(
  round: Round,
  u: Float32Array,
  offset: number,
  L: number,
  Abar: Float32Array,
  Bbar: Float32Array,
  C: Float32Array,
  stateOffset: number,
  N: number,
  hasD: boolean,
  D: number,
  state: Float64Array,
  y: Storage,
  last: Storage | null,
  lastOffset: number,
): void {
  for (let t = 0; t < L; t++) {
    const i = offset + t;
    const ui = u[i];
    let acc = 0;
    for (let n = 0; n < N; n++) {
      const p = stateOffset + n;
      const h = round(round(Abar[p] * state[n]) + round(Bbar[p] * ui));
      state[n] = h;
      acc = round(acc + round(C[p] * h));
    }
    if (hasD) acc = round(acc + round(D * ui));
    y[i] = acc;
  }
  if (last !== null) for (let n = 0; n < N; n++) last[lastOffset + n] = state[n];
}

/**
 * Δ of every (position, head) of ssd, dt laid out (…, H): δ = dt + dtBias_h, softplus when asked
 * (PyTorch's threshold 20), then the dtLimit clamp [lo, hi] (exact: a min and a max).
 */
export function ssdDeltas(
  round: Round,
  dt: Float32Array,
  H: number,
  dtBias: Float32Array | null,
  softplus: boolean,
  lo: number,
  hi: number,
  out: Storage,
): void {
  for (let i = 0, h = 0; i < dt.length; i++) {
    let delta = dt[i];
    if (dtBias !== null) delta = round(delta + dtBias[h]);
    if (softplus && delta <= 20) delta = round(Math.log1p(round(Math.exp(delta))));
    out[i] = Math.min(Math.max(delta, lo), hi);
    h = h + 1 === H ? 0 : h + 1;
  }
}

/** Where one ssd head (b, h) finds its values; every index is base + t·stride (+ p, + n). */
export interface SsdHeadWalk {
  /** x, z and y at (b, t, h, p): xBase + t·xStride + p. */
  readonly xBase: number;
  readonly xStride: number;
  /** Δ at (b, t, h): deltaBase + t·deltaStride. */
  readonly deltaBase: number;
  readonly deltaStride: number;
  /** B and C at (b, t, g, n): bcBase + t·bcStride + n. */
  readonly bcBase: number;
  readonly bcStride: number;
  /** seqIdx at (b, t): seqBase + t. */
  readonly seqBase: number;
  /** initialStates and finalStates at (b, h, p, n): stateBase + p·N + n. */
  readonly stateBase: number;
  /** D of channel p: D[dBase + p·dStride] (dStride 0 for D of shape (H)). */
  readonly dBase: number;
  readonly dStride: number;
}

/**
 * The ssd recurrence of one head (b, h), four channels at a time so their four states (4·N
 * values) stay hot and the four read-out sums run side by side; each channel's operations are
 * those of the one-channel order above. Ā_t is computed once per token into `decay` (scratch,
 * length ≥ L); `state` (scratch, length 4·N) carries the channels. A reset (seqIdx changes at
 * t ≥ 1) zeroes the state instead of multiplying it, so an overflowed state cannot leak a NaN
 * across sequences.
 */
export function ssdHead(
  round: Round,
  walk: SsdHeadWalk,
  L: number,
  P: number,
  N: number,
  x: Float32Array,
  z: Float32Array | null,
  delta: Storage,
  A: number,
  B: Float32Array,
  C: Float32Array,
  seqIdx: Float32Array | null,
  D: Float32Array | null,
  initial: Float32Array | null,
  decay: Float64Array,
  state: Float64Array,
  y: Storage,
  last: Storage,
): void {
  const { xBase, xStride, deltaBase, deltaStride, bcBase, bcStride, seqBase, stateBase, dBase, dStride } = walk;
  for (let t = 0; t < L; t++) decay[t] = round(Math.exp(round(delta[deltaBase + t * deltaStride] * A)));
  for (let p0 = 0; p0 < P; p0 += 4) {
    const width = Math.min(4, P - p0);
    for (let k = 0; k < width; k++) {
      for (let n = 0; n < N; n++) state[k * N + n] = initial === null ? 0 : initial[stateBase + (p0 + k) * N + n];
    }
    for (let t = 0; t < L; t++) {
      let decayed = decay[t];
      if (seqIdx !== null && t > 0 && seqIdx[seqBase + t] !== seqIdx[seqBase + t - 1]) {
        decayed = 0;
        state.fill(0);
      }
      const dt = delta[deltaBase + t * deltaStride];
      const i = xBase + t * xStride + p0;
      const at = bcBase + t * bcStride;
      if (width === 4) {
        const dx0 = round(dt * x[i]);
        const dx1 = round(dt * x[i + 1]);
        const dx2 = round(dt * x[i + 2]);
        const dx3 = round(dt * x[i + 3]);
        let acc0 = 0;
        let acc1 = 0;
        let acc2 = 0;
        let acc3 = 0;
        for (let n = 0; n < N; n++) {
          const bn = B[at + n];
          const cn = C[at + n];
          const h0 = round(round(decayed * state[n]) + round(bn * dx0));
          const h1 = round(round(decayed * state[N + n]) + round(bn * dx1));
          const h2 = round(round(decayed * state[2 * N + n]) + round(bn * dx2));
          const h3 = round(round(decayed * state[3 * N + n]) + round(bn * dx3));
          state[n] = h0;
          state[N + n] = h1;
          state[2 * N + n] = h2;
          state[3 * N + n] = h3;
          acc0 = round(acc0 + round(cn * h0));
          acc1 = round(acc1 + round(cn * h1));
          acc2 = round(acc2 + round(cn * h2));
          acc3 = round(acc3 + round(cn * h3));
        }
        y[i] = acc0;
        y[i + 1] = acc1;
        y[i + 2] = acc2;
        y[i + 3] = acc3;
      } else {
        for (let k = 0; k < width; k++) {
          const dx = round(dt * x[i + k]);
          const row = k * N;
          let acc = 0;
          for (let n = 0; n < N; n++) {
            const h = round(round(decayed * state[row + n]) + round(B[at + n] * dx));
            state[row + n] = h;
            acc = round(acc + round(C[at + n] * h));
          }
          y[i + k] = acc;
        }
      }
      // The read-outs were stored exactly (already rounded to the storage's precision).
      for (let k = 0; k < width; k++) {
        const xi = x[i + k];
        let acc = y[i + k];
        if (D !== null) acc = round(acc + round(D[dBase + (p0 + k) * dStride] * xi));
        if (z !== null) {
          const zi = z[i + k];
          acc = round(acc * round(zi / round(1 + round(Math.exp(-zi)))));
        }
        y[i + k] = acc;
      }
    }
    for (let k = 0; k < width; k++) {
      for (let n = 0; n < N; n++) last[stateBase + (p0 + k) * N + n] = state[k * N + n];
    }
  }
}
