/**
 * The adjoint (VJP) and tangent (JVP) of one channel of a diagonal recurrence, the core every
 * family's gradient is built on. A channel is N independent scalar recurrences over L tokens in
 * processing order k = 0 … L−1 (reversed time for a reversed linear recurrence), read out per token:
 *
 *     h_{k,n} = a_{k,n}·h_{k−1,n} + x_{k,n}          h_{−1,n} = h0_n
 *     y''_k   = Σ_n c_{k,n}·h_{k,n} + s_k,           y_k = g_k·y''_k,        final_n = h_{L−1,n}
 *
 * (linear-recurrence: N = 1, c = 1, s = 0, g = 1; lti-ssm, selective-scan, ssd: their factors).
 * The family turns its inputs into these float64 factors and their cotangents back into its
 * inputs' gradients (the chain rule through exp, softplus, clamp and silu).
 *
 * Adjoint, given ȳ_k and the final state's cotangent f̄_n, with λ the state cotangent
 * (a reverse-time scan, the transpose of the forward one):
 *
 *     λ_{L−1,n} = f̄_n + c_{L−1,n}·g_{L−1}·ȳ_{L−1},     λ_{k,n} = a_{k+1,n}·λ_{k+1,n} + c_{k,n}·g_k·ȳ_k
 *     ā_{k,n} = λ_{k,n}·h_{k−1,n},  x̄_{k,n} = λ_{k,n},  c̄_{k,n} = g_k·ȳ_k·h_{k,n},
 *     s̄_k = g_k·ȳ_k,  ḡ_k = ȳ_k·y''_k,  h̄0_n = a_{0,n}·λ_{0,n}  (= f̄_n when L = 0).
 *
 * Tangent, given ȧ, ẋ, ċ, ṡ, ġ and ḣ0:
 *
 *     ḣ_{k,n} = a_{k,n}·ḣ_{k−1,n} + ȧ_{k,n}·h_{k−1,n} + ẋ_{k,n}
 *     ẏ_k = g_k·(Σ_n (ċ_{k,n}·h_{k,n} + c_{k,n}·ḣ_{k,n}) + ṡ_k) + ġ_k·y''_k,   final-dot_n = ḣ_{L−1,n}
 *
 * The forward states are recomputed and stored in double-double; λ, ḣ and every product with a
 * state are double-double too. The same functions on the absolute values of every factor and
 * cotangent give the condition scales (spec/gradients.md): then h is the forward condition scale S.
 */
import { addNumber, addProduct, DoubleDouble, mulAdd, mulNumber, twoProd } from '../double-double.ts';
import { DoubleDoubleArray, multiplyElements } from './double-double-array.ts';

/** The float64 factors of one channel, in processing order: index k·N + n for a_{k,n}, x, c; k for s, g. */
export class ChannelFactors {
  readonly decay: Float64Array;
  readonly input: Float64Array;
  readonly readout: Float64Array;
  readonly skip: Float64Array;
  readonly gate: Float64Array;
  readonly initial: Float64Array;

  /** Factors of a channel of `length` tokens and `stateSize` states, all 0. */
  constructor(readonly length: number, readonly stateSize: number) {
    this.decay = new Float64Array(length * stateSize);
    this.input = new Float64Array(length * stateSize);
    this.readout = new Float64Array(length * stateSize);
    this.skip = new Float64Array(length);
    this.gate = new Float64Array(length);
    this.initial = new Float64Array(stateSize);
  }

  /**
   * Replaces every factor by its absolute value: the channel whose adjoint is the condition scale.
   * `decayScale` (1 + ε) multiplies every decay too: the depth scale is that scale's derivative in ε.
   */
  makeAbsolute(decayScale = 1): void {
    for (const array of [this.decay, this.input, this.readout, this.skip, this.gate, this.initial]) {
      for (let i = 0; i < array.length; i++) array[i] = Math.abs(array[i]);
    }
    for (let i = 0; i < this.decay.length; i++) this.decay[i] *= decayScale;
  }

