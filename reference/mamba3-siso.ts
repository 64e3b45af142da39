/**
 * mamba3-siso, the sequential reference: mamba_ssm's mamba3_siso_step_ref
 * (spec/families/mamba3-siso/mamba3-siso.md), token by token. For each batch b and head h (g its
 * Q/K head, ⌊h / (H/G)⌋):
 *
 *     θ_t  = (θ_{t−1} + π·tanh(Angles_t)·DT_t) mod 2π      q̂_t, k̂_t: Q_t + QBias, K_t + KBias rotated pairwise by θ_t
 *     S_t  = α_t·S_{t−1} + β_t·ṽ_{t−1}⊗k̃_{t−1} + γ_t·v_t⊗k̂_t   α = exp(ADT), β = (1−λ)·DT·α, γ = λ·DT, λ = sigmoid(Trap)
 *     y_t  = (S_t·q̂_t + D·v_t)·silu(Z_t);   k̃_t = k̂_t, ṽ_t = v_t
 *
 * The angle is accumulated and reduced mod 2π in double-double (2π itself in double-double), so
 * the only rounding of θ is the one of each float64 increment π·tanh(a)·δ; cos, sin, the rotation,
 * α, λ and the products are float64 factors (as the other references' factors), and S and y are
 * double-double, rounded once at the end.
 *
 * Scales. θ's condition scale is |θ_{−1}| + 2π + Σ_t |π·tanh(a_t)·δ_t| (what a cumulative sum of
 * the increments and its reductions can err relative to; 2π since a reduced angle may be near it) and its depth scale that of a sum. q̂ and k̂ are scaled by the
 * norm of each rotated pair of |Q| + |QBias| (|K| + |KBias|), which a rotation by any angle,
 * the reference's or a kernel's slightly different one, never exceeds; the trapezoidal terms are
 * scaled by |δ|·α·|ṽ|·|k̃| + |δ|·|v|·|k̂|, the most (1 − λ) and λ can weigh them, so an absolute
 * error of λ (a kernel's 1 − sigmoid by subtraction) is relative to it. S's depth scale follows
 * the recurrence on α (W ← α·(W + S)).
 */
import type { Mamba3SisoInputs, Mamba3SisoStepInputs } from '../spec/families.ts';
import { mamba3SisoSizes, mamba3SisoStepSizes, qkHeadOfHead, type Mamba3SisoSizes } from '../spec/families/mamba3-siso/dimensions.ts';
import { silu } from '../spec/families/selective-scan/discretization.ts';
import { sigmoid } from '../spec/families/mamba3-siso/discretization.ts';
import { DoubleDouble, addNumber, addProduct, mulNumber, toNumber } from './double-double.ts';
import { ROUND_UP } from './recurrence-state.ts';
import type { ReferenceResult, ReferenceStepResult } from './result.ts';
import { allocateScaled, writeScaled, type ScaledTensor } from './scaled-outputs.ts';

/** 2π as a double-double: the float64 2π and the rest of the real 2π. */
const TWO_PI_HI = 2 * Math.PI;
const TWO_PI_LO = 2.4492935982947064e-16;

export { sigmoid };

/** x mod 2π in [0, 2π) of a double-double angle, in place (exact to double-double). */
export function reduceAngle(angle: DoubleDouble): void {
  const turns = Math.floor(toNumber(angle) / TWO_PI_HI);
  if (turns !== 0) {
    // turns·2π in two exact-ish parts: turns is an integer far below 2^53, so turns·TWO_PI_HI rounds once (addProduct keeps its error).
    addProduct(angle, -turns, new DoubleDouble(TWO_PI_HI, TWO_PI_LO));
  }
  // The float64 floor may be off by one turn at the edges of [0, 2π): fix it in double-double.
  if (angle.hi < 0) addProduct(angle, 1, new DoubleDouble(TWO_PI_HI, TWO_PI_LO));
  else if (angle.hi > TWO_PI_HI || (angle.hi === TWO_PI_HI && angle.lo >= TWO_PI_LO)) addProduct(angle, -1, new DoubleDouble(TWO_PI_HI, TWO_PI_LO));
}

