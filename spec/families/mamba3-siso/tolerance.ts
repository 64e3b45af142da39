/**
 * mamba3-siso's tolerance terms (spec/tolerance.md, rule R): ssd's per-step terms for the decay
 * α = exp(ADT) (with the chunked exponent's accumulated error, as Mamba-3's chunked kernels form
 * exp of differences of cumulative sums of ADT), plus two terms of its own:
 * - the trapezoidal term: λ = sigmoid(Trap) and the weights β = (1 − λ)·DT·α, γ = λ·DT. The
 *   reference scales both products by |DT| (the most either weight can be), so λ's absolute error
 *   (a kernel's 1 − λ formed by subtraction) is relative to the scale;
 * - the rotary term: the angle θ_t is a cumulative sum of π·tanh(Angles)·DT reduced mod 2π, whose
 *   absolute error ε_θ ≤ u·(κ(L) + 8)·(|θ_{−1}| + 2π + Σ_t|π·tanh·DT|) (κ of a chunked or tree sum,
 *   the 8 for tanh, π, the product and the reductions' 2π); a rotation by θ + ε_θ moves each
 *   rotated pair by at most ε_θ times its norm, and the reference scales q̂ and k̂ by their pairs'
 *   norms, so ε_θ is a relative error of every term through q̂ or k̂ (twice: k̂ enters S, q̂ reads it).
 * cos and sin are held to TRIG_ALLOWANCE units of u each (WGSL's built-in cos and sin, absolute
 * error 2^-11, do not meet it: a WGSL kernel must compute them more accurately). The angle state
 * itself is compared by circular distance (suite/compare.ts), against the same bound.
 * Channel c = b·(H·P) + h·P + p; gateError and gateMagnitude follow y's (batch, L, H, P) layout.
 */
import { expAllowance, plainTerms, type FamilyToleranceTerms } from '../../tolerance-terms.ts';
import { chunkedExponentDepth } from '../ssd/tolerance.ts';
import { siluGateTerms } from '../selective-scan/tolerance.ts';
import { mamba3SisoSizes, qkHeadOfHead } from './dimensions.ts';

/** Error of a float32 cos or sin, in units of u (argument in [0, 2π)). */
export const TRIG_ALLOWANCE = 4;

/** The tolerance terms of mamba3-siso. */
export const mamba3SisoTolerance: FamilyToleranceTerms<'mamba3-siso'> = {
  channelTerms(problem, _dims, r) {
    const { Q, V, ADT, DT, Trap, QBias, Angles, Z, angleState } = problem.inputs;
    const { batch, length: L, heads: H, headdim: P, groups: G, stateSize: N, angles: A } = mamba3SisoSizes(V, Q, Angles);
    const channels = batch * H * P;
    const ua = r.arithmetic;
    const kappa = chunkedExponentDepth(L);
    const { decayError, inputError, growth, readout } = plainTerms(channels);
    for (let b = 0; b < batch; b++) {
      for (let h = 0; h < H; h++) {
        let maxExponent = 0;
        let maxGrowthExponent = 0;
        let rowExponent = 0;
        let trapError = 0;
        let maxReadout = 0;
        const angleSums = new Float64Array(A);
        for (let i = 0; i < A; i++) angleSums[i] = Math.abs(angleState?.data[(b * H + h) * A + i] ?? 0) + 2 * Math.PI;
        for (let t = 0; t < L; t++) {
          const at = (b * H + h) * L + t;
          const exponent = ADT.data[at];
          maxExponent = Math.max(maxExponent, Math.abs(exponent));
          maxGrowthExponent = Math.max(maxGrowthExponent, exponent);
          rowExponent += Math.abs(exponent);
          // sigmoid: exp's allowance, the sum, the division; 1 − λ one more rounding.
          trapError = Math.max(trapError, expAllowance(Trap.data[at]) + 4);
          for (let i = 0; i < A; i++) angleSums[i] += Math.abs(Math.PI * Math.tanh(Angles.data[((b * L + t) * H + h) * A + i]) * DT.data[at]);
          let sumQ = 0;
          const offset = ((b * L + t) * G + qkHeadOfHead(h, H, G)) * N;
          for (let n = 0; n < N; n++) sumQ += Math.abs(Q.data[offset + n]) + Math.abs(QBias.data[h * N + n]);
          maxReadout = Math.max(maxReadout, sumQ);
        }
        let angleError = 0;
        for (let i = 0; i < A; i++) angleError = Math.max(angleError, (ua * (kappa + 8) + 2 * r.input) * angleSums[i]);
        // Per step as ssd: exp's allowance, ADT's storage, the chunked exponent's accumulated error.
        const decay = expAllowance(maxExponent) * ua + maxExponent * r.input + kappa * ua * rowExponent;
        // q̂ and k̂: the bias sum, the rotation's two products and sum, cos and sin, the angle's
        // error, the storage of Q, K and the biases; the trapezoidal weights: λ, α inside β, DT's
        // storage and the products β·ṽ·k̃, γ·v·k̂ and their sum.
        const rotary = 2 * ((3 + 2 * TRIG_ALLOWANCE) * ua + angleError + 2 * r.input);
        const trapezoid = trapError * ua + expAllowance(maxExponent) * ua + 6 * ua + 3 * r.input;
        const rowGrowth = Math.exp(Math.min(700, maxGrowthExponent));
        for (let p = 0; p < P; p++) {
          const c = (b * H + h) * P + p;
          decayError[c] = decay;
          inputError[c] = rotary + trapezoid;
          growth[c] = rowGrowth;
          readout[c] = maxReadout;
        }
      }
    }
    return { decayError, inputError, growth, readout, ...siluGateTerms(Z, r) };
  },
};