  /**
   * Replaces every nonzero factor v by max(1, |v|): the channel whose adjoint is the floor scale
   * Σ_τ τ⁺. A 0 stays 0: an input's exact zero, or a structural one (a reset's decay, the skip
   * without D, the initial state without h0), makes its term exactly 0 in every kernel. So a family
   * raises its computed factors itself first (an exp that underflowed to 0 in float64 may be a
   * kernel's subnormal), and each multiplicand of a product on its own.
   */
  raise(): void {
    for (const array of [this.decay, this.input, this.readout, this.skip, this.gate, this.initial]) {
      for (let i = 0; i < array.length; i++) array[i] = raisedExact(array[i]);
    }
  }
}

/** max(1, |v|): a computed factor as the floor scale counts it (an absolute error's co-factor may drop any factor below 1). */
export function raised(v: number): number {
  return Math.max(1, Math.abs(v));
}

/**
 * An input's factor as a pass counts it: itself (the gradients), |v| (the condition scales) or
 * raisedExact(v) (the floor scales). One function for every mode keeps the passes' call sites monomorphic.
 */
export function counted(v: number, absolute: boolean, raise: boolean): number {
  return raise ? raisedExact(v) : absolute ? Math.abs(v) : v;
}

/** An input's factor as the floor scale counts it: max(1, |v|), and 0 for an exact 0, which zeroes its term in every kernel. */
export function raisedExact(v: number): number {
  return v === 0 ? 0 : Math.max(1, Math.abs(v));
}

/** The cotangents of a channel's factors (double-double), indexed as ChannelFactors. */
export class ChannelCotangents {
  readonly decay: DoubleDoubleArray;
  readonly input: DoubleDoubleArray;
  readonly readout: DoubleDoubleArray;
  readonly skip: DoubleDoubleArray;
  readonly gate: DoubleDoubleArray;
  readonly initial: DoubleDoubleArray;

  /** Cotangents for a channel of `length` tokens and `stateSize` states. */
  constructor(readonly length: number, readonly stateSize: number) {
    this.decay = new DoubleDoubleArray(length * stateSize);
    this.input = new DoubleDoubleArray(length * stateSize);
    this.readout = new DoubleDoubleArray(length * stateSize);
    this.skip = new DoubleDoubleArray(length);
    this.gate = new DoubleDoubleArray(length);
    this.initial = new DoubleDoubleArray(stateSize);
  }
}

/** The forward pass of a channel, kept: h_{k,n} at (k + 1)·N + n (h_{−1} = h0 at n) and y''_k. */
export class ChannelForward {
  readonly states: DoubleDoubleArray;
  readonly inner: DoubleDoubleArray;

  /** Room for the forward pass of a channel of `length` tokens and `stateSize` states. */
  constructor(readonly length: number, readonly stateSize: number) {
    this.states = new DoubleDoubleArray((length + 1) * stateSize);
    this.inner = new DoubleDoubleArray(length);
  }
}

/**
 * Runs the channel forward in double-double, storing every state and y'' into `out` (every element
 * is written, so one ChannelForward serves every channel of a problem without reallocation).
 */
export function channelForward(f: ChannelFactors, out = new ChannelForward(f.length, f.stateSize)): ChannelForward {
  const { length: L, stateSize: N } = f;
  if (out.length !== L || out.stateSize !== N) throw new RangeError(`channelForward: out is for L ${out.length}, N ${out.stateSize}, the factors are for L ${L}, N ${N}`);
  const { states, inner } = out;
  const h = new DoubleDouble();
  const y = new DoubleDouble();
  for (let n = 0; n < N; n++) states.put(n, h.set(f.initial[n]));
  for (let k = 0; k < L; k++) {
    y.set(0);
    for (let n = 0; n < N; n++) {
      const i = k * N + n;
      states.get(k * N + n, h);
      // a = 0 (an ssd reset) gives x exactly, whatever h was (0·∞ would be NaN).
      if (f.decay[i] === 0) h.set(f.input[i]);
      else mulAdd(h, f.decay[i], f.input[i]);
      states.put((k + 1) * N + n, h);
      addProduct(y, f.readout[i], h);
    }
    addNumber(y, f.skip[k]);
    inner.put(k, y);
  }
  return out;
}

