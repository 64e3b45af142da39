/**
 * mamba3-siso's VJP and JVP reference (spec/gradients.md, "mamba3-siso"). Per head (b, h), g its
 * Q/K head: the forward recomputed token by token (reference/mamba3-siso.ts) with S_t stored in
 * double-double, then the adjoint in reverse time. With ō_t = ȳ_t·silu(Z_t), the cotangents
 * carried backwards are S̄ (P×N), θ̄ (A), and those of the carried previous token k̃ and ṽ:
 *
 *     S̄ += ō_t ⊗ q̂_t;   q̂̄_t = S_tᵀ·ō_t;   v̄_t = ṽ̄_t + D·ō_t + γ_t·S̄·k̂_t;   k̂̄_t = k̃̄_t + γ_t·S̄ᵀ·v_t
 *     ᾱ_t = ⟨S̄, S_{t−1}⟩,  β̄_t = ṽ_{t−1}ᵀ·S̄·k̃_{t−1},  γ̄_t = v_tᵀ·S̄·k̂_t
 *     ṽ̄_{t−1} = β_t·S̄·k̃_{t−1},  k̃̄_{t−1} = β_t·S̄ᵀ·ṽ_{t−1},  S̄ ← α_t·S̄
 *     q̄ = R(θ_t)ᵀ·q̂̄, θ̄_j += q̂̄_{2j+1}·q̂_{2j} − q̂̄_{2j}·q̂_{2j+1} (and k alike; j < A)
 *     ADT̄ = α·(ᾱ + β̄·(1−λ)·δ),  DT̄ = β̄·(1−λ)·α + γ̄·λ + Σ_i θ̄_i·φ_i,  Trap̄ = λ(1−λ)·δ·(γ̄ − β̄·α)
 *     Angles̄_i = θ̄_i·δ·π·(1 − tanh²),  θ̄ passes to θ_{t−1} unchanged (mod 2π: identity a.e.)
 *
 * The input states get the cotangents left at t = −1 (k̃̄_{−1}, ṽ̄_{−1}, S̄, θ̄); Q̄, K̄ sum over the
 * H/G heads of their block, QBias, KBias, D over batch and time.
 *
 * Condition scale: the same VJP on absolute values, a rotation's cos and sin (and its derivative's)
 * replaced by 1 (so a rotated pair is scaled by |x0| + |x1|, at least the pair norm the forward's
 * rotary term is relative to), tanh' = 1 − tanh² by 1 + tanh², silu' by its two terms, λ and 1 − λ
 * by 1 and σ'(Trap) = λ(1 − λ) by max(λ, 1 − λ) (a kernel's 1 − λ may be formed by subtraction). The
 * decay of the depth scale is α (times decayScale wherever α appears).
 */
import type { Mamba3SisoInputs } from '../../spec/families.ts';
import { mamba3SisoSizes, qkHeadOfHead } from '../../spec/families/mamba3-siso/dimensions.ts';
import { silu } from '../../spec/families/selective-scan/discretization.ts';
import { DoubleDouble, addNumber, addProduct, mulNumber, toNumber } from '../double-double.ts';
import { reduceAngle, sigmoid } from '../mamba3-siso.ts';
import { counted, raised } from './channel-adjoint.ts';
import { siluDerivative, siluDerivativeScale } from './derivatives.ts';
import { DoubleDoubleArray, multiply } from './double-double-array.ts';
import type { GradientArrays, Values } from './types.ts';

