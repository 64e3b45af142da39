/**
 * selective-scan's VJP and JVP reference (spec/gradients.md). Per channel (b, d) the factors of
 * channel-adjoint.ts are a_{t,n} = exp(Δ_t·A_{d,n}), x_{t,n} = Δ_t·(B_{n,t}·u_t), c = C_{n,t},
 * s = D_d·u_t, g = silu(z_t), h0 = h0_{b,d}; the chain rule back to the inputs:
 *
 *     Δ̄_t = Σ_n ā_{t,n}·a_{t,n}·A_{d,n} + x̄_{t,n}·B_{n,t}·u_t
 *     Ā_{d,n} = Σ_{b,t} ā·a·Δ     B̄ += x̄·Δ·u (summed over what the layout shares)     C̄ += c̄
 *     ū_t = Σ_n x̄·Δ·B + s̄·D      D̄_d = Σ_{b,t} s̄·u     z̄ = ḡ·silu'(z)
 *     delta-bar = Δ̄·softplus'(δ) (or Δ̄),   deltaBias-bar_d = Σ_{b,t} delta-bar,   h0-bar = h̄0
 *
 * seqIdx gets no gradient. A reset contributes nothing through a: its derivative r·exp(Δ·A)·(…) is
 * 0 there, as in ssd.ts. Factors and partial derivatives are float64 (as the forward reference's); every sum and the
 * adjoint scan are double-double, rounded once.
 */
import type { SelectiveScanInputs, SelectiveScanOptions } from '../../spec/families.ts';
import { silu, softplus } from '../../spec/families/selective-scan/discretization.ts';
import { dimensionsOf, projectionIndex, projectionLayout, type Dimensions, type ProjectionLayout } from '../../spec/shapes.ts';
import { DoubleDouble, addProduct } from '../double-double.ts';
import { sequenceIndex } from '../scaled-outputs.ts';
import { ChannelCotangents, ChannelFactors, ChannelForward, channelForward, channelJvp, channelVjp, raised, raisedExact, counted } from './channel-adjoint.ts';
import { siluDerivative, siluDerivativeScale, softplusDerivative } from './derivatives.ts';
import { DoubleDoubleArray, ScaledTerms } from './double-double-array.ts';
import type { GradientArrays, Values } from './types.ts';

/** What every channel of a problem shares: its dimensions and B/C layouts, computed once. */
interface ProblemShape {
  readonly dims: Dimensions;
  readonly layoutB: ProjectionLayout;
  readonly layoutC: ProjectionLayout;
}

/** The dimensions and B/C layouts of a problem. */
function shapeOf(inputs: SelectiveScanInputs, options: SelectiveScanOptions): ProblemShape {
  return { dims: dimensionsOf({ family: 'selective-scan', inputs, options }), layoutB: projectionLayout(inputs.B.shape), layoutC: projectionLayout(inputs.C.shape) };
}

/**
 * Per token of the current channel: δ (shifted), Δ (delta), whether the state resets, and per
 * (t, n) the indices of B and C and the decay exp(Δ·A) before any absolute value: what the chain
 * rule reads back after the adjoint, kept so that it is computed once per channel.
 */
class ChannelSteps {
  readonly shifted: Float64Array;
  readonly delta: Float64Array;
  readonly resets: Uint8Array;
  readonly bIndex: Int32Array;
  readonly cIndex: Int32Array;
  readonly decay: Float64Array;
  readonly u: Float64Array;

  /** Room for a channel of `length` tokens and `stateSize` states. */
  constructor(length: number, stateSize: number) {
    this.u = new Float64Array(length);
    this.shifted = new Float64Array(length);
    this.delta = new Float64Array(length);
    this.resets = new Uint8Array(length);
    this.bIndex = new Int32Array(length * stateSize);
    this.cIndex = new Int32Array(length * stateSize);
    this.decay = new Float64Array(length * stateSize);
  }
}

