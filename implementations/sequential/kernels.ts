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
 *                       per n: Ā ← ↓exp(↓(δ·A_n)); h_n ← ↓(↓(Ā·h_n) + ↓(B_n·δu)); y ← ↓(y + ↓(C_n·h_n));
 *                       y ← ↓(y + ↓(D·u)); y ← ↓(y · ↓(z / ↓(1 + ↓exp(−z))))
 *   lti-ssm             per n: h_n ← ↓(↓(Ā_n·h_n) + ↓(B̄_n·u)); y ← ↓(y + ↓(C_n·h_n)); y ← ↓(y + ↓(D·u))
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
  x: Float32Array,
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
 * `bias`, `D` are the channel's scalars, used when `hasBias` / `hasD`.
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
    let bAt = bWalk.base + t * bStrideT;
    let cAt = cWalk.base + t * cStrideT;
    let acc = 0;
    for (let n = 0; n < N; n++) {
      const decay = round(Math.exp(round(dt * A[stateOffset + n])));
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