/** The forward factors of one head, every token, in float64 (S in double-double). */
class HeadForward {
  readonly delta: Float64Array;
  readonly alpha: Float64Array;
  readonly lambda: Float64Array;
  readonly beta: Float64Array;
  readonly gamma: Float64Array;
  /** φ_{t,i} = π·tanh(Angles) and tanh itself. */
  readonly phi: Float64Array;
  readonly tanh: Float64Array;
  /** cos θ_{t,j}, sin θ_{t,j} (1 and 0, or 1 and 1 in absolute mode, as the rotation's factors). */
  readonly cos: Float64Array;
  readonly sin: Float64Array;
  /** Unrotated q, k (Q + QBias, K + KBias) and rotated q̂, k̂. */
  readonly q: Float64Array;
  readonly k: Float64Array;
  readonly qHat: Float64Array;
  readonly kHat: Float64Array;
  /** k̃_{t−1}, ṽ_{t−1} per t (the previous token's, or the input states at t = 0). */
  readonly kPrev: Float64Array;
  readonly vPrev: Float64Array;
  /** S_{t−1} at index t (t = 0 … L), P·N each. */
  readonly S: DoubleDoubleArray;

  constructor(readonly L: number, readonly P: number, readonly N: number, readonly A: number) {
    this.delta = new Float64Array(L);
    this.alpha = new Float64Array(L);
    this.lambda = new Float64Array(L);
    this.beta = new Float64Array(L);
    this.gamma = new Float64Array(L);
    this.phi = new Float64Array(L * A);
    this.tanh = new Float64Array(L * A);
    this.cos = new Float64Array((L * N) / 2);
    this.sin = new Float64Array((L * N) / 2);
    this.q = new Float64Array(L * N);
    this.k = new Float64Array(L * N);
    this.qHat = new Float64Array(L * N);
    this.kHat = new Float64Array(L * N);
    this.kPrev = new Float64Array(L * N);
    this.vPrev = new Float64Array(L * P);
    this.S = new DoubleDoubleArray((L + 1) * P * N);
  }
}

/**
 * Recomputes head (b, h)'s forward into f; `absolute`: every factor in absolute value, rotations
 * by 1s, α·decayScale; `raise` (with absolute): every factor, each multiplicand of a product on its own, max(1, |v|).
 */