/** The forward factors of channel (b, d) into f, and its steps (δ, Δ, resets, B/C indices, decays) into s. */
function fillChannel(inputs: SelectiveScanInputs, options: SelectiveScanOptions, shape: ProblemShape, b: number, d: number, f: ChannelFactors, s: ChannelSteps): void {
  const { dims, layoutB, layoutC } = shape;
  const { dim, length: L, stateSize: N } = dims;
  const ids = inputs.seqIdx?.data;
  const bias = inputs.deltaBias?.data[d] ?? 0;
  for (let t = 0; t < L; t++) {
    const i = sequenceIndex(dim, L, b, d, t);
    const u = inputs.u.data[i];
    const shifted = inputs.delta.data[i] + bias;
    const delta = options.deltaSoftplus ? softplus(shifted) : shifted;
    s.u[t] = u;
    s.shifted[t] = shifted;
    s.delta[t] = delta;
    // The state resets at token t of row b where seqIdx changes (t ≥ 1). There the decay is the
    // constant 0, never exp(…)·0 (NaN after an overflow).
    const reset = ids !== undefined && t > 0 && ids[b * L + t] !== ids[b * L + t - 1];
    s.resets[t] = reset ? 1 : 0;
    for (let n = 0; n < N; n++) {
      const k = t * N + n;
      const bIndex = projectionIndex(layoutB, dims, b, d, n, t);
      const cIndex = projectionIndex(layoutC, dims, b, d, n, t);
      s.bIndex[k] = bIndex;
      s.cIndex[k] = cIndex;
      const a = reset ? 0 : Math.exp(delta * inputs.A.data[d * N + n]);
      s.decay[k] = a;
      f.decay[k] = a;
      f.input[k] = delta * (inputs.B.data[bIndex] * u);
      f.readout[k] = inputs.C.data[cIndex];
    }
    f.skip[t] = inputs.D === undefined ? 0 : inputs.D.data[d] * u;
    f.gate[t] = inputs.z === undefined ? 1 : silu(inputs.z.data[i]);
  }
  for (let n = 0; n < N; n++) f.initial[n] = inputs.h0 === undefined ? 0 : inputs.h0.data[(b * dim + d) * N + n];
}

/**
 * A channel's computed factors raised (ChannelFactors.raise keeps zeros): the decays but a
 * reset's, the gate, and the products Δ·(B·u) and D·u as the products of their raised multiplicands.
 */
function raiseComputedFactors(inputs: SelectiveScanInputs, steps: ChannelSteps, f: ChannelFactors, d: number): void {
  const { length: L, stateSize: N } = f;
  for (let t = 0; t < L; t++) {
    const u = raisedExact(steps.u[t]);
    for (let n = 0; n < N; n++) {
      const k = t * N + n;
      f.decay[k] = steps.resets[t] === 1 ? 0 : raised(steps.decay[k]);
      f.input[k] = raised(steps.delta[t]) * raisedExact(inputs.B.data[steps.bIndex[k]]) * u;
    }
    if (inputs.D !== undefined) f.skip[t] = raisedExact(inputs.D.data[d]) * u;
    f.gate[t] = raised(f.gate[t]);
  }
}

/**
 * The gradients of every differentiable input present, from the cotangents of y and lastState;
 * with `absolute`, the same computation on absolute values: the condition scales
 * (every decay also multiplied by `decayScale`, for the depth scale); with `raise`, the floor
 * scales: every factor, each multiplicand of a product (Δ·B·u, D·u, a·A …) on its own, max(1, |v|).
 */
