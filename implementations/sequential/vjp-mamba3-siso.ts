/**
 * The sequential backward kernel (VJP) of mamba3-siso, float64 or float32 (`round` after every
 * operation): per head, the forward recomputed in the forward kernel's order (mamba3-siso.ts),
 * S_{t−1} stored for every t, then the adjoint of spec/gradients.md ("mamba3-siso") in reverse
 * time, carrying S̄, θ̄ and the cotangents of the previous token's k̃ and ṽ. Shared parameters
 * (Q, K over a block's heads, QBias, KBias, D over batch and time) are accumulated in loop order.
 */
import type { Mamba3SisoInputs } from '../../spec/families.ts';
import { mamba3SisoSizes, qkHeadOfHead } from '../../spec/families/mamba3-siso/dimensions.ts';
import type { Round } from './kernels.ts';

type Data = Float32Array | Float64Array;

/** The gradients (float64 arrays holding values of the kernel's precision) of every differentiable input present, from the cotangents. */
export function mamba3SisoVjp(round: Round, inputs: Mamba3SisoInputs, cot: Readonly<Record<string, Data>>): Record<string, Float64Array> {
  const { batch, length: L, heads: H, headdim: P, groups: G, stateSize: N, angles: A } = mamba3SisoSizes(inputs.V, inputs.Q, inputs.Angles);
  const acc: Record<string, Float64Array> = {};
  for (const [name, t] of Object.entries(inputs)) if (t !== undefined) acc[name] = new Float64Array(t.data.length);
  const add = (name: string, i: number, v: number): void => {
    acc[name][i] = round(acc[name][i] + v);
  };
  const { Q, K, V, ADT, DT, Trap, QBias, KBias, Angles, D, Z } = inputs;
  const half = N / 2;
  const twoPi = round(2 * Math.PI);
  const pi = round(Math.PI);
  const S = new Float64Array((L + 1) * P * N);
  const [alphaT, lambdaT, betaT, gammaT] = [new Float64Array(L), new Float64Array(L), new Float64Array(L), new Float64Array(L)];
  const tanhT = new Float64Array(L * A);
  const phiT = new Float64Array(L * A);
  const [cosT, sinT] = [new Float64Array(L * half), new Float64Array(L * half)];
  const [qHat, kHat, kPrevT] = [new Float64Array(L * N), new Float64Array(L * N), new Float64Array(L * N)];
  const vPrevT = new Float64Array(L * P);
  const oT = new Float64Array(L * P);
  const theta = new Float64Array(A);
  const [Sbar, thetaBar, kCarry, vCarry] = [new Float64Array(P * N), new Float64Array(A), new Float64Array(N), new Float64Array(P)];
  const [qHatBar, kHatBar, kPrevBar, vPrevBar, oBar, vBar] = [new Float64Array(N), new Float64Array(N), new Float64Array(N), new Float64Array(P), new Float64Array(P), new Float64Array(P)];

  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < H; h++) {
      const head = b * H + h;
      const g = qkHeadOfHead(h, H, G);
      // Forward, in mamba3-siso.ts's order.
      for (let i = 0; i < A; i++) theta[i] = inputs.angleState?.data[head * A + i] ?? 0;
      for (let j = 0; j < P * N; j++) S[j] = inputs.ssmState?.data[head * P * N + j] ?? 0;
      const kPrev = Float64Array.from({ length: N }, (_, n) => inputs.kState?.data[head * N + n] ?? 0);
      const vPrev = Float64Array.from({ length: P }, (_, p) => inputs.vState?.data[head * P + p] ?? 0);
      for (let t = 0; t < L; t++) {
        const at = head * L + t;
        const delta = DT.data[at];
        const alpha = round(Math.exp(ADT.data[at]));
        const lambda = round(1 / round(1 + round(Math.exp(-Trap.data[at]))));
        [alphaT[t], lambdaT[t]] = [alpha, lambda];
        betaT[t] = round(round(round(1 - lambda) * delta) * alpha);
        gammaT[t] = round(lambda * delta);
        for (let i = 0; i < A; i++) {
          const th = round(Math.tanh(Angles.data[((b * L + t) * H + h) * A + i]));
          tanhT[t * A + i] = th;
          phiT[t * A + i] = round(th * pi);
          const sum = round(theta[i] + round(phiT[t * A + i] * delta));
          theta[i] = round(sum - round(twoPi * Math.floor(round(sum / twoPi))));
        }
        const qk = ((b * L + t) * G + g) * N;
        for (let j = 0; j < half; j++) {
          const c = j < A ? round(Math.cos(theta[j])) : 1;
          const s = j < A ? round(Math.sin(theta[j])) : 0;
          [cosT[t * half + j], sinT[t * half + j]] = [c, s];
          for (const [src, bias, rot] of [
            [Q.data, QBias.data, qHat],
            [K.data, KBias.data, kHat],
          ] as const) {
            const x0 = round(src[qk + 2 * j] + bias[h * N + 2 * j]);
            const x1 = round(src[qk + 2 * j + 1] + bias[h * N + 2 * j + 1]);
            rot[t * N + 2 * j] = round(round(x0 * c) - round(x1 * s));
            rot[t * N + 2 * j + 1] = round(round(x0 * s) + round(x1 * c));
          }
        }
        kPrevT.set(kPrev, t * N);
        vPrevT.set(vPrev, t * P);
        const vt = ((b * L + t) * H + h) * P;
        for (let p = 0; p < P; p++) {
          const v = V.data[vt + p];
          const previous = round(betaT[t] * vPrev[p]);
          const current = round(gammaT[t] * v);
          let o = 0;
          for (let n = 0; n < N; n++) {
            const j = p * N + n;
            const s = round(round(round(alpha * S[t * P * N + j]) + round(previous * kPrev[n])) + round(current * kHat[t * N + n]));
            S[(t + 1) * P * N + j] = s;
            o = round(o + round(s * qHat[t * N + n]));
          }
          if (D !== undefined) o = round(o + round(D.data[h] * v));
          oT[t * P + p] = o;
        }
        kPrev.set(kHat.subarray(t * N, (t + 1) * N));
        for (let p = 0; p < P; p++) vPrev[p] = V.data[vt + p];
      }
      // Adjoint, t = L−1 … 0.
      for (let j = 0; j < P * N; j++) Sbar[j] = cot.finalSsmState[head * P * N + j];
      for (let i = 0; i < A; i++) thetaBar[i] = cot.finalAngleState[head * A + i];
      for (let n = 0; n < N; n++) kCarry[n] = cot.finalKState[head * N + n];
      for (let p = 0; p < P; p++) vCarry[p] = cot.finalVState[head * P + p];
      for (let t = L - 1; t >= 0; t--) {
        const at = head * L + t;
        const vt = ((b * L + t) * H + h) * P;
        const [alpha, lambda, beta, gamma, delta] = [alphaT[t], lambdaT[t], betaT[t], gammaT[t], DT.data[at]];
        for (let p = 0; p < P; p++) {
          const yBar = cot.y[vt + p];
          const v = V.data[vt + p];
          if (Z !== undefined) {
            const z = Z.data[vt + p];
            const sg = round(1 / round(1 + round(Math.exp(-z))));
            oBar[p] = round(yBar * round(z * sg));
            const siluGrad = round(sg * round(1 + round(z * round(1 - sg))));
            acc.Z[vt + p] = round(round(yBar * oT[t * P + p]) * siluGrad);
          } else oBar[p] = yBar;
          vBar[p] = vCarry[p];
          if (D !== undefined) {
            add('D', h, round(oBar[p] * v));
            vBar[p] = round(vBar[p] + round(D.data[h] * oBar[p]));
          }
          for (let n = 0; n < N; n++) Sbar[p * N + n] = round(Sbar[p * N + n] + round(oBar[p] * qHat[t * N + n]));
        }
        for (let n = 0; n < N; n++) {
          let sum = 0;
          for (let p = 0; p < P; p++) sum = round(sum + round(S[(t + 1) * P * N + p * N + n] * oBar[p]));
          qHatBar[n] = sum;
          kHatBar[n] = kCarry[n];
          kPrevBar[n] = 0;
        }
        let [alphaBar, betaBar, gammaBar] = [0, 0, 0];
        for (let p = 0; p < P; p++) {
          const v = V.data[vt + p];
          const vp = vPrevT[t * P + p];
          let vPrevSum = 0;
          let vSum = 0;
          for (let n = 0; n < N; n++) {
            const sb = Sbar[p * N + n];
            alphaBar = round(alphaBar + round(sb * S[t * P * N + p * N + n]));
            const kp = kPrevT[t * N + n];
            const kh = kHat[t * N + n];
            betaBar = round(betaBar + round(round(sb * vp) * kp));
            gammaBar = round(gammaBar + round(round(sb * v) * kh));
            vPrevSum = round(vPrevSum + round(sb * kp));
            vSum = round(vSum + round(sb * kh));
            kPrevBar[n] = round(kPrevBar[n] + round(beta * round(sb * vp)));
            kHatBar[n] = round(kHatBar[n] + round(gamma * round(sb * v)));
            Sbar[p * N + n] = round(alpha * sb);
          }
          vPrevBar[p] = round(beta * vPrevSum);
          vBar[p] = round(vBar[p] + round(gamma * vSum));
          acc.V[vt + p] = vBar[p];
        }
        const qk = ((b * L + t) * G + g) * N;
        for (let j = 0; j < half; j++) {
          const [c, s] = [cosT[t * half + j], sinT[t * half + j]];
          for (const [bar, rot, src, bias] of [
            [qHatBar, qHat, 'Q', 'QBias'],
            [kHatBar, kHat, 'K', 'KBias'],
          ] as const) {
            const [b0, b1] = [bar[2 * j], bar[2 * j + 1]];
            const x0 = round(round(c * b0) + round(s * b1));
            const x1 = round(round(c * b1) - round(s * b0));
            add(src, qk + 2 * j, x0);
            add(src, qk + 2 * j + 1, x1);
            add(bias, h * N + 2 * j, x0);
            add(bias, h * N + 2 * j + 1, x1);
            if (j < A) thetaBar[j] = round(thetaBar[j] + round(round(b1 * rot[t * N + 2 * j]) - round(b0 * rot[t * N + 2 * j + 1])));
          }
        }
        const oneMinus = round(1 - lambda);
        acc.ADT[at] = round(alpha * round(alphaBar + round(betaBar * round(oneMinus * delta))));
        let dtBar = round(round(betaBar * round(oneMinus * alpha)) + round(gammaBar * lambda));
        acc.Trap[at] = round(round(lambda * oneMinus) * round(delta * round(gammaBar - round(betaBar * alpha))));
        for (let i = 0; i < A; i++) {
          dtBar = round(dtBar + round(thetaBar[i] * phiT[t * A + i]));
          const th = tanhT[t * A + i];
          acc.Angles[((b * L + t) * H + h) * A + i] = round(round(thetaBar[i] * delta) * round(pi * round(1 - round(th * th))));
        }
        acc.DT[at] = dtBar;
        kCarry.set(kPrevBar);
        vCarry.set(vPrevBar);
      }
      if (acc.ssmState !== undefined) acc.ssmState.set(Sbar, head * P * N);
      if (acc.angleState !== undefined) acc.angleState.set(thetaBar, head * A);
      if (acc.kState !== undefined) acc.kState.set(kCarry, head * N);
      if (acc.vState !== undefined) acc.vState.set(vCarry, head * P);
    }
  }
  return acc;
}
