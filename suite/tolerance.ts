/**
 * The tolerance model (derivation in spec/tolerance.md): for every output element, a bound on
 * |ŷ − y| derived from the recurrence and the implementation's declared arithmetic, sound for
 * every correct evaluation order (sequential, chunked, any tree) and tight enough that off-by-one
 * steps, dropped carries, ignored initial states and circular convolutions exceed it.
 */
import type { AnyProblem, FamilyName } from '../spec/families.ts';
import type { ErrorModel } from '../spec/implementation.ts';
import { UNIT_ROUNDOFF, type Precision } from '../spec/precision.ts';
import { dimensionsOf, projectionIndex, projectionLayout, type Dimensions } from '../spec/shapes.ts';
import { effectiveDelta, silu } from '../reference/discretization.ts';

/** The arithmetic facts of an implementation that its tolerance depends on. */
export interface ArithmeticDeclaration {
  readonly precision: Precision;
  readonly accumulation?: Precision;
  readonly errorModel?: ErrorModel;
  /** 'flush' when subnormal intermediates may become zero (allowed in WGSL and CUDA's ftz). */
  readonly subnormals?: 'preserve' | 'flush';
}

/** Smallest positive normal number of each precision. */
export const MIN_NORMAL: Readonly<Record<Precision, number>> = {
  float64: 2 ** -1022,
  float32: 2 ** -126,
  float16: 2 ** -14,
  bfloat16: 2 ** -126,
};

/** Largest finite number of each precision. */
export const MAX_FINITE: Readonly<Record<Precision, number>> = {
  float64: Number.MAX_VALUE,
  float32: (2 - 2 ** -23) * 2 ** 127,
  float16: 65504,
  bfloat16: (2 - 2 ** -7) * 2 ** 127,
};

/**
 * Rounding depth of a tree-ordered scan for an element t steps into the sequence: each level of
 * an up-sweep and of a down-sweep combines at most once on its path, and a combine rounds twice
 * on the b path (a product and a sum); the final +2 covers the input term itself.
 */
export function treeDepth(t: number): number {
  return 4 * Math.ceil(Math.log2(t + 1)) + 2;
}

/**
 * Relative error allowed for exp(x), in units of u: WGSL allows 3 + 2|x| ULP for f32 exp (an ULP
 * is at most 2u), and JavaScript's, CUDA's and Mesa's exp are well inside that.
 */
export function expAllowance(x: number): number {
  return 6 + 4 * Math.abs(x);
}

/** The unit roundoffs a bound is built from. */
export interface Roundoffs {
  /** u of the arithmetic of the scan (the accumulator). */
  readonly arithmetic: number;
  /** u of the declared storage precision (e is measured in it). */
  readonly storage: number;
  /** Rounding of each float32 input into a narrower storage precision; 0 when none happens. */
  readonly input: number;
  /** Rounding of each result into storage narrower than the accumulator; 0 when none happens. */
  readonly output: number;
  /** Absolute error one operation may make below the normal range (gradual underflow, or a flush). */
  readonly underflow: number;
}

/** The roundoffs of a declaration. */
export function roundoffsOf(declaration: ArithmeticDeclaration): Roundoffs {
  const storage = UNIT_ROUNDOFF[declaration.precision];
  const arithmetic = Math.min(storage, UNIT_ROUNDOFF[declaration.accumulation ?? declaration.precision]);
  return {
    arithmetic,
    storage,
    input: storage > UNIT_ROUNDOFF.float32 ? storage : 0,
    output: storage > arithmetic ? storage : 0,
    underflow: underflowUnit(declaration),
  };
}

/**
 * η, the absolute error one operation may make below the normal range: a flush loses up to the
 * smallest normal; gradual underflow errs by at most half the subnormal spacing, minNormal·u. It is
 * never below float64's subnormal spacing 2^-1074: half of float64's spacing (2^-1075) is not a
 * float64 and would round to 0, and the reference computes S and W in float64, where they lose
 * bits (or underflow to 0) below the normal range while the value they bound does not.
 */
export function underflowUnit(declaration: ArithmeticDeclaration): number {
  const minNormal = MIN_NORMAL[declaration.precision];
  return Math.max(declaration.subnormals === 'flush' ? minNormal : minNormal * UNIT_ROUNDOFF[declaration.precision], Number.MIN_VALUE);
}

