/**
 * ssd's VJP and JVP reference (spec/gradients.md). Per channel (b, h, p) the factors of
 * channel-adjoint.ts are a_t = r_t·exp(Δ_t·A_h) (0 at a seqIdx reset) for every n,
 * x_{t,n} = Δ_t·(B_{b,t,g,n}·x_t), c = C_{b,t,g,n}, s = D·x_t, g = silu(z_t), h0 = initialStates;
 * the chain rule back to the inputs sums over what a head shares:
 *
 *     Δ̄_{b,t,h} = Σ_{p,n} ā·a·A_h + x̄·B·x          Ā_h = Σ_{b,t,p,n} ā·a·Δ
 *     B̄_{b,t,g,n} = Σ_{h in g, p} x̄·Δ·x             C̄_{b,t,g,n} = Σ_{h in g, p} c̄
 *     x̄ = Σ_n x̄_n·Δ·B + s̄·D      D̄ = Σ_{b,t(,p)} s̄·x      z̄ = ḡ·silu'(z)
 *     dt-bar = Δ̄·clamp'(v)·softplus'(δ)   (v = softplus(δ) or δ; clamp' = 1 on lo ≤ v ≤ hi, the bounds included)
 *     dtBias-bar_h = Σ_{b,t} dt-bar,   initialStates-bar = h̄0.
 *
 * dtLimit and seqIdx get no gradient. A reset contributes nothing through a: its derivative
 * r·exp(Δ·A)·(…) is 0 there.
 */
import type { SsdInputs, SsdOptions } from '../../spec/families.ts';
import { groupOfHead, ssdSizes } from '../../spec/families/ssd/dimensions.ts';
import { dtLimits, silu, softplus } from '../../spec/families/ssd/discretization.ts';
import { DoubleDouble, addProduct } from '../double-double.ts';
import { ChannelCotangents, ChannelFactors, ChannelForward, channelForward, channelJvp, channelVjp, raised, raisedExact, counted } from './channel-adjoint.ts';
import { clampDerivative, siluDerivative, siluDerivativeScale, softplusDerivative } from './derivatives.ts';
import { DoubleDoubleArray, ScaledTerms } from './double-double-array.ts';
import type { GradientArrays, Values } from './types.ts';

/** Δ_t of head h in row b, the decay a_t (0 at a reset, marked in `resets` when given) and dΔ/d(dt) (softplus' times the clamp's mask), for every t. */
function headSteps(inputs: SsdInputs, options: SsdOptions, b: number, h: number, delta: Float64Array, decay: Float64Array, chain: Float64Array, resets?: Uint8Array): void {
  const { length: L, heads: H } = ssdSizes(inputs.x, inputs.B);
  const { lo, hi } = dtLimits(inputs.dtLimit?.data);
  const seqIdx = inputs.seqIdx?.data;
  for (let t = 0; t < L; t++) {
    const shifted = inputs.dt.data[(b * L + t) * H + h] + (inputs.dtBias?.data[h] ?? 0);
    const v = options.dtSoftplus ? softplus(shifted) : shifted;
    delta[t] = Math.min(Math.max(v, lo), hi);
    chain[t] = clampDerivative(v, lo, hi) * (options.dtSoftplus ? softplusDerivative(shifted) : 1);
    const reset = seqIdx !== undefined && t > 0 && seqIdx[b * L + t] !== seqIdx[b * L + t - 1];
    decay[t] = reset ? 0 : Math.exp(delta[t] * inputs.A.data[h]);
    if (resets !== undefined) resets[t] = reset ? 1 : 0;
  }
}

/**
 * The factors of channel (b, h, p) into f, from its head's Δ and decays; with `resets` (the floor
 * scales), every computed factor raised: the decays but a reset's, the gate, and each multiplicand
 * of Δ·B·x and D·x on its own (ChannelFactors.raise raises the inputs' factors after).
 */
function fillChannel(inputs: SsdInputs, b: number, h: number, p: number, delta: Float64Array, decay: Float64Array, f: ChannelFactors, resets?: Uint8Array): void {
  const m = resets === undefined ? (v: number): number => v : raisedExact;
  const { length: L, heads: H, headdim: P, groups: G, stateSize: N } = ssdSizes(inputs.x, inputs.B);
  const dPerChannel = inputs.D?.shape.length === 2;
  for (let t = 0; t < L; t++) {
    const xIndex = ((b * L + t) * H + h) * P + p;
    const x = m(inputs.x.data[xIndex]);
    const bc = ((b * L + t) * G + groupOfHead(h, H, G)) * N;
    for (let n = 0; n < N; n++) {
      f.decay[t * N + n] = resets === undefined ? decay[t] : resets[t] === 1 ? 0 : raised(decay[t]);
      f.input[t * N + n] = (resets === undefined ? delta[t] : raised(delta[t])) * (m(inputs.B.data[bc + n]) * x);
      f.readout[t * N + n] = inputs.C.data[bc + n];
    }
    f.skip[t] = inputs.D === undefined ? 0 : m(inputs.D.data[dPerChannel ? h * P + p : h]) * x;
    f.gate[t] = inputs.z === undefined ? 1 : resets === undefined ? silu(inputs.z.data[xIndex]) : raised(silu(inputs.z.data[xIndex]));
  }
  for (let n = 0; n < N; n++) f.initial[n] = inputs.initialStates?.data[((b * H + h) * P + p) * N + n] ?? 0;
}

