/**
 * One channel of a diagonal state-space model, the common core of selective-scan and lti-ssm:
 * N independent recurrences and a read-out,
 *
 *     h_{t,n} = Ā_{t,n}·h_{t−1,n} + x_{t,n}                    (n = 0 … N−1)
 *     y_t     = g_t·( Σ_n C_{t,n}·h_{t,n} + s_t )              (s = D·u skip term, g = gate)
 *
 * with the scales carried the same way on absolute values:
 *
 *     S(y_t) = |g_t|·( Σ_n |C_{t,n}|·S_{t,n} + |s_t| ),    W(y_t) = |g_t|·Σ_n |C_{t,n}|·W_{t,n}
 *
 * (the skip term goes through no recurrence, so it adds no depth). The family fills the token's
 * factors Ā, x, s, g; this module advances and reads the states, for the scans and the steps alike.
 */
import { DoubleDouble, addNumber, addProduct, mulNumber } from './double-double.ts';
import { advance, RecurrenceState, ROUND_UP } from './recurrence-state.ts';

/** The N states of one channel, the factors of the current token and its read-out. */
export class DiagonalChannel {
  readonly states: readonly RecurrenceState[];
  /** Ā_{t,n} of the current token, float64. */
  readonly decay: Float64Array;
  /** x_{t,n} of the current token (Δ·B·u or Bbar·u), float64. */
  readonly input: Float64Array;
  /** s_t = D·u_t of the current token (0 without D). */
  skip = 0;
  /** g_t of the current token (silu(z_t), or 1 without a gate). */
  gate = 1;
  /** y_t after diagonalToken, in double-double. */
  readonly output = new DoubleDouble();
  /** S(y_t) after diagonalToken, in double-double. */
  readonly outputConditionScale = new DoubleDouble();
  /** W(y_t) after diagonalToken, float64 rounded upward like the states' W. */
  outputDepthScale = 0;

  /** A channel of stateSize recurrences, all at 0. */
  constructor(stateSize: number) {
    this.states = Array.from({ length: stateSize }, () => new RecurrenceState());
    this.decay = new Float64Array(stateSize);
    this.input = new Float64Array(stateSize);
  }

  /** Starts every state at h0[offset + n] (float32 initial state or step state), or at 0 without h0; returns this. */
  start(h0: Float32Array | undefined, offset: number): this {
    for (let n = 0; n < this.states.length; n++) this.states[n].start(h0 === undefined ? 0 : h0[offset + n]);
    return this;
  }
}

/**
 * One token: advances every state with the token's factors, then reads y_t. C_{t,n} is
 * C[cOffset + n·cStride] (the stride is 1 for a (dim, N) C and L for a time-varying one).
 */
export function diagonalToken(channel: DiagonalChannel, C: Float32Array, cOffset: number, cStride: number): void {
  const { states, decay, input } = channel;
  for (let n = 0; n < states.length; n++) advance(states[n], decay[n], input[n]);

  const y = channel.output.set(0);
  const scale = channel.outputConditionScale.set(0);
  let depth = 0;
  for (let n = 0; n < states.length; n++) {
    const c = C[cOffset + n * cStride];
    const state = states[n];
    addProduct(y, c, state.value);
    addProduct(scale, Math.abs(c), state.conditionScale);
    depth = (depth + Math.abs(c) * state.depthScale) * ROUND_UP;
  }
  addNumber(y, channel.skip);
  addNumber(scale, Math.abs(channel.skip));
  mulNumber(y, channel.gate);
  mulNumber(scale, Math.abs(channel.gate));
  channel.outputDepthScale = depth * Math.abs(channel.gate) * ROUND_UP;
}