function forwardHead(inputs: Mamba3SisoInputs, b: number, h: number, f: HeadForward, absolute: boolean, decayScale: number, raise = false): void {
  const { length: L, heads: H, headdim: P, groups: G, stateSize: N, angles: A } = mamba3SisoSizes(inputs.V, inputs.Q, inputs.Angles);
  const m = (v: number): number => counted(v, absolute, raise);
  const head = b * H + h;
  const g = qkHeadOfHead(h, H, G);
  const theta = Array.from({ length: A }, (_, i) => new DoubleDouble(inputs.angleState?.data[head * A + i] ?? 0));
  const s = new DoubleDouble();
  const S = f.S;
  for (let j = 0; j < P * N; j++) S.put(j, s.set(m(inputs.ssmState?.data[head * P * N + j] ?? 0)));
  const kPrev = Float64Array.from({ length: N }, (_, n) => m(inputs.kState?.data[head * N + n] ?? 0));
  const vPrev = Float64Array.from({ length: P }, (_, p) => m(inputs.vState?.data[head * P + p] ?? 0));
  // q and k alike: (their projection, bias, unrotated and rotated values), listed once per head, not per pair.
  const projections = [
    [inputs.Q.data, inputs.QBias.data, f.q, f.qHat],
    [inputs.K.data, inputs.KBias.data, f.k, f.kHat],
  ] as const;
  for (let t = 0; t < L; t++) {
    const at = head * L + t;
    const delta = inputs.DT.data[at];
    const alpha = raise ? raised(Math.exp(inputs.ADT.data[at])) : Math.exp(inputs.ADT.data[at]) * (absolute ? decayScale : 1);
    const lambda = sigmoid(inputs.Trap.data[at]);
    f.delta[t] = m(delta);
    f.alpha[t] = alpha;
    f.lambda[t] = lambda;
    // Absolute: 1 − λ and λ weigh the trapezoidal terms by at most 1 (the forward's scales do the
    // same), so a kernel's 1 − λ formed by subtraction, absolutely accurate only, is covered.
    f.beta[t] = absolute ? m(delta) * alpha : (1 - lambda) * delta * alpha;
    f.gamma[t] = absolute ? m(delta) : lambda * delta;
    for (let i = 0; i < A; i++) {
      const th = Math.tanh(inputs.Angles.data[(((b * L + t) * H + h) * A) + i]);
      f.tanh[t * A + i] = th;
      f.phi[t * A + i] = raise ? Math.PI * raised(th) : m(Math.PI * th);
      addNumber(theta[i], Math.PI * th * delta);
      reduceAngle(theta[i]);
    }
    const qk = ((b * L + t) * G + g) * N;
    for (let j = 0; j < N / 2; j++) {
      const angle = j < A ? toNumber(theta[j]) : 0;
      const c = absolute ? 1 : Math.cos(angle);
      const sn = absolute ? (j < A ? 1 : 0) : Math.sin(angle);
      f.cos[t * (N / 2) + j] = c;
      f.sin[t * (N / 2) + j] = sn;
      for (const [src, bias, raw, rot] of projections) {
        const x0 = m(src[qk + 2 * j] + bias[h * N + 2 * j]);
        const x1 = m(src[qk + 2 * j + 1] + bias[h * N + 2 * j + 1]);
        raw[t * N + 2 * j] = x0;
        raw[t * N + 2 * j + 1] = x1;
        rot[t * N + 2 * j] = absolute ? x0 + sn * x1 : x0 * c - x1 * sn;
        rot[t * N + 2 * j + 1] = absolute ? sn * x0 + x1 : x0 * sn + x1 * c;
      }
    }
    for (let n = 0; n < N; n++) f.kPrev[t * N + n] = kPrev[n];
    for (let p = 0; p < P; p++) f.vPrev[t * P + p] = vPrev[p];
    const vOffset = ((b * L + t) * H + h) * P;
    for (let p = 0; p < P; p++) {
      const v = m(inputs.V.data[vOffset + p]);
      for (let n = 0; n < N; n++) {
        S.get(t * P * N + p * N + n, s);
        mulNumber(s, alpha);
        addNumber(s, f.beta[t] * vPrev[p] * kPrev[n]);
        addNumber(s, f.gamma[t] * v * f.kHat[t * N + n]);
        S.put((t + 1) * P * N + p * N + n, s);
      }
    }
    for (let n = 0; n < N; n++) kPrev[n] = f.kHat[t * N + n];
    for (let p = 0; p < P; p++) vPrev[p] = m(inputs.V.data[vOffset + p]);
  }
}

/**
 * The gradients of every differentiable input present, from the cotangents of y and the four
 * final states; with `absolute`, the condition scales (α multiplied by `decayScale`, for the depth
 * scale); with `raise` too, the floor scales (every factor max(1, |v|), σ'(Trap) and tanh's 1 ± tanh² as in absolute mode but at least 1).
 */