export function selectiveScanGradients(inputs: SelectiveScanInputs, options: SelectiveScanOptions, cotangents: Values, absolute: boolean, decayScale = 1, raise = false): GradientArrays {
  // An input's value counts as itself, its absolute value (condition scales) or raisedExact (floor
  // scales): `counted`. A product's multiplicands are raised each on its own, a computed one (a, Δ)
  // to at least 1: an absolute error's co-factor may drop either.
  const shape = shapeOf(inputs, options);
  const { batch, dim, length: L, stateSize: N } = shape.dims;
  const made: Record<string, DoubleDoubleArray> = {};
  for (const [name, tensor] of Object.entries(inputs)) if (tensor !== undefined && name !== 'seqIdx') made[name] = new DoubleDoubleArray(tensor.data.length);
  // The accumulators of the optional inputs exist exactly when the inputs do (checked before each use).
  const acc = made as Record<'A' | 'B' | 'C' | 'u' | 'delta' | 'D' | 'z' | 'deltaBias' | 'h0', DoubleDoubleArray>;
  const yBarAll = cotangents.y as Float32Array | Float64Array;
  const stateBarAll = cotangents.lastState as Float32Array | Float64Array;
  const Adata = inputs.A.data;
  const Bdata = inputs.B.data;

  const f = new ChannelFactors(L, N);
  const steps = new ChannelSteps(L, N);
  const forward = new ChannelForward(L, N);
  const bar = new ChannelCotangents(L, N);
  const yBar = new Float64Array(L);
  const finalBar = new Float64Array(N);
  // The terms of each accumulator, per (t, n) or per t of the channel: see ScaledTerms.
  const [termsA, termsB, termsU, termsC] = [0, 1, 2, 3].map(() => new ScaledTerms(L * N));
  const [termsSkip, termsD, termsZ, termsDelta, termsDeltaBias] = [0, 1, 2, 3, 4].map(() => new ScaledTerms(L));
  const termsH0 = new ScaledTerms(N);
  termsC.scale.fill(1);
  termsH0.scale.fill(1);
  const deltaBar = new DoubleDoubleArray(L);
  const sum = new DoubleDouble();
  const v = new DoubleDouble();

  for (let b = 0; b < batch; b++) {
    for (let d = 0; d < dim; d++) {
      fillChannel(inputs, options, shape, b, d, f, steps);
      for (let t = 0; t < L; t++) yBar[t] = counted(yBarAll[sequenceIndex(dim, L, b, d, t)], absolute, raise);
      for (let n = 0; n < N; n++) finalBar[n] = counted(stateBarAll[(b * dim + d) * N + n], absolute, raise);
      if (raise) {
        raiseComputedFactors(inputs, steps, f, d);
        f.raise();
      } else if (absolute) f.makeAbsolute(decayScale);
      channelVjp(f, channelForward(f, forward), yBar, finalBar, bar);

      const { delta, shifted, resets, bIndex, cIndex, decay } = steps;
      const Dd = inputs.D === undefined ? 0 : inputs.D.data[d];
      for (let t = 0; t < L; t++) {
        const i = sequenceIndex(dim, L, b, d, t);
        const u = inputs.u.data[i];
        const D = delta[t];
        const reset = resets[t] === 1;
        sum.set(0);
        for (let n = 0; n < N; n++) {
          const k = t * N + n;
          const A = Adata[d * N + n];
          const B = Bdata[bIndex[k]];
          const a = decay[k];
          // A reset's decay is the constant 0: nothing flows to Δ or A through it.
          if (!reset) addProduct(sum, raise ? raised(a) * raisedExact(A) : counted(a * A, absolute, raise), bar.decay.get(k, v));
          addProduct(sum, raise ? raisedExact(B) * raisedExact(u) : counted(B * u, absolute, raise), bar.input.get(k, v));
          termsA.index[k] = reset ? -1 : d * N + n;
          termsA.scale[k] = raise ? raised(a) * raised(D) : counted(a * D, absolute, raise);
          termsB.index[k] = bIndex[k];
          termsB.scale[k] = raise ? raised(D) * raisedExact(u) : counted(D * u, absolute, raise);
          termsU.index[k] = i;
          termsU.scale[k] = raise ? raised(D) * raisedExact(B) : counted(D * B, absolute, raise);
          termsC.index[k] = cIndex[k];
        }
        deltaBar.put(t, sum);
        termsSkip.index[t] = i;
        termsSkip.scale[t] = counted(Dd, absolute, raise);
        termsD.index[t] = d;
        termsD.scale[t] = counted(u, absolute, raise);
        if (inputs.z !== undefined) {
          termsZ.index[t] = i;
          termsZ.scale[t] = raise ? raised(siluDerivativeScale(inputs.z.data[i])) : absolute ? siluDerivativeScale(inputs.z.data[i]) : siluDerivative(inputs.z.data[i]);
        }
        termsDelta.index[t] = i;
        termsDelta.scale[t] = raise ? 1 : options.deltaSoftplus ? softplusDerivative(shifted[t]) : 1;
        termsDeltaBias.index[t] = d;
        termsDeltaBias.scale[t] = termsDelta.scale[t];
      }
      // Each accumulator element gets its terms in the formulas' order: ū_t the Σ_n x̄ terms, then s̄·D.
      termsA.addTo(acc.A, bar.decay);
      termsB.addTo(acc.B, bar.input);
      termsU.addTo(acc.u, bar.input);
      termsC.addTo(acc.C, bar.readout);
      if (inputs.D !== undefined) {
        termsSkip.addTo(acc.u, bar.skip);
        termsD.addTo(acc.D, bar.skip);
      }
      if (inputs.z !== undefined) termsZ.addTo(acc.z, bar.gate);
      termsDelta.addTo(acc.delta, deltaBar);
      if (inputs.deltaBias !== undefined) termsDeltaBias.addTo(acc.deltaBias, deltaBar);
      if (inputs.h0 !== undefined) {
        for (let n = 0; n < N; n++) termsH0.index[n] = (b * dim + d) * N + n;
        termsH0.addTo(acc.h0, bar.initial);
      }
    }
  }
  return Object.fromEntries(Object.entries(made).map(([name, array]) => [name, array.rounded()]));
}