/** The tensors one token reads: a run's (with the time axis) or a step's (L = 1). */
type TokenInputs = Omit<Mamba3SisoInputs, 'angleState' | 'ssmState' | 'kState' | 'vState'>;

/** The carried state of one head (b, h): θ, S (P×N), k̃, ṽ, each with its scales. */
class HeadState {
  readonly angle: DoubleDouble[];
  readonly angleScale: Float64Array;
  readonly angleDepth: Float64Array;
  readonly S: DoubleDouble[];
  readonly SScale: DoubleDouble[];
  readonly SDepth: Float64Array;
  readonly k: Float64Array;
  readonly kScale: Float64Array;
  readonly v: Float64Array;
  // The current token's rotated q, k and their scales (pair norms).
  readonly qHat: Float64Array;
  readonly qScale: Float64Array;
  readonly kHat: Float64Array;
  readonly kHatScale: Float64Array;
  readonly y: DoubleDouble[];
  readonly yScale: DoubleDouble[];
  readonly yDepth: Float64Array;

  constructor(readonly sizes: Mamba3SisoSizes) {
    const { headdim: P, stateSize: N, angles: A } = sizes;
    this.angle = Array.from({ length: A }, () => new DoubleDouble());
    this.angleScale = new Float64Array(A);
    this.angleDepth = new Float64Array(A);
    this.S = Array.from({ length: P * N }, () => new DoubleDouble());
    this.SScale = Array.from({ length: P * N }, () => new DoubleDouble());
    this.SDepth = new Float64Array(P * N);
    this.k = new Float64Array(N);
    this.kScale = new Float64Array(N);
    this.v = new Float64Array(P);
    this.qHat = new Float64Array(N);
    this.qScale = new Float64Array(N);
    this.kHat = new Float64Array(N);
    this.kHatScale = new Float64Array(N);
    this.y = Array.from({ length: P }, () => new DoubleDouble());
    this.yScale = Array.from({ length: P }, () => new DoubleDouble());
    this.yDepth = new Float64Array(P);
  }

  /** Starts head (b, h) from the given states (float32 tensors, absent = 0). */
  start(b: number, h: number, states: { angleState?: Float32Array; ssmState?: Float32Array; kState?: Float32Array; vState?: Float32Array }): void {
    const { heads: H, headdim: P, stateSize: N, angles: A } = this.sizes;
    const head = b * H + h;
    for (let i = 0; i < A; i++) {
      const value = states.angleState?.[head * A + i] ?? 0;
      this.angle[i].set(value);
      // + 2π: a reduced angle is any number in [0, 2π), whatever the increments were.
      this.angleScale[i] = Math.abs(value) + 2 * Math.PI;
      this.angleDepth[i] = 0;
    }
    for (let j = 0; j < P * N; j++) {
      const value = states.ssmState?.[head * P * N + j] ?? 0;
      this.S[j].set(value);
      this.SScale[j].set(Math.abs(value));
      this.SDepth[j] = 0;
    }
    for (let n = 0; n < N; n++) {
      this.k[n] = states.kState?.[head * N + n] ?? 0;
      this.kScale[n] = Math.abs(this.k[n]);
    }
    for (let p = 0; p < P; p++) this.v[p] = states.vState?.[head * P + p] ?? 0;
  }