export function mamba3SisoGradients(inputs: Mamba3SisoInputs, cotangents: Values, absolute: boolean, decayScale = 1, raise = false): GradientArrays {
  if (raise && !absolute) throw new RangeError('mamba3SisoGradients: raise needs absolute');
  const { batch, length: L, heads: H, headdim: P, groups: G, stateSize: N, angles: A } = mamba3SisoSizes(inputs.V, inputs.Q, inputs.Angles);
  const m = (v: number): number => counted(v, absolute, raise);
  const acc: Record<string, DoubleDoubleArray> = {};
  for (const [name, tensor] of Object.entries(inputs)) if (tensor !== undefined) acc[name] = new DoubleDoubleArray(tensor.data.length);
  const cot = (name: string, i: number): number => m((cotangents[name] as Float32Array | Float64Array)[i]);
  const f = new HeadForward(L, P, N, A);
  const Sbar = new DoubleDoubleArray(P * N);
  const thetaBar = new DoubleDoubleArray(A);
  const kCarry = new DoubleDoubleArray(N);
  const vCarry = new DoubleDoubleArray(P);
  const qHatBar = new DoubleDoubleArray(N);
  const kHatBar = new DoubleDoubleArray(N);
  const vBar = new DoubleDoubleArray(P);
  const kPrevBar = new DoubleDoubleArray(N);
  const vPrevBar = new DoubleDoubleArray(P);
  const oBar = new DoubleDoubleArray(P);
  const [x, y, z, w] = [new DoubleDouble(), new DoubleDouble(), new DoubleDouble(), new DoubleDouble()];
  const [alphaBar, betaBar, gammaBar] = [new DoubleDouble(), new DoubleDouble(), new DoubleDouble()];
  const clear = (a: DoubleDoubleArray): void => {
    for (let i = 0; i < a.length; i++) {
      a.hi[i] = 0;
      a.lo[i] = 0;
    }
  };
  // S_{index−1}[p, n] of the stored forward, into z.
  const S = (index: number, p: number, n: number): DoubleDouble => f.S.get(index * P * N + p * N + n, z);
  const yBarAll = cotangents.y as Float32Array | Float64Array;
  // q and k alike: (cotangent of the rotated vector, rotated vector, projection's and bias's gradients), listed once.
  const rotations = [
    [qHatBar, f.qHat, acc.Q, acc.QBias],
    [kHatBar, f.kHat, acc.K, acc.KBias],
  ] as const;

  // The per-token stages of the backward scan, as functions of their own: V8 compiles each with its
  // double-double steps inlined, where one function holding them all ran out of inlining budget.
  /** y_t = o_t·silu(Z): ō and Z̄ (o recomputed from S_t), D̄, and S̄ += ō ⊗ q̂_t. */
  const outputStage = (h: number, t: number, vOffset: number): void => {
    for (let p = 0; p < P; p++) {
      const v = m(inputs.V.data[vOffset + p]);
      const yBar = m(yBarAll[vOffset + p]);
      const zValue = inputs.Z?.data[vOffset + p];
      oBar.put(p, x.set(yBar));
      if (zValue !== undefined) {
        mulNumber(x, raise ? raised(silu(zValue)) : m(silu(zValue)));
        oBar.put(p, x);
        y.set(inputs.D === undefined ? 0 : m(inputs.D.data[h]) * v);
        for (let n = 0; n < N; n++) addProduct(y, f.qHat[t * N + n], S(t + 1, p, n));
        mulNumber(y, yBar);
        acc.Z.addScaled(vOffset + p, raise ? raised(siluDerivativeScale(zValue)) : absolute ? siluDerivativeScale(zValue) : siluDerivative(zValue), y);
      }
      oBar.get(p, x);
      vBar.put(p, vCarry.get(p, y));
      if (inputs.D !== undefined) {
        acc.D.addScaled(h, v, x);
        vBar.addScaled(p, m(inputs.D.data[h]), x);
      }
      for (let n = 0; n < N; n++) Sbar.addScaled(p * N + n, f.qHat[t * N + n], x);
    }
  };
  /** q̂̄ = S_tᵀ·ō. */
  const readoutStage = (t: number): void => {
    clear(qHatBar);
    for (let n = 0; n < N; n++) {
      qHatBar.get(n, y);
      for (let p = 0; p < P; p++) {
        multiply(w, S(t + 1, p, n), oBar.get(p, x));
        addProduct(y, 1, w);
      }
      qHatBar.put(n, y);
    }
  };
  /** S_t = α·S_{t−1} + β·ṽ⊗k̃ + γ·v⊗k̂, backwards: ᾱ, β̄, γ̄, the carried cotangents, v̄ into V̄, and S̄ ← α·S̄. */
  const stateStage = (t: number, vOffset: number): void => {
    for (let p = 0; p < P; p++) {
      const v = m(inputs.V.data[vOffset + p]);
      const vp = f.vPrev[t * P + p];
      for (let n = 0; n < N; n++) {
        Sbar.get(p * N + n, x);
        multiply(w, x, S(t, p, n));
        addProduct(alphaBar, 1, w);
        addProduct(betaBar, vp * f.kPrev[t * N + n], x);
        addProduct(gammaBar, v * f.kHat[t * N + n], x);
        vPrevBar.addScaled(p, f.beta[t] * f.kPrev[t * N + n], x);
        kPrevBar.addScaled(n, f.beta[t] * vp, x);
        vBar.addScaled(p, f.gamma[t] * f.kHat[t * N + n], x);
        kHatBar.addScaled(n, f.gamma[t] * v, x);
        mulNumber(x, f.alpha[t]);
        Sbar.put(p * N + n, x);
      }
      acc.V.addScaled(vOffset + p, 1, vBar.get(p, x));
    }
  };
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < H; h++) {
      const head = b * H + h;
      const g = qkHeadOfHead(h, H, G);
      forwardHead(inputs, b, h, f, absolute, decayScale, raise);
      for (let j = 0; j < P * N; j++) Sbar.put(j, x.set(cot('finalSsmState', head * P * N + j)));
      for (let i = 0; i < A; i++) thetaBar.put(i, x.set(cot('finalAngleState', head * A + i)));
      for (let n = 0; n < N; n++) kCarry.put(n, x.set(cot('finalKState', head * N + n)));
      for (let p = 0; p < P; p++) vCarry.put(p, x.set(cot('finalVState', head * P + p)));
      for (let t = L - 1; t >= 0; t--) {
        const vOffset = ((b * L + t) * H + h) * P;
        const at = head * L + t;
        // y_t = o_t·silu(Z): ō and Z̄ (o recomputed from S_t).
        outputStage(h, t, vOffset);
        // q̂̄ = S_tᵀ·ō.
        readoutStage(t);
        // S_t = α·S_{t−1} + β·ṽ⊗k̃ + γ·v⊗k̂.
        alphaBar.set(0);
        betaBar.set(0);
        gammaBar.set(0);
        clear(kPrevBar);
        clear(vPrevBar);
        for (let n = 0; n < N; n++) kHatBar.put(n, kCarry.get(n, x));
        stateStage(t, vOffset);
        // The rotations: q̄, k̄ to Q, K and the biases; θ̄ from the rotation's derivative.
        const qk = ((b * L + t) * G + g) * N;
        for (let j = 0; j < N / 2; j++) {
          const c = f.cos[t * (N / 2) + j];
          const sn = f.sin[t * (N / 2) + j];
          for (const [bar, rot, src, bias] of rotations) {
            bar.get(2 * j, x);
            bar.get(2 * j + 1, y);
            // (x0, x1) ↦ (x0·c − x1·s, x0·s + x1·c): x̄0 = c·ō0 + s·ō1, x̄1 = −s·ō0 + c·ō1.
            w.set(0);
            addProduct(w, c, x);
            addProduct(w, sn, y);
            src.addScaled(qk + 2 * j, 1, w);
            bias.addScaled(h * N + 2 * j, 1, w);
            w.set(0);
            addProduct(w, absolute ? sn : -sn, x);
            addProduct(w, c, y);
            src.addScaled(qk + 2 * j + 1, 1, w);
            bias.addScaled(h * N + 2 * j + 1, 1, w);
            if (j < A) {
              thetaBar.addScaled(j, absolute ? rot[t * N + 2 * j + 1] : -rot[t * N + 2 * j + 1], x);
              thetaBar.addScaled(j, rot[t * N + 2 * j], y);
            }
          }
        }
        // The scalars of the step: α = exp(ADT), λ = σ(Trap), β, γ, and θ's increment φ·δ.
        const delta = f.delta[t];
        const alpha = f.alpha[t];
        const lambda = f.lambda[t];
        // Absolute: λ and 1 − λ by 1 as in β and γ; σ' = λ(1 − λ) by max(λ, 1 − λ), what a product
        // with one factor formed by subtraction (absolute error u) can err relative to.
        const weight = absolute ? 1 : lambda;
        const oneMinus = absolute ? 1 : 1 - lambda;
        const slope = raise ? 1 : absolute ? Math.max(lambda, 1 - lambda) : lambda * (1 - lambda);
        acc.ADT.addScaled(at, alpha, alphaBar);
        acc.ADT.addScaled(at, alpha * oneMinus * delta, betaBar);
        acc.DT.addScaled(at, oneMinus * alpha, betaBar);
        acc.DT.addScaled(at, weight, gammaBar);
        acc.Trap.addScaled(at, slope * delta, gammaBar);
        acc.Trap.addScaled(at, absolute ? slope * delta * alpha : -slope * delta * alpha, betaBar);
        for (let i = 0; i < A; i++) {
          thetaBar.get(i, x);
          acc.DT.addScaled(at, f.phi[t * A + i], x);
          const th = f.tanh[t * A + i];
          acc.Angles.addScaled(((b * L + t) * H + h) * A + i, delta * Math.PI * (absolute ? 1 + th * th : 1 - th * th), x);
        }
        for (let n = 0; n < N; n++) kCarry.put(n, kPrevBar.get(n, x));
        for (let p = 0; p < P; p++) vCarry.put(p, vPrevBar.get(p, x));
      }
      if (acc.ssmState !== undefined) for (let j = 0; j < P * N; j++) acc.ssmState.put(head * P * N + j, Sbar.get(j, x));
      if (acc.angleState !== undefined) for (let i = 0; i < A; i++) acc.angleState.put(head * A + i, thetaBar.get(i, x));
      if (acc.kState !== undefined) for (let n = 0; n < N; n++) acc.kState.put(head * N + n, kCarry.get(n, x));
      if (acc.vState !== undefined) for (let p = 0; p < P; p++) acc.vState.put(head * P + p, vCarry.get(p, x));
    }
  }
  return Object.fromEntries(Object.entries(acc).map(([name, array]) => [name, array.rounded()]));
}

