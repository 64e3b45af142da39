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
import { anyMayFlush, anyMove, flushVariants, FlushEnvelope, mayFlush, reachAndMove } from '../../flush-envelope.ts';
import { silu } from '../selective-scan/discretization.ts';
import { sigmoid } from './discretization.ts';

/** What a flush can move v by: |v| when it may flush, else 0. */
const flushMove = (v: number, below: number): number => (mayFlush(v, below) ? Math.abs(v) : 0);

/** The largest |x' − x| of x = s + b when s and b may each flush. */
function sumMove(s: number, b: number, below: number): number {
  let move = 0;
  for (const s1 of flushVariants(s, below)) for (const b1 of flushVariants(b, below)) move = Math.max(move, Math.abs(s1 + b1 - (s + b)));
  return move;
}

/** |a'b'c' − abc| when each factor's magnitude (in either run) and move are bounded. */
function productMove(a: number, aMove: number, b: number, bMove: number, c: number, cMove: number): number {
  return aMove * b * c + a * bMove * c + a * b * cMove;
}


/** Error of a float32 cos or sin, in units of u (argument in [0, 2π)). */
export const TRIG_ALLOWANCE = 4;

/** The tolerance terms of mamba3-siso. */
export const mamba3SisoTolerance: FamilyToleranceTerms<'mamba3-siso'> = {
  // Every input multiplies something: ADT (α), DT and Trap (β, γ, and DT the angle increments),
  // the angles (every later rotation), Q, K and their biases (q̂ reads S, k̂ drives it), V (the
  // drive and the skip), D, Z, and the four initial states. One envelope per head over its P·N
  // states (spec/flush-envelope.ts); an angle's flushes add up to a drift Θ that turns q̂ and k̂
  // by at most min(2, Θ) times their pair's norm. A flushing arithmetic may also zero α, β, γ, an
  // increment or the gate when subnormal, and any component of q̂ or k̂ (losing under its threshold).
  multiplierFlush(problem, _dims, { inputs: below, intermediates }) {
    const { Q, K, V, ADT, DT, Trap, QBias, KBias, Angles, D, Z, angleState, ssmState, kState, vState } = problem.inputs;
    const tensors = [Q, K, V, ADT, DT, Trap, QBias, KBias, Angles, D, Z, angleState, ssmState, kState, vState];
    if (intermediates === 0 && !tensors.some((tensor) => anyMayFlush(tensor?.data, below))) return undefined;
    const { batch, length: L, heads: H, headdim: P, groups: G, stateSize: N, angles: A } = mamba3SisoSizes(V, Q, Angles);
    const y = new Float64Array(batch * L * H * P);
    const finalAngleState = new Float64Array(batch * H * A);
    const finalSsmState = new Float64Array(batch * H * P * N);
    const finalKState = new Float64Array(batch * H * N);
    const finalVState = new Float64Array(batch * H * P);
    const envelope = new FlushEnvelope(P * N);
    const angleDrift = new Float64Array(A);
    const [qMagnitude, qMove, kMagnitude, kMove, kPrevMagnitude, kPrevMove] = Array.from({ length: 6 }, () => new Float64Array(N));
    const [vPrevMagnitude, vPrevMove] = [new Float64Array(P), new Float64Array(P)];
    for (let b = 0; b < batch; b++) {
      for (let h = 0; h < H; h++) {
        const head = b * H + h;
        envelope.start(ssmState?.data, head * P * N);
        for (let j = 0; j < P * N; j++) envelope.drift[j] = flushMove(ssmState?.data[head * P * N + j] ?? 0, below);
        for (let i = 0; i < A; i++) angleDrift[i] = flushMove(angleState?.data[head * A + i] ?? 0, below);
        for (let n = 0; n < N; n++) {
          kPrevMagnitude[n] = Math.abs(kState?.data[head * N + n] ?? 0);
          kPrevMove[n] = flushMove(kState?.data[head * N + n] ?? 0, below);
        }
        for (let p = 0; p < P; p++) {
          vPrevMagnitude[p] = Math.abs(vState?.data[head * P + p] ?? 0);
          vPrevMove[p] = flushMove(vState?.data[head * P + p] ?? 0, below);
        }
        for (let t = 0; t < L; t++) {
          const at = head * L + t;
          const deltas = flushVariants(DT.data[at], below);
          const lambdas = flushVariants(Trap.data[at], below).map(sigmoid);
          const alphas = flushVariants(ADT.data[at], below).flatMap((a) => flushVariants(Math.exp(a), intermediates));
          const alpha = reachAndMove(Math.exp(ADT.data[at]), alphas);
          const lambda0 = sigmoid(Trap.data[at]);
          const betas: number[] = [];
          const gammas: number[] = [];
          for (const d of deltas) {
            for (const l of lambdas) {
              gammas.push(...flushVariants(l * d, intermediates));
              for (const a of alphas) betas.push(...flushVariants((1 - l) * d * a, intermediates));
            }
          }
          const beta = reachAndMove((1 - lambda0) * DT.data[at] * Math.exp(ADT.data[at]), betas);
          const gamma = reachAndMove(lambda0 * DT.data[at], gammas);
          for (let i = 0; i < A; i++) {
            const angle = Angles.data[((b * L + t) * H + h) * A + i];
            const increment = Math.tanh(angle) * Math.PI * DT.data[at];
            const variants = flushVariants(angle, below).flatMap((a) => deltas.flatMap((d) => flushVariants(Math.tanh(a) * Math.PI * d, intermediates)));
            angleDrift[i] += reachAndMove(increment, variants).move;
          }
          const qkOffset = ((b * L + t) * G + qkHeadOfHead(h, H, G)) * N;
          for (let j = 0; j < N / 2; j++) {
            // A rotation by θ + Θ moves a pair by at most |2·sin(Θ/2)| ≤ min(2, Θ) times its norm.
            const turn = j < A ? Math.min(2, angleDrift[j]) : 0;
            for (const [source, bias, magnitude, move] of [
              [Q.data, QBias.data, qMagnitude, qMove],
              [K.data, KBias.data, kMagnitude, kMove],
            ] as const) {
              const [s0, s1, b0, b1] = [source[qkOffset + 2 * j], source[qkOffset + 2 * j + 1], bias[h * N + 2 * j], bias[h * N + 2 * j + 1]];
              const norm = Math.hypot(s0 + b0, s1 + b1);
              const moved = Math.hypot(sumMove(s0, b0, below), sumMove(s1, b1, below));
              magnitude[2 * j] = magnitude[2 * j + 1] = norm + moved;
              move[2 * j] = move[2 * j + 1] = moved + turn * norm + intermediates;
            }
          }
          const vOffset = ((b * L + t) * H + h) * P;
          for (let p = 0; p < P; p++) {
            const v = V.data[vOffset + p];
            const vMagnitude = Math.abs(v);
            const vMove = flushMove(v, below);
            for (let n = 0; n < N; n++) {
              // S ← α·S + β·ṽ_{t−1}·k̃_{t−1} + γ·v·k̂.
              const drive = beta.reach * vPrevMagnitude[p] * kPrevMagnitude[n] + gamma.reach * vMagnitude * kMagnitude[n];
              const driveMove =
                productMove(beta.reach, beta.move, vPrevMagnitude[p], vPrevMove[p], kPrevMagnitude[n], kPrevMove[n]) +
                productMove(gamma.reach, gamma.move, vMagnitude, vMove, kMagnitude[n], kMove[n]);
              envelope.advance(p * N + n, alpha.reach, alpha.move, drive, driveMove);
            }
            const skipFactor = D?.data[h] ?? 0;
            const skip = Math.abs(skipFactor * v);
            const skipMove = mayFlush(skipFactor, below) || mayFlush(v, below) ? skip : 0;
            const gate = Z === undefined ? 1 : silu(Z.data[vOffset + p]);
            const gateMove = Z !== undefined && (mayFlush(Z.data[vOffset + p], below) || mayFlush(gate, intermediates)) ? Math.abs(gate) : 0;
            y[vOffset + p] = envelope.readoutMoveOf(qMagnitude, qMove, p * N, N, skip, skipMove, gate, gateMove);
            vPrevMagnitude[p] = vMagnitude;
            vPrevMove[p] = vMove;
          }
          kPrevMagnitude.set(kMagnitude);
          kPrevMove.set(kMove);
        }
        finalAngleState.set(angleDrift, head * A);
        finalSsmState.set(envelope.drift, head * P * N);
        finalKState.set(kPrevMove, head * N);
        finalVState.set(vPrevMove, head * P);
      }
    }
    const moves = { y, finalAngleState, finalSsmState, finalKState, finalVState };
    return anyMove(moves) ? moves : undefined;
  },
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