  /** Token t of head (b, h): advances θ, S, k̃, ṽ and leaves y_t (value, S, W) in y, yScale, yDepth. */
  token(inputs: TokenInputs, b: number, t: number, h: number): void {
    const { length: L, heads: H, headdim: P, groups: G, stateSize: N, angles: A } = this.sizes;
    const { Q, K, V, ADT, DT, Trap, QBias, KBias, Angles, D, Z } = inputs;
    const timeHead = (b * H + h) * L + t; // (batch, H, L)
    const delta = DT.data[timeHead];
    const alpha = Math.exp(ADT.data[timeHead]);
    const lambda = sigmoid(Trap.data[timeHead]);
    const beta = (1 - lambda) * delta * alpha;
    const gamma = lambda * delta;

    for (let i = 0; i < A; i++) {
      const increment = Math.tanh(Angles.data[((b * L + t) * H + h) * A + i]) * Math.PI * delta;
      this.angleDepth[i] = (this.angleDepth[i] + this.angleScale[i]) * ROUND_UP;
      this.angleScale[i] = (this.angleScale[i] + Math.abs(increment)) * ROUND_UP;
      addNumber(this.angle[i], increment);
      reduceAngle(this.angle[i]);
    }

    const qkOffset = ((b * L + t) * G + qkHeadOfHead(h, H, G)) * N;
    for (let j = 0; j < N / 2; j++) {
      const theta = j < A ? toNumber(this.angle[j]) : 0;
      const cos = Math.cos(theta);
      const sin = Math.sin(theta);
      for (const [source, bias, out, scale] of [
        [Q.data, QBias.data, this.qHat, this.qScale],
        [K.data, KBias.data, this.kHat, this.kHatScale],
      ] as const) {
        const x0 = source[qkOffset + 2 * j] + bias[h * N + 2 * j];
        const x1 = source[qkOffset + 2 * j + 1] + bias[h * N + 2 * j + 1];
        out[2 * j] = x0 * cos - x1 * sin;
        out[2 * j + 1] = x0 * sin + x1 * cos;
        const norm = Math.hypot(Math.abs(source[qkOffset + 2 * j]) + Math.abs(bias[h * N + 2 * j]), Math.abs(source[qkOffset + 2 * j + 1]) + Math.abs(bias[h * N + 2 * j + 1])) * ROUND_UP;
        scale[2 * j] = norm;
        scale[2 * j + 1] = norm;
      }
    }

    const vOffset = ((b * L + t) * H + h) * P;
    const absAlpha = Math.abs(alpha);
    const absDelta = Math.abs(delta);
    for (let p = 0; p < P; p++) {
      const v = V.data[vOffset + p];
      const vPrev = this.v[p];
      const y = this.y[p].set(0);
      const yScale = this.yScale[p].set(0);
      let yDepth = 0;
      for (let n = 0; n < N; n++) {
        const j = p * N + n;
        this.SDepth[j] = absAlpha * (this.SDepth[j] + toNumber(this.SScale[j])) * ROUND_UP;
        mulNumber(this.S[j], alpha);
        addNumber(this.S[j], beta * vPrev * this.k[n]);
        addNumber(this.S[j], gamma * v * this.kHat[n]);
        mulNumber(this.SScale[j], absAlpha);
        addNumber(this.SScale[j], absDelta * absAlpha * Math.abs(vPrev) * this.kScale[n]);
        addNumber(this.SScale[j], absDelta * Math.abs(v) * this.kHatScale[n]);
        addProduct(y, this.qHat[n], this.S[j]);
        addProduct(yScale, this.qScale[n], this.SScale[j]);
        yDepth = (yDepth + this.qScale[n] * this.SDepth[j]) * ROUND_UP;
      }
      const skip = D === undefined ? 0 : D.data[h] * v;
      addNumber(y, skip);
      addNumber(yScale, Math.abs(skip));
      const gate = Z === undefined ? 1 : silu(Z.data[vOffset + p]);
      mulNumber(y, gate);
      mulNumber(yScale, Math.abs(gate));
      this.yDepth[p] = yDepth * Math.abs(gate) * ROUND_UP;
    }
    this.k.set(this.kHat);
    this.kScale.set(this.kHatScale);
    for (let p = 0; p < P; p++) this.v[p] = V.data[vOffset + p];
  }