/** J·v: the tangents of y and the four final states from a tangent of every differentiable input present (absent ones 0). */
export function mamba3SisoTangents(inputs: Mamba3SisoInputs, tangents: Values): GradientArrays {
  const { batch, length: L, heads: H, headdim: P, groups: G, stateSize: N, angles: A } = mamba3SisoSizes(inputs.V, inputs.Q, inputs.Angles);
  const tv = (name: string, index: number): number => tangents[name]?.[index] ?? 0;
  const out = {
    y: new Float64Array(batch * L * H * P),
    finalAngleState: new Float64Array(batch * H * A),
    finalSsmState: new Float64Array(batch * H * P * N),
    finalKState: new Float64Array(batch * H * N),
    finalVState: new Float64Array(batch * H * P),
  };
  const f = new HeadForward(L, P, N, A);
  const Sdot = new DoubleDoubleArray(P * N);
  const thetaDot = new Float64Array(A);
  const kPrevDot = new Float64Array(N);
  const vPrevDot = new Float64Array(P);
  const qHatDot = new Float64Array(N);
  const kHatDot = new Float64Array(N);
  const [x, s, o] = [new DoubleDouble(), new DoubleDouble(), new DoubleDouble()];
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < H; h++) {
      const head = b * H + h;
      const g = qkHeadOfHead(h, H, G);
      forwardHead(inputs, b, h, f, false, 1);
      for (let j = 0; j < P * N; j++) Sdot.put(j, x.set(tv('ssmState', head * P * N + j)));
      for (let i = 0; i < A; i++) thetaDot[i] = tv('angleState', head * A + i);
      for (let n = 0; n < N; n++) kPrevDot[n] = tv('kState', head * N + n);
      for (let p = 0; p < P; p++) vPrevDot[p] = tv('vState', head * P + p);
      for (let t = 0; t < L; t++) {
        const at = head * L + t;
        const { delta, alpha, lambda } = { delta: f.delta[t], alpha: f.alpha[t], lambda: f.lambda[t] };
        const deltaDot = tv('DT', at);
        const alphaDot = alpha * tv('ADT', at);
        const lambdaDot = lambda * (1 - lambda) * tv('Trap', at);
        const betaDot = -lambdaDot * delta * alpha + (1 - lambda) * (deltaDot * alpha + delta * alphaDot);
        const gammaDot = lambdaDot * delta + lambda * deltaDot;
        for (let i = 0; i < A; i++) {
          const th = f.tanh[t * A + i];
          thetaDot[i] += Math.PI * (1 - th * th) * tv('Angles', ((b * L + t) * H + h) * A + i) * delta + f.phi[t * A + i] * deltaDot;
        }
        const qk = ((b * L + t) * G + g) * N;
        for (let j = 0; j < N / 2; j++) {
          const c = f.cos[t * (N / 2) + j];
          const sn = f.sin[t * (N / 2) + j];
          const td = j < A ? thetaDot[j] : 0;
          for (const [dot, rot, src, bias] of [
            [qHatDot, f.qHat, 'Q', 'QBias'],
            [kHatDot, f.kHat, 'K', 'KBias'],
          ] as const) {
            const x0 = tv(src, qk + 2 * j) + tv(bias, h * N + 2 * j);
            const x1 = tv(src, qk + 2 * j + 1) + tv(bias, h * N + 2 * j + 1);
            dot[2 * j] = x0 * c - x1 * sn - td * rot[t * N + 2 * j + 1];
            dot[2 * j + 1] = x0 * sn + x1 * c + td * rot[t * N + 2 * j];
          }
        }
        const vOffset = ((b * L + t) * H + h) * P;
        for (let p = 0; p < P; p++) {
          const v = inputs.V.data[vOffset + p];
          const vDot = tv('V', vOffset + p);
          const vp = f.vPrev[t * P + p];
          o.set(0);
          const dValue = inputs.D?.data[h] ?? 0;
          const yo = new DoubleDouble(dValue * v);
          addNumber(o, tv('D', h) * v + dValue * vDot);
          for (let n = 0; n < N; n++) {
            const j = p * N + n;
            Sdot.get(j, s);
            mulNumber(s, alpha);
            addProduct(s, alphaDot, f.S.get(t * P * N + j, x));
            addNumber(s, betaDot * vp * f.kPrev[t * N + n]);
            addNumber(s, f.beta[t] * (vPrevDot[p] * f.kPrev[t * N + n] + vp * kPrevDot[n]));
            addNumber(s, gammaDot * v * f.kHat[t * N + n]);
            addNumber(s, f.gamma[t] * (vDot * f.kHat[t * N + n] + v * kHatDot[n]));
            Sdot.put(j, s);
            addProduct(o, f.qHat[t * N + n], s);
            f.S.get((t + 1) * P * N + j, x);
            addProduct(o, qHatDot[n], x);
            addProduct(yo, f.qHat[t * N + n], x);
          }
          const zValue = inputs.Z?.data[vOffset + p];
          if (zValue !== undefined) {
            mulNumber(o, silu(zValue));
            addProduct(o, siluDerivative(zValue) * tv('Z', vOffset + p), yo);
          }
          out.y[vOffset + p] = toNumber(o);
        }
        kPrevDot.set(kHatDot);
        for (let p = 0; p < P; p++) vPrevDot[p] = tv('V', vOffset + p);
      }
      for (let i = 0; i < A; i++) out.finalAngleState[head * A + i] = thetaDot[i];
      for (let j = 0; j < P * N; j++) out.finalSsmState[head * P * N + j] = toNumber(Sdot.get(j, x));
      out.finalKState.set(kPrevDot, head * N);
      out.finalVState.set(vPrevDot, head * P);
    }
  }
  return out;
}
