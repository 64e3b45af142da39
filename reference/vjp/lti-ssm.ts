/**
 * lti-ssm's VJP and JVP reference (spec/gradients.md). Per channel (b, d) the factors of
 * channel-adjoint.ts are a_n = Abar_{d,n} and x_{t,n} = Bbar_{d,n}·u_t, c = C_{d,n}, s = D_d·u_t,
 * g = 1, h0 = 0; the chain rule sums the time-invariant parameters over batch and time:
 *
 *     Abar-bar_{d,n} = Σ_{b,t} ā_{t,n}     Bbar-bar_{d,n} = Σ_{b,t} x̄_{t,n}·u_t     C̄_{d,n} = Σ_{b,t} c̄_{t,n}
 *     D̄_d = Σ_{b,t} s̄_t·u_t               ū_t = Σ_n x̄_{t,n}·Bbar_{d,n} + s̄_t·D_d
 *
 * There is no state output, so the adjoint scan starts from λ = 0 beyond the last token.
 */
import type { LtiSsmInputs } from '../../spec/families.ts';
import { DoubleDouble } from '../double-double.ts';
import { sequenceIndex } from '../scaled-outputs.ts';
import { ChannelCotangents, ChannelFactors, ChannelForward, channelForward, channelJvp, channelVjp, raisedExact, counted } from './channel-adjoint.ts';
import { DoubleDoubleArray } from './double-double-array.ts';
import type { GradientArrays, Values } from './types.ts';

/** The factors of channel (b, d) into f; with `m` = raisedExact, each multiplicand of Bbar·u and D·u raised on its own (the floor scales). */
function fillChannel(inputs: LtiSsmInputs, b: number, d: number, f: ChannelFactors, m: (v: number) => number = (v) => v): void {
  const [, dim, L] = inputs.u.shape;
  const N = f.stateSize;
  for (let t = 0; t < L; t++) {
    const u = m(inputs.u.data[sequenceIndex(dim, L, b, d, t)]);
    for (let n = 0; n < N; n++) {
      f.decay[t * N + n] = inputs.Abar.data[d * N + n];
      f.input[t * N + n] = m(inputs.Bbar.data[d * N + n]) * u;
      f.readout[t * N + n] = inputs.C.data[d * N + n];
    }
    f.skip[t] = inputs.D === undefined ? 0 : m(inputs.D.data[d]) * u;
    f.gate[t] = 1;
  }
  f.initial.fill(0);
}

/**
 * The gradients of every differentiable input present from y's cotangent; with `absolute`, the
 * condition scales (decays times `decayScale`); with `raise`, the floor scales (every factor max(1, |v|)).
 */
export function ltiSsmGradients(inputs: LtiSsmInputs, cotangents: Values, absolute: boolean, decayScale = 1, raise = false): GradientArrays {
  const [batch, dim, L] = inputs.u.shape;
  const N = inputs.Abar.shape[1];
  const m = (v: number): number => counted(v, absolute, raise);
  const acc: Record<string, DoubleDoubleArray> = {};
  for (const [name, tensor] of Object.entries(inputs)) if (tensor !== undefined) acc[name] = new DoubleDoubleArray(tensor.data.length);
  const yBarAll = cotangents.y as Float32Array | Float64Array;
  const f = new ChannelFactors(L, N);
  const bar = new ChannelCotangents(L, N);
  const forward = new ChannelForward(L, N);
  const yBar = new Float64Array(L);
  const finalBar = new Float64Array(N);
  const v = new DoubleDouble();

  for (let b = 0; b < batch; b++) {
    for (let d = 0; d < dim; d++) {
      fillChannel(inputs, b, d, f, raise ? raisedExact : undefined);
      for (let t = 0; t < L; t++) yBar[t] = m(yBarAll[sequenceIndex(dim, L, b, d, t)]);
      if (raise) f.raise();
      else if (absolute) f.makeAbsolute(decayScale);
      channelVjp(f, channelForward(f, forward), yBar, finalBar, bar);
      for (let t = 0; t < L; t++) {
        const i = sequenceIndex(dim, L, b, d, t);
        const u = inputs.u.data[i];
        for (let n = 0; n < N; n++) {
          const k = t * N + n;
          acc.Abar.addScaled(d * N + n, 1, bar.decay.get(k, v));
          bar.input.get(k, v);
          acc.Bbar.addScaled(d * N + n, m(u), v);
          acc.u.addScaled(i, m(inputs.Bbar.data[d * N + n]), v);
          acc.C.addScaled(d * N + n, 1, bar.readout.get(k, v));
        }
        if (inputs.D !== undefined) {
          bar.skip.get(t, v);
          acc.u.addScaled(i, m(inputs.D.data[d]), v);
          acc.D.addScaled(d, m(u), v);
        }
      }
    }
  }
  return Object.fromEntries(Object.entries(acc).map(([name, array]) => [name, array.rounded()]));
}

/** J·v: the tangent of y from a tangent of every differentiable input present (absent ones 0). */
export function ltiSsmTangents(inputs: LtiSsmInputs, tangents: Values): { y: Float64Array } {
  const [batch, dim, L] = inputs.u.shape;
  const N = inputs.Abar.shape[1];
  const tv = (name: string, index: number): number => tangents[name]?.[index] ?? 0;
  const y = new Float64Array(batch * dim * L);
  const f = new ChannelFactors(L, N);
  const dot = new ChannelFactors(L, N);
  const yDot = new DoubleDoubleArray(L);
  const finalDot = new DoubleDoubleArray(N);
  for (let b = 0; b < batch; b++) {
    for (let d = 0; d < dim; d++) {
      fillChannel(inputs, b, d, f);
      for (let t = 0; t < L; t++) {
        const i = sequenceIndex(dim, L, b, d, t);
        const u = inputs.u.data[i];
        const uDot = tv('u', i);
        for (let n = 0; n < N; n++) {
          const k = t * N + n;
          dot.decay[k] = tv('Abar', d * N + n);
          dot.input[k] = tv('Bbar', d * N + n) * u + inputs.Bbar.data[d * N + n] * uDot;
          dot.readout[k] = tv('C', d * N + n);
        }
        dot.skip[t] = inputs.D === undefined ? 0 : tv('D', d) * u + inputs.D.data[d] * uDot;
        dot.gate[t] = 0;
      }
      dot.initial.fill(0);
      channelJvp(f, channelForward(f), dot, yDot, finalDot);
      const rounded = yDot.rounded();
      for (let t = 0; t < L; t++) y[sequenceIndex(dim, L, b, d, t)] = rounded[t];
    }
  }
  return { y };
}