/**
 * The adjoint of a channel: from ȳ_k (yBar[k]) and the final state's cotangent (finalBar[n]),
 * the cotangent of every factor, into `out`.
 */
export function channelVjp(f: ChannelFactors, forward: ChannelForward, yBar: Float64Array, finalBar: Float64Array, out: ChannelCotangents): void {
  // Three loops, each small enough for V8 to compile with its double-double steps inlined: the
  // scan for λ (x̄ = λ, s̄, ḡ, h̄0), then c̄ = s̄·h_k and ā = λ·h_{k−1}, which read what it stored.
  adjointScan(f, forward, yBar, finalBar, out);
  const { length: L, stateSize: N } = f;
  const { states } = forward;
  for (let k = 0; k < L; k++) {
    for (let n = 0; n < N; n++) multiplyElements(out.readout, k * N + n, out.skip, k, states, (k + 1) * N + n);
  }
  for (let i = 0; i < L * N; i++) multiplyElements(out.decay, i, out.input, i, states, i);
}

/** The reverse-time scan of channelVjp: λ into out.input (x̄) per step and out.initial (h̄0) at the end, s̄ and ḡ. */
function adjointScan(f: ChannelFactors, forward: ChannelForward, yBar: Float64Array, finalBar: Float64Array, out: ChannelCotangents): void {
  const { length: L, stateSize: N } = f;
  // λ lives in out.initial, where the scan leaves it (h̄0 = λ_{−1}): no per-channel allocation.
  const lambda = out.initial;
  const l = new DoubleDouble();
  for (let n = 0; n < N; n++) lambda.put(n, l.set(finalBar[n]));
  const innerBar = new DoubleDouble();
  const h = new DoubleDouble();
  for (let k = L - 1; k >= 0; k--) {
    twoProd(yBar[k], f.gate[k], innerBar);
    out.skip.put(k, innerBar);
    forward.inner.get(k, h);
    mulNumber(h, yBar[k]);
    out.gate.put(k, h);
    for (let n = 0; n < N; n++) {
      const i = k * N + n;
      lambda.get(n, l);
      addProduct(l, f.readout[i], innerBar);
      out.input.put(i, l);
      mulNumber(l, f.decay[i]);
      lambda.put(n, l);
    }
  }
}

/** The tangent of a channel: from the factors' tangents (`dot`, indexed alike), ẏ_k into yDot and ḣ_{L−1,n} into finalDot. */
export function channelJvp(f: ChannelFactors, forward: ChannelForward, dot: ChannelFactors, yDot: DoubleDoubleArray, finalDot: DoubleDoubleArray): void {
  const { length: L, stateSize: N } = f;
  const hDot = Array.from({ length: N }, (_, n) => new DoubleDouble(dot.initial[n]));
  const h = new DoubleDouble();
  const y = new DoubleDouble();
  const inner = new DoubleDouble();
  for (let k = 0; k < L; k++) {
    y.set(0);
    for (let n = 0; n < N; n++) {
      const i = k * N + n;
      const d = hDot[n];
      mulNumber(d, f.decay[i]);
      addProduct(d, dot.decay[i], forward.states.get(k * N + n, h));
      addNumber(d, dot.input[i]);
      addProduct(y, f.readout[i], d);
      addProduct(y, dot.readout[i], forward.states.get((k + 1) * N + n, h));
    }
    addNumber(y, dot.skip[k]);
    mulNumber(y, f.gate[k]);
    addProduct(y, dot.gate[k], forward.inner.get(k, inner));
    yDot.put(k, y);
  }
  for (let n = 0; n < N; n++) finalDot.put(n, hDot[n]);
}