/** Everything about a problem's channels the bound needs beyond the reference's S and W. */
export interface ChannelModel {
  readonly family: FamilyName;
  readonly dims: Dimensions;
  readonly reverse: boolean;
  /** Relative error of each channel's decay factors beyond their own rounding (exp, Δ'·A). */
  readonly decayError: Float64Array;
  /** Relative error of each channel's input terms b beyond one rounding (Δ'·B·u, B̄·u). */
  readonly inputError: Float64Array;
  /** max(1, |decay|) per channel: the most a rounding error can be amplified per step. */
  readonly growth: Float64Array;
  /** max_t Σ_n |C| per channel: absolute state errors reach y through C. */
  readonly readout: Float64Array;
  /** Per sequence element, the relative error of the gate silu(z_t) in units of u; absent without z. */
  readonly gateError?: Float64Array;
  /** Per sequence element, |silu(z_t)|; absent without z. */
  readonly gateMagnitude?: Float64Array;
  /** Per channel, the normwise scale ‖K‖₁·‖u‖₂ + |D|·max|u| of a time-invariant convolution. */
  readonly convolutionScale?: Float64Array;
}

/** The per-channel facts of a problem, computed once per comparison. */
export function channelModel(problem: AnyProblem, r: Roundoffs): ChannelModel {
  const dims = dimensionsOf(problem);
  const channels = dims.batch * dims.dim;
  const zeros = () => new Float64Array(channels);
  const ones = () => new Float64Array(channels).fill(1);
  switch (problem.family) {
    case 'prefix-sum':
      return { family: problem.family, dims, reverse: problem.options.reverse, decayError: zeros(), inputError: zeros(), growth: ones(), readout: zeros() };
    case 'linear-recurrence': {
      const growth = ones();
      const a = problem.inputs.a.data;
      for (let c = 0; c < channels; c++) {
        for (let t = 0; t < dims.length; t++) growth[c] = Math.max(growth[c], Math.abs(a[c * dims.length + t]));
      }
      return { family: problem.family, dims, reverse: problem.options.reverse, decayError: zeros(), inputError: zeros(), growth, readout: zeros() };
    }
    case 'lti-ssm':
      return ltiModel(problem, dims, r);
    case 'selective-scan':
      return selectiveModel(problem, dims, r);
  }
}

function ltiModel(problem: Extract<AnyProblem, { family: 'lti-ssm' }>, dims: Dimensions, r: Roundoffs): ChannelModel {
  const { Abar, Bbar, C, D, u } = problem.inputs;
  const { batch, dim, length: L, stateSize: N } = dims;
  const channels = batch * dim;
  const growth = new Float64Array(channels).fill(1);
  const readout = new Float64Array(channels);
  const convolutionScale = new Float64Array(channels);
  const inputError = new Float64Array(channels).fill(r.arithmetic + r.input);
  for (let d = 0; d < dim; d++) {
    let g = 1;
    let sumC = 0;
    let kernelNorm = 0;
    for (let n = 0; n < N; n++) {
      const a = Math.abs(Abar.data[d * N + n]);
      g = Math.max(g, a);
      sumC += Math.abs(C.data[d * N + n]);
      kernelNorm += Math.abs(C.data[d * N + n] * Bbar.data[d * N + n]) * geometricSum(a, L);
    }
    for (let b = 0; b < batch; b++) {
      const c = b * dim + d;
      growth[c] = g;
      readout[c] = sumC;
      convolutionScale[c] = kernelNorm * l2Norm(u.data, c * L, L) + Math.abs(D?.data[d] ?? 0) * maxAbs(u.data, c * L, L);
    }
  }
  return { family: 'lti-ssm', dims, reverse: false, decayError: new Float64Array(channels), inputError, growth, readout, convolutionScale };
}