  /** Writes the four states of head (b, h) into their outputs. */
  writeStates(b: number, h: number, out: { angle: ScaledTensor; ssm: ScaledTensor; k: ScaledTensor; v: ScaledTensor }): void {
    const { heads: H, headdim: P, stateSize: N, angles: A } = this.sizes;
    const head = b * H + h;
    for (let i = 0; i < A; i++) {
      out.angle.value.data[head * A + i] = toNumber(this.angle[i]);
      out.angle.conditionScale.data[head * A + i] = this.angleScale[i];
      out.angle.depthScale.data[head * A + i] = this.angleDepth[i];
    }
    for (let j = 0; j < P * N; j++) writeScaled(out.ssm, head * P * N + j, this.S[j], this.SScale[j], this.SDepth[j]);
    for (let n = 0; n < N; n++) {
      out.k.value.data[head * N + n] = this.k[n];
      out.k.conditionScale.data[head * N + n] = this.kScale[n];
    }
    for (let p = 0; p < P; p++) {
      out.v.value.data[head * P + p] = this.v[p];
      out.v.conditionScale.data[head * P + p] = Math.abs(this.v[p]);
    }
  }
}

/** Runs every head of a problem (a run, or a step with L = 1) and returns y and the four states with their scales. */
function scan(inputs: TokenInputs, states: Pick<Mamba3SisoInputs, 'angleState' | 'ssmState' | 'kState' | 'vState'>, sizes: Mamba3SisoSizes, yShape: readonly number[]) {
  const { batch, length: L, heads: H, headdim: P, stateSize: N, angles: A } = sizes;
  const y = allocateScaled(yShape);
  const out = { angle: allocateScaled([batch, H, A]), ssm: allocateScaled([batch, H, P, N]), k: allocateScaled([batch, H, N]), v: allocateScaled([batch, H, P]) };
  const head = new HeadState(sizes);
  const given = { angleState: states.angleState?.data, ssmState: states.ssmState?.data, kState: states.kState?.data, vState: states.vState?.data };
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < H; h++) {
      head.start(b, h, given);
      for (let t = 0; t < L; t++) {
        head.token(inputs, b, t, h);
        for (let p = 0; p < P; p++) writeScaled(y, ((b * L + t) * H + h) * P + p, head.y[p], head.yScale[p], head.yDepth[p]);
      }
      head.writeStates(b, h, out);
    }
  }
  return { y, ...out };
}

/** The reference mamba3-siso of validated inputs: y (batch, L, H, P) and the four final states, with their scales S and W. */
export function mamba3Siso(inputs: Mamba3SisoInputs): ReferenceResult<'mamba3-siso'> {
  const sizes = mamba3SisoSizes(inputs.V, inputs.Q, inputs.Angles);
  const { y, angle, ssm, k, v } = scan(inputs, inputs, sizes, inputs.V.shape);
  return {
    outputs: { y: y.value, finalAngleState: angle.value, finalSsmState: ssm.value, finalKState: k.value, finalVState: v.value },
    conditionScales: { y: y.conditionScale, finalAngleState: angle.conditionScale, finalSsmState: ssm.conditionScale, finalKState: k.conditionScale, finalVState: v.conditionScale },
    depthScales: { y: y.depthScale, finalAngleState: angle.depthScale, finalSsmState: ssm.depthScale, finalKState: k.depthScale, finalVState: v.depthScale },
  };
}

/** The reference one-token step of validated step inputs: y (batch, H, P) and the four new states under their step names. */
export function mamba3SisoStep(inputs: Mamba3SisoStepInputs): ReferenceStepResult {
  const sizes = mamba3SisoStepSizes(inputs.V, inputs.Q, inputs.Angles);
  // A step's tensors are a run's with L = 1: the same flat indices with t = 0.
  const { y, angle, ssm, k, v } = scan(inputs, inputs, sizes, inputs.V.shape);
  return {
    outputs: { y: y.value, angleState: angle.value, ssmState: ssm.value, kState: k.value, vState: v.value },
    conditionScales: { y: y.conditionScale, angleState: angle.conditionScale, ssmState: ssm.conditionScale, kState: k.conditionScale, vState: v.conditionScale },
  };
}