/** J·v: the tangents of y and lastState from a tangent of every differentiable input present (absent ones 0). */
export function selectiveScanTangents(inputs: SelectiveScanInputs, options: SelectiveScanOptions, tangents: Values): { y: Float64Array; lastState: Float64Array } {
  const shape = shapeOf(inputs, options);
  const { batch, dim, length: L, stateSize: N } = shape.dims;
  const tv = (name: string, index: number): number => tangents[name]?.[index] ?? 0;
  const y = new Float64Array(batch * dim * L);
  const lastState = new Float64Array(batch * dim * N);
  const f = new ChannelFactors(L, N);
  const dot = new ChannelFactors(L, N);
  const steps = new ChannelSteps(L, N);
  const forward = new ChannelForward(L, N);
  const { shifted, delta } = steps;
  const yDot = new DoubleDoubleArray(L);
  const finalDot = new DoubleDoubleArray(N);

  for (let b = 0; b < batch; b++) {
    for (let d = 0; d < dim; d++) {
      fillChannel(inputs, options, shape, b, d, f, steps);
      for (let t = 0; t < L; t++) {
        const i = sequenceIndex(dim, L, b, d, t);
        const u = inputs.u.data[i];
        const uDot = tv('u', i);
        const deltaDot = (options.deltaSoftplus ? softplusDerivative(shifted[t]) : 1) * (tv('delta', i) + tv('deltaBias', d));
        for (let n = 0; n < N; n++) {
          const k = t * N + n;
          const bIndex = steps.bIndex[k];
          const B = inputs.B.data[bIndex];
          dot.decay[k] = f.decay[k] * (deltaDot * inputs.A.data[d * N + n] + delta[t] * tv('A', d * N + n));
          dot.input[k] = deltaDot * (B * u) + delta[t] * (tv('B', bIndex) * u + B * uDot);
          dot.readout[k] = tv('C', steps.cIndex[k]);
        }
        dot.skip[t] = inputs.D === undefined ? 0 : tv('D', d) * u + inputs.D.data[d] * uDot;
        dot.gate[t] = inputs.z === undefined ? 0 : siluDerivative(inputs.z.data[i]) * tv('z', i);
      }
      for (let n = 0; n < N; n++) dot.initial[n] = tv('h0', (b * dim + d) * N + n);
      channelJvp(f, channelForward(f, forward), dot, yDot, finalDot);
      const rounded = yDot.rounded();
      for (let t = 0; t < L; t++) y[sequenceIndex(dim, L, b, d, t)] = rounded[t];
      lastState.set(finalDot.rounded(), (b * dim + d) * N);
    }
  }
  return { y, lastState };
}