function selectiveModel(problem: Extract<AnyProblem, { family: 'selective-scan' }>, dims: Dimensions, r: Roundoffs): ChannelModel {
  const { u, delta, A, B, C, D, z, deltaBias, h0 } = problem.inputs;
  const softplus = problem.options.deltaSoftplus;
  const { batch, dim, length: L, stateSize: N } = dims;
  const channels = batch * dim;
  const ua = r.arithmetic;
  const decayError = new Float64Array(channels);
  const inputError = new Float64Array(channels);
  const growth = new Float64Array(channels).fill(1);
  const readout = new Float64Array(channels);
  const layoutB = projectionLayout(B.shape);
  const layoutC = projectionLayout(C.shape);
  const timeInvariant = layoutB.kind === 'time-invariant' && layoutC.kind === 'time-invariant' && h0 === undefined;
  const convolutionScale = timeInvariant ? new Float64Array(channels) : undefined;
  for (let b = 0; b < batch; b++) {
    for (let d = 0; d < dim; d++) {
      const c = b * dim + d;
      const bias = deltaBias?.data[d] ?? 0;
      let maxExponent = 0; // max |Δ'·A|
      let maxGrowthExponent = 0; // max Δ'·A (growth when positive)
      let deltaError = 0; // relative error of Δ' in units of u
      let maxReadout = 0;
      let constantDelta = true;
      const firstDelta = L > 0 ? effectiveDelta(delta.data[c * L], bias, softplus) : 0;
      for (let t = 0; t < L; t++) {
        const raw = delta.data[c * L + t];
        const dt = effectiveDelta(raw, bias, softplus);
        if (dt !== firstDelta) constantDelta = false;
        // Δ + bias rounds once; softplus adds its exp's allowance and log1p's few roundings.
        deltaError = Math.max(deltaError, 1 + (softplus && raw + bias <= 20 ? expAllowance(raw + bias) + 2 : 0));
        let sumC = 0;
        for (let n = 0; n < N; n++) {
          const x = dt * A.data[d * N + n];
          maxExponent = Math.max(maxExponent, Math.abs(x));
          maxGrowthExponent = Math.max(maxGrowthExponent, x);
          sumC += Math.abs(C.data[projectionIndex(layoutC, dims, b, d, n, t)]);
        }
        maxReadout = Math.max(maxReadout, sumC);
      }
      const relativeDelta = deltaError * ua + 2 * r.input;
      // Ā = exp(Δ'·A): exp's own allowance plus |x| times the relative error of its argument.
      decayError[c] = expAllowance(maxExponent) * ua + maxExponent * (relativeDelta + ua + r.input);
      // Δ'·B·u: two products and the roundings of B and u into storage, on top of Δ''s error.
      inputError[c] = relativeDelta + 2 * ua + 2 * r.input;
      growth[c] = Math.exp(Math.min(700, maxGrowthExponent));
      readout[c] = maxReadout;
      if (convolutionScale !== undefined) {
        if (!constantDelta) {
          convolutionScale[c] = Number.NaN; // not a convolution: the normwise allowance does not apply
          continue;
        }
        let kernelNorm = 0;
        for (let n = 0; n < N; n++) {
          const decay = Math.exp(firstDelta * A.data[d * N + n]);
          kernelNorm += Math.abs(C.data[d * N + n] * firstDelta * B.data[d * N + n]) * geometricSum(decay, L);
        }
        convolutionScale[c] = kernelNorm * l2Norm(u.data, c * L, L) + Math.abs(D?.data[d] ?? 0) * maxAbs(u.data, c * L, L);
      }
    }
  }
  let gateError: Float64Array | undefined;
  let gateMagnitude: Float64Array | undefined;
  if (z !== undefined) {
    gateError = new Float64Array(z.data.length);
    gateMagnitude = new Float64Array(z.data.length);
    for (let i = 0; i < z.data.length; i++) {
      // silu(z) = z / (1 + exp(−z)): exp's allowance, the sum, the division, the product, z's storage.
      gateError[i] = expAllowance(z.data[i]) + 3 + r.input / ua;
      gateMagnitude[i] = Math.abs(silu(z.data[i]));
    }
  }
  return { family: 'selective-scan', dims, reverse: false, decayError, inputError, growth, readout, gateError, gateMagnitude, convolutionScale };
}

/** Σ_{k<L} a^k for a ≥ 0, without overflow for a near 1. */
function geometricSum(a: number, L: number): number {
  if (L === 0) return 0;
  if (a === 1) return L;
  const power = a ** L;
  return Number.isFinite(power) ? (1 - power) / (1 - a) : Number.POSITIVE_INFINITY;
}

function l2Norm(data: Float32Array, offset: number, count: number): number {
  let s = 0;
  for (let i = 0; i < count; i++) s += data[offset + i] * data[offset + i];
  return Math.sqrt(s);
}