/**
 * The gradients of every differentiable input present, from the cotangents of y and finalStates;
 * with `absolute`, the same computation on absolute values: the condition scales
 * (every decay also multiplied by `decayScale`, for the depth scale); with `raise`, the floor
 * scales: every factor, each multiplicand of a product on its own, max(1, |v|).
 */
export function ssdGradients(inputs: SsdInputs, options: SsdOptions, cotangents: Values, absolute: boolean, decayScale = 1, raise = false): GradientArrays {
  const { batch, length: L, heads: H, headdim: P, groups: G, stateSize: N } = ssdSizes(inputs.x, inputs.B);
  // An input's value counts as `counted` says; a product's multiplicands are raised each on its own, a computed one (a, Δ) to at least 1.
  const acc: Record<string, DoubleDoubleArray> = {};
  for (const [name, tensor] of Object.entries(inputs)) {
    if (tensor !== undefined && name !== 'dtLimit' && name !== 'seqIdx') acc[name] = new DoubleDoubleArray(tensor.data.length);
  }
  const yBarAll = cotangents.y as Float32Array | Float64Array;
  const stateBarAll = cotangents.finalStates as Float32Array | Float64Array;
  const dPerChannel = inputs.D?.shape.length === 2;

  const f = new ChannelFactors(L, N);
  const bar = new ChannelCotangents(L, N);
  const yBar = new Float64Array(L);
  const finalBar = new Float64Array(N);
  const delta = new Float64Array(L);
  const decay = new Float64Array(L);
  const chain = new Float64Array(L);
  const resets = new Uint8Array(L);
  // Δ̄ of the current head, summed over its P channels before the chain rule to dt.
  const deltaBar = new DoubleDoubleArray(L);
  const v = new DoubleDouble();
  const sum = new DoubleDouble();
  const forward = new ChannelForward(L, N);
  // The terms of each accumulator, per (t, n) or per t of the channel: see ScaledTerms.
  const [termsA, termsB, termsX, termsC] = [0, 1, 2, 3].map(() => new ScaledTerms(L * N));
  const [termsSkip, termsD, termsZ] = [0, 1, 2].map(() => new ScaledTerms(L));
  const termsInitial = new ScaledTerms(N);
  termsC.scale.fill(1);
  termsInitial.scale.fill(1);

  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < H; h++) {
      headSteps(inputs, options, b, h, delta, decay, chain, resets);
      const A = inputs.A.data[h];
      const g = groupOfHead(h, H, G);
      deltaBar.hi.fill(0);
      deltaBar.lo.fill(0);
      for (let p = 0; p < P; p++) {
        fillChannel(inputs, b, h, p, delta, decay, f, raise ? resets : undefined);
        for (let t = 0; t < L; t++) yBar[t] = counted(yBarAll[((b * L + t) * H + h) * P + p], absolute, raise);
        for (let n = 0; n < N; n++) finalBar[n] = counted(stateBarAll[((b * H + h) * P + p) * N + n], absolute, raise);
        if (raise) f.raise();
        else if (absolute) f.makeAbsolute(decayScale);
        channelVjp(f, channelForward(f, forward), yBar, finalBar, bar);

        const dIndex = dPerChannel ? h * P + p : h;
        const Dvalue = inputs.D === undefined ? 0 : inputs.D.data[dIndex];
        for (let t = 0; t < L; t++) {
          const xIndex = ((b * L + t) * H + h) * P + p;
          const x = inputs.x.data[xIndex];
          const bc = ((b * L + t) * G + g) * N;
          const aA = raise ? raised(decay[t]) * raisedExact(A) : counted(decay[t] * A, absolute, raise);
          const aD = raise ? raised(decay[t]) * raised(delta[t]) : counted(decay[t] * delta[t], absolute, raise);
          deltaBar.get(t, sum);
          for (let n = 0; n < N; n++) {
            const k = t * N + n;
            const B = inputs.B.data[bc + n];
            addProduct(sum, aA, bar.decay.get(k, v));
            addProduct(sum, raise ? raisedExact(B) * raisedExact(x) : counted(B * x, absolute, raise), bar.input.get(k, v));
            termsA.index[k] = h;
            termsA.scale[k] = aD;
            termsB.index[k] = bc + n;
            termsB.scale[k] = raise ? raised(delta[t]) * raisedExact(x) : counted(delta[t] * x, absolute, raise);
            termsX.index[k] = xIndex;
            termsX.scale[k] = raise ? raised(delta[t]) * raisedExact(B) : counted(delta[t] * B, absolute, raise);
            termsC.index[k] = bc + n;
          }
          deltaBar.put(t, sum);
          termsSkip.index[t] = xIndex;
          termsSkip.scale[t] = counted(Dvalue, absolute, raise);
          termsD.index[t] = dIndex;
          termsD.scale[t] = counted(x, absolute, raise);
          if (inputs.z !== undefined) {
            termsZ.index[t] = xIndex;
            termsZ.scale[t] = raise ? raised(siluDerivativeScale(inputs.z.data[xIndex])) : absolute ? siluDerivativeScale(inputs.z.data[xIndex]) : siluDerivative(inputs.z.data[xIndex]);
          }
        }
        // Each accumulator element gets its terms in the formulas' order: x̄ the Σ_n x̄_n terms, then s̄·D.
        termsA.addTo(acc.A, bar.decay);
        termsB.addTo(acc.B, bar.input);
        termsX.addTo(acc.x, bar.input);
        termsC.addTo(acc.C, bar.readout);
        if (inputs.D !== undefined) {
          termsSkip.addTo(acc.x, bar.skip);
          termsD.addTo(acc.D, bar.skip);
        }
        if (inputs.z !== undefined) termsZ.addTo(acc.z, bar.gate);
        if (inputs.initialStates !== undefined) {
          for (let n = 0; n < N; n++) termsInitial.index[n] = ((b * H + h) * P + p) * N + n;
          termsInitial.addTo(acc.initialStates, bar.initial);
        }
      }
      for (let t = 0; t < L; t++) {
        deltaBar.get(t, sum);
        // chain = clamp'·softplus' ∈ [0, 1]: its own value for the scales (≥ 0), raised for the floor's.
        const c = raise ? raised(chain[t]) : chain[t];
        acc.dt.addScaled((b * L + t) * H + h, c, sum);
        if (inputs.dtBias !== undefined) acc.dtBias.addScaled(h, c, sum);
      }
    }
  }
  return Object.fromEntries(Object.entries(acc).map(([name, array]) => [name, array.rounded()]));
}

