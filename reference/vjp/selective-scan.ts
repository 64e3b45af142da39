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
import { dimensionsOf, projectionIndex, projectionLayout } from '../../spec/shapes.ts';
import { DoubleDouble, addProduct } from '../double-double.ts';
import { sequenceIndex } from '../scaled-outputs.ts';
import { ChannelCotangents, ChannelFactors, channelForward, channelJvp, channelVjp } from './channel-adjoint.ts';
import { siluDerivative, siluDerivativeScale, softplusDerivative } from './derivatives.ts';
import { DoubleDoubleArray } from './double-double-array.ts';
import type { GradientArrays, Values } from './types.ts';

/** Whether the state resets at token t of row b: seqIdx changes there (t ≥ 1). */
function resetsAt(inputs: SelectiveScanInputs, L: number, b: number, t: number): boolean {
  const ids = inputs.seqIdx?.data;
  return ids !== undefined && t > 0 && ids[b * L + t] !== ids[b * L + t - 1];
}

/** The forward factors of channel (b, d) into f; returns nothing, fills shifted (δ) and delta (Δ) per t. */
function fillChannel(inputs: SelectiveScanInputs, options: SelectiveScanOptions, b: number, d: number, f: ChannelFactors, shifted: Float64Array, delta: Float64Array): void {
  const dims = dimensionsOf({ family: 'selective-scan', inputs, options });
  const { dim, length: L, stateSize: N } = dims;
  const layoutB = projectionLayout(inputs.B.shape);
  const layoutC = projectionLayout(inputs.C.shape);
  for (let t = 0; t < L; t++) {
    const i = sequenceIndex(dim, L, b, d, t);
    const u = inputs.u.data[i];
    shifted[t] = inputs.delta.data[i] + (inputs.deltaBias?.data[d] ?? 0);
    delta[t] = options.deltaSoftplus ? softplus(shifted[t]) : shifted[t];
    // At a reset the decay is the constant 0, never exp(…)·0 (NaN after an overflow).
    const reset = resetsAt(inputs, L, b, t);
    for (let n = 0; n < N; n++) {
      f.decay[t * N + n] = reset ? 0 : Math.exp(delta[t] * inputs.A.data[d * N + n]);
      f.input[t * N + n] = delta[t] * (inputs.B.data[projectionIndex(layoutB, dims, b, d, n, t)] * u);
      f.readout[t * N + n] = inputs.C.data[projectionIndex(layoutC, dims, b, d, n, t)];
    }
    f.skip[t] = inputs.D === undefined ? 0 : inputs.D.data[d] * u;
    f.gate[t] = inputs.z === undefined ? 1 : silu(inputs.z.data[i]);
  }
  for (let n = 0; n < N; n++) f.initial[n] = inputs.h0 === undefined ? 0 : inputs.h0.data[(b * dim + d) * N + n];
}

/**
 * The gradients of every differentiable input present, from the cotangents of y and lastState;
 * with `absolute`, the same computation on absolute values: the condition scales
 * (every decay also multiplied by `decayScale`, for the depth scale).
 */