function maxAbs(data: Float32Array, offset: number, count: number): number {
  let m = 0;
  for (let i = 0; i < count; i++) m = Math.max(m, Math.abs(data[offset + i]));
  return m;
}

/** Where an element sits: its channel, and how many steps of the recurrence precede it in processing order. */
interface ElementPlace {
  readonly channel: number;
  readonly steps: number;
  /** Index into the (batch, dim, L) sequence tensors (z), or −1 for a final state. */
  readonly sequenceIndex: number;
}

/** Whether an element is read out through C, D and the gate (y of selective-scan and lti-ssm). */
function readsOut(model: ChannelModel, place: ElementPlace): boolean {
  return (model.family === 'selective-scan' || model.family === 'lti-ssm') && place.sequenceIndex >= 0;
}

/**
 * The absolute floor of one element: below the normal range every operation and every input
 * rounding may err by η, amplified by the channel's growth and read out through C.
 */
export function underflowFloor(model: ChannelModel, r: Roundoffs, place: ElementPlace): number {
  // Per step two operations and two inputs (a, b) may each underflow; a read-out adds N + 4.
  const operations = 4 * (place.steps + 1) + 8 + (readsOut(model, place) ? model.dims.stateSize + 4 : 0);
  const growth = Math.min(model.growth[place.channel] ** (place.steps + 1), 1e300);
  return r.underflow * operations * growth * (1 + model.readout[place.channel]);
}

/**
 * The bound of one element: relative allowances on the condition scale S and the depth scale W,
 * plus the absolute underflow floor.
 */
export function elementBound(model: ChannelModel, r: Roundoffs, place: ElementPlace, S: number, W: number): number {
  if (S === 0 && W === 0) {
    // The reference's float64 S and W are 0 when every term reaching the element is zero or lies
    // below 2^-1075 (they underflow while the double-double value does not). Stored in a precision
    // narrower than float64 such an element is an exact zero; in float64 it keeps the underflow floor.
    return r.storage === UNIT_ROUNDOFF.float64 ? underflowFloor(model, r, place) : 0;
  }
  const ua = r.arithmetic;
  const { channel, steps, sequenceIndex } = place;
  let relativeS = ua * treeDepth(steps) + r.input + r.output + model.inputError[channel];
  const relativeW = 2 * ua + r.input + model.decayError[channel];
  if (readsOut(model, place)) {
    // y = Σ_n C_n·h_n + D·u: N products and N sums in any order, the skip product and its sum.
    relativeS += (model.dims.stateSize + 4) * ua + 2 * r.input;
    if (model.gateError !== undefined) relativeS += model.gateError[sequenceIndex] * ua;
  }
  return relativeW * W + relativeS * S + underflowFloor(model, r, place);
}

/**
 * The normwise allowance of a convolution element (FFT): c·u·log2(M)·(‖K‖₁·‖u‖₂ + |D|·max|u|),
 * M the transform size, times the gate; NaN when the channel is not a convolution.
 */
export function normwiseBound(model: ChannelModel, r: Roundoffs, place: ElementPlace): number {
  const scale = model.convolutionScale?.[place.channel];
  if (scale === undefined || Number.isNaN(scale)) return Number.NaN;
  const transformSize = 2 ** Math.ceil(Math.log2(Math.max(2, 2 * model.dims.length)));
  const factor = r.arithmetic * (6 * Math.log2(transformSize) + model.dims.stateSize + 8) + 4 * r.input + r.output;
  const gate = model.gateMagnitude === undefined ? 1 : model.gateMagnitude[place.sequenceIndex];
  return factor * scale * gate;
}

/** The place of element i of an output tensor: sequences are (batch, dim, L), final states (batch, dim[, N]). */
export function elementPlace(model: ChannelModel, output: 'sequence' | 'state', i: number): ElementPlace {
  const { batch, dim, length: L } = model.dims;
  if (output === 'sequence') {
    const t = i % L;
    return { channel: Math.floor(i / L), steps: model.reverse ? L - 1 - t : t, sequenceIndex: i };
  }
  const perChannel = batch * dim === 0 ? 1 : model.dims.stateSize === 1 ? 1 : model.dims.stateSize;
  return { channel: Math.floor(i / perChannel), steps: Math.max(0, L - 1), sequenceIndex: -1 };
}