/** J·v: the tangents of y and finalStates from a tangent of every differentiable input present (absent ones 0). */
export function ssdTangents(inputs: SsdInputs, options: SsdOptions, tangents: Values): { y: Float64Array; finalStates: Float64Array } {
  const { batch, length: L, heads: H, headdim: P, groups: G, stateSize: N } = ssdSizes(inputs.x, inputs.B);
  const tv = (name: string, index: number): number => tangents[name]?.[index] ?? 0;
  const dPerChannel = inputs.D?.shape.length === 2;
  const y = new Float64Array(batch * L * H * P);
  const finalStates = new Float64Array(batch * H * P * N);
  const f = new ChannelFactors(L, N);
  const dot = new ChannelFactors(L, N);
  const delta = new Float64Array(L);
  const decay = new Float64Array(L);
  const chain = new Float64Array(L);
  const yDot = new DoubleDoubleArray(L);
  const finalDot = new DoubleDoubleArray(N);

  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < H; h++) {
      headSteps(inputs, options, b, h, delta, decay, chain);
      const g = groupOfHead(h, H, G);
      for (let p = 0; p < P; p++) {
        fillChannel(inputs, b, h, p, delta, decay, f);
        for (let t = 0; t < L; t++) {
          const xIndex = ((b * L + t) * H + h) * P + p;
          const x = inputs.x.data[xIndex];
          const xDot = tv('x', xIndex);
          const bc = ((b * L + t) * G + g) * N;
          const deltaDot = chain[t] * (tv('dt', (b * L + t) * H + h) + tv('dtBias', h));
          for (let n = 0; n < N; n++) {
            const k = t * N + n;
            const B = inputs.B.data[bc + n];
            dot.decay[k] = decay[t] * (deltaDot * inputs.A.data[h] + delta[t] * tv('A', h));
            dot.input[k] = deltaDot * (B * x) + delta[t] * (tv('B', bc + n) * x + B * xDot);
            dot.readout[k] = tv('C', bc + n);
          }
          const dIndex = dPerChannel ? h * P + p : h;
          dot.skip[t] = inputs.D === undefined ? 0 : tv('D', dIndex) * x + inputs.D.data[dIndex] * xDot;
          dot.gate[t] = inputs.z === undefined ? 0 : siluDerivative(inputs.z.data[xIndex]) * tv('z', xIndex);
        }
        for (let n = 0; n < N; n++) dot.initial[n] = tv('initialStates', ((b * H + h) * P + p) * N + n);
        channelJvp(f, channelForward(f), dot, yDot, finalDot);
        const rounded = yDot.rounded();
        for (let t = 0; t < L; t++) y[((b * L + t) * H + h) * P + p] = rounded[t];
        finalStates.set(finalDot.rounded(), ((b * H + h) * P + p) * N);
      }
    }
  }
  return { y, finalStates };
}