export function selectiveScanGradients(inputs: SelectiveScanInputs, options: SelectiveScanOptions, cotangents: Values, absolute: boolean, decayScale = 1): GradientArrays {
  const dims = dimensionsOf({ family: 'selective-scan', inputs, options });
  const { batch, dim, length: L, stateSize: N } = dims;
  const layoutB = projectionLayout(inputs.B.shape);
  const layoutC = projectionLayout(inputs.C.shape);
  const m = absolute ? Math.abs : (v: number): number => v;
  const acc: Record<string, DoubleDoubleArray> = {};
  for (const [name, tensor] of Object.entries(inputs)) if (tensor !== undefined && name !== 'seqIdx') acc[name] = new DoubleDoubleArray(tensor.data.length);
  const yBarAll = cotangents.y as Float32Array | Float64Array;
  const stateBarAll = cotangents.lastState as Float32Array | Float64Array;

  const f = new ChannelFactors(L, N);
  const bar = new ChannelCotangents(L, N);
  const yBar = new Float64Array(L);
  const finalBar = new Float64Array(N);
  const shifted = new Float64Array(L);
  const delta = new Float64Array(L);
  const deltaBar = new DoubleDouble();
  const v = new DoubleDouble();

  for (let b = 0; b < batch; b++) {
    for (let d = 0; d < dim; d++) {
      fillChannel(inputs, options, b, d, f, shifted, delta);
      for (let t = 0; t < L; t++) yBar[t] = m(yBarAll[sequenceIndex(dim, L, b, d, t)]);
      for (let n = 0; n < N; n++) finalBar[n] = m(stateBarAll[(b * dim + d) * N + n]);
      if (absolute) f.makeAbsolute(decayScale);
      channelVjp(f, channelForward(f), yBar, finalBar, bar);

      for (let t = 0; t < L; t++) {
        const i = sequenceIndex(dim, L, b, d, t);
        const u = inputs.u.data[i];
        const D = delta[t];
        const reset = resetsAt(inputs, L, b, t);
        deltaBar.set(0);
        for (let n = 0; n < N; n++) {
          const k = t * N + n;
          const A = inputs.A.data[d * N + n];
          const bIndex = projectionIndex(layoutB, dims, b, d, n, t);
          const B = inputs.B.data[bIndex];
          // A reset's decay is the constant 0: nothing flows to Δ or A through it.
          if (!reset) {
            const a = Math.exp(D * A);
            bar.decay.get(k, v);
            addProduct(deltaBar, m(a * A), v);
            acc.A.addScaled(d * N + n, m(a * D), v);
          }
          bar.input.get(k, v);
          addProduct(deltaBar, m(B * u), v);
          acc.B.addScaled(bIndex, m(D * u), v);
          acc.u.addScaled(i, m(D * B), v);
          acc.C.addScaled(projectionIndex(layoutC, dims, b, d, n, t), 1, bar.readout.get(k, v));
        }
        if (inputs.D !== undefined) {
          bar.skip.get(t, v);
          acc.u.addScaled(i, m(inputs.D.data[d]), v);
          acc.D.addScaled(d, m(u), v);
        }
        if (inputs.z !== undefined) acc.z.addScaled(i, absolute ? siluDerivativeScale(inputs.z.data[i]) : siluDerivative(inputs.z.data[i]), bar.gate.get(t, v));
        const chain = options.deltaSoftplus ? softplusDerivative(shifted[t]) : 1;
        acc.delta.addScaled(i, chain, deltaBar);
        if (inputs.deltaBias !== undefined) acc.deltaBias.addScaled(d, chain, deltaBar);
      }
      if (inputs.h0 !== undefined) {
        for (let n = 0; n < N; n++) acc.h0.addScaled((b * dim + d) * N + n, 1, bar.initial.get(n, v));
      }
    }
  }
  return Object.fromEntries(Object.entries(acc).map(([name, array]) => [name, array.rounded()]));
}

/** J·v: the tangents of y and lastState from a tangent of every differentiable input present (absent ones 0). */
export function selectiveScanTangents(inputs: SelectiveScanInputs, options: SelectiveScanOptions, tangents: Values): { y: Float64Array; lastState: Float64Array } {
  const dims = dimensionsOf({ family: 'selective-scan', inputs, options });
  const { batch, dim, length: L, stateSize: N } = dims;
  const layoutB = projectionLayout(inputs.B.shape);
  const layoutC = projectionLayout(inputs.C.shape);
  const tv = (name: string, index: number): number => tangents[name]?.[index] ?? 0;
  const y = new Float64Array(batch * dim * L);
  const lastState = new Float64Array(batch * dim * N);
  const f = new ChannelFactors(L, N);
  const dot = new ChannelFactors(L, N);
  const shifted = new Float64Array(L);
  const delta = new Float64Array(L);
  const yDot = new DoubleDoubleArray(L);
  const finalDot = new DoubleDoubleArray(N);

  for (let b = 0; b < batch; b++) {
    for (let d = 0; d < dim; d++) {
      fillChannel(inputs, options, b, d, f, shifted, delta);
      for (let t = 0; t < L; t++) {
        const i = sequenceIndex(dim, L, b, d, t);
        const u = inputs.u.data[i];
        const uDot = tv('u', i);
        const deltaDot = (options.deltaSoftplus ? softplusDerivative(shifted[t]) : 1) * (tv('delta', i) + tv('deltaBias', d));
        for (let n = 0; n < N; n++) {
          const k = t * N + n;
          const bIndex = projectionIndex(layoutB, dims, b, d, n, t);
          const B = inputs.B.data[bIndex];
          dot.decay[k] = f.decay[k] * (deltaDot * inputs.A.data[d * N + n] + delta[t] * tv('A', d * N + n));
          dot.input[k] = deltaDot * (B * u) + delta[t] * (tv('B', bIndex) * u + B * uDot);
          dot.readout[k] = tv('C', projectionIndex(layoutC, dims, b, d, n, t));
        }
        dot.skip[t] = inputs.D === undefined ? 0 : tv('D', d) * u + inputs.D.data[d] * uDot;
        dot.gate[t] = inputs.z === undefined ? 0 : siluDerivative(inputs.z.data[i]) * tv('z', i);
      }
      for (let n = 0; n < N; n++) dot.initial[n] = tv('h0', (b * dim + d) * N + n);
      channelJvp(f, channelForward(f), dot, yDot, finalDot);
      const rounded = yDot.rounded();
      for (let t = 0; t < L; t++) y[sequenceIndex(dim, L, b, d, t)] = rounded[t];
      lastState.set(finalDot.rounded(), (b * dim + d) * N);
    }
  }
  return { y, lastState };
}
