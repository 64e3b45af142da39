/**
 * Causal linear convolution y_t = Σ_(k≤t) K_k·u_(t−k), t < L, by FFT: both sequences zero-padded
 * to M = the power of two ≥ 2L (so the circular wrap-around of the product lands at indices ≥ L,
 * which are discarded), transformed with fft.js. One convolver per length owns its FFT plan and
 * every scratch buffer; kernel spectra are computed once (setKernels) and reused for every batch
 * entry of their channel.
 *
 * Real sequences travel in pairs through complex transforms (the classic two-for-one): the FFT of
 * a + i·b gives both spectra, Â_j = (Z_j + conj Z_(M−j))/2 and B̂_j = (Z_j − conj Z_(M−j))/(2i),
 * and the inverse transform of Ŷ_a + i·Ŷ_b returns y_a in its real part and y_b in its imaginary
 * part. Per channel that is half a complex forward and half a complex inverse transform (plus half
 * a forward for the kernel), against a real forward and a full complex inverse one at a time:
 * about a third less transform work.
 *
 * Each sequence is scaled by a power of two (exact) so that its largest magnitude is about 1
 * before the transforms: spectra are then bounded by L and products by L², whatever the
 * magnitudes of K and u, paired sequences share the transform at comparable scales, and the
 * result is scaled back at the end (it may overflow to ±∞ there, which the output policy accepts
 * where the exact result is out of range).
 *
 * Rounding model `float32` (fft-conv-f32): the transforms run in float64 (fft.js has no float32
 * transform), but every value an f32 FFT convolution stores is rounded to float32: the kernel and
 * input (already float32), both spectra, each product and difference of the complex product, and
 * the convolution result. What is not modelled is the rounding inside the butterflies of an f32
 * transform (log2(M) stages, a normwise error growing like log2(M)·u); the tolerance model must
 * still allow for it, since a real f32 FFT has it.
 */
import FFT from 'fft.js';

/** The arithmetic a convolver models: plain float64, or float32 storage of every stored value. */
export type ConvolutionRounding = 'float64' | 'float32';

/** The FFT length for a causal convolution of length L: the power of two ≥ max(2, 2L). */
export function transformLengthFor(length: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(2, 2 * length)));
}

/** The exponent e that brings `max` to about 1 when scaled by 2^−e, clamped so that 2^±e stays finite. */
function normalizingExponent(max: number): number {
  return Math.min(1000, Math.max(-1000, Math.ceil(Math.log2(max))));
}

/** The largest |x_i| of x[offset … offset + length). */
function maxAbs(x: ArrayLike<number>, offset: number, length: number): number {
  let max = 0;
  for (let i = offset; i < offset + length; i++) {
    const v = Math.abs(x[i]);
    if (v > max) max = v;
  }
  return max;
}

/** One of the two kernel slots of a convolver. */
export type KernelSlot = 0 | 1;

/** A causal FFT convolution for one sequence length L, with its plan and scratch buffers. */
export class CausalConvolver {
  readonly length: number;
  readonly transformLength: number;
  readonly rounding: ConvolutionRounding;
  private readonly fft: FFT;
  /** Complex input of a forward transform (a + i·b), and the output of the inverse one. */
  private readonly packed: Float64Array;
  /** Complex output of a forward transform, and the input of the inverse one. */
  private readonly spectrum: Float64Array;
  /** Bins 0 … M/2 of each kernel slot's spectrum. */
  private readonly kernelSpectra: readonly [Float64Array, Float64Array];
  private readonly kernelExponents = [0, 0];
  private readonly kernelIsZero = [true, true];

  /** A convolver for sequences of length L ≥ 1. */
  constructor(length: number, rounding: ConvolutionRounding) {
    if (!Number.isInteger(length) || length < 1) throw new RangeError(`CausalConvolver: length expected an integer ≥ 1, got ${length}`);
    this.length = length;
    this.rounding = rounding;
    this.transformLength = transformLengthFor(length);
    const M = this.transformLength;
    this.fft = new FFT(M);
    this.packed = new Float64Array(2 * M);
    this.spectrum = new Float64Array(2 * M);
    this.kernelSpectra = [new Float64Array(M + 2), new Float64Array(M + 2)];
  }

  /**
   * Sets kernel slots 0 and 1 (K_0…K_(L−1), float64 values; float32 values under the float32
   * model) and transforms both with one complex FFT; `second` may be null (slot 1 then zero).
   */
  setKernels(first: Float64Array, second: Float64Array | null): void {
    const L = this.length;
    const kernels = [first, second] as const;
    const scales = [0, 0];
    for (const slot of [0, 1] as const) {
      const kernel = kernels[slot];
      const max = kernel === null ? 0 : maxAbs(kernel, 0, L);
      this.kernelIsZero[slot] = max === 0;
      this.kernelExponents[slot] = max === 0 ? 0 : normalizingExponent(max);
      scales[slot] = max === 0 ? 0 : 2 ** -this.kernelExponents[slot];
    }
    const z = this.packed;
    z.fill(0);
    for (let k = 0; k < L; k++) {
      z[2 * k] = first[k] * scales[0];
      z[2 * k + 1] = second === null ? 0 : second[k] * scales[1];
    }
    this.fft.transform(this.spectrum, z);
    this.unpack(this.kernelSpectra[0], this.kernelSpectra[1]);
  }

  /**
   * Convolves two channels at once: u[offsetA …] with kernel slot `slotA` into outA[outOffsetA …],
   * and u[offsetB …] with slot `slotB` into outB (offsetB < 0: no second channel). Under the
   * float32 model the values written are float32 values.
   */
  convolvePair(
    u: Float32Array,
    offsetA: number,
    slotA: KernelSlot,
    outA: Float64Array,
    outOffsetA: number,
    offsetB: number,
    slotB: KernelSlot,
    outB: Float64Array,
    outOffsetB: number,
  ): void {
    const L = this.length;
    const M = this.transformLength;
    const hasB = offsetB >= 0;
    const maxA = maxAbs(u, offsetA, L);
    const maxB = hasB ? maxAbs(u, offsetB, L) : 0;
    const exponentA = maxA === 0 ? 0 : normalizingExponent(maxA);
    const exponentB = maxB === 0 ? 0 : normalizingExponent(maxB);
    const scaleA = maxA === 0 ? 0 : 2 ** -exponentA;
    const scaleB = maxB === 0 ? 0 : 2 ** -exponentB;
    const z = this.packed;
    z.fill(0);
    for (let t = 0; t < L; t++) {
      z[2 * t] = u[offsetA + t] * scaleA;
      z[2 * t + 1] = hasB ? u[offsetB + t] * scaleB : 0;
    }
    const Z = this.spectrum;
    this.fft.transform(Z, z);
    const KA = this.kernelSpectra[slotA];
    const KB = this.kernelSpectra[slotB];
    const f32 = this.rounding === 'float32';
    const fround = Math.fround;
    const half = M / 2;
    // Bin j and its mirror M − j are read before either is overwritten, so the product is formed in place.
    for (let j = 0; j <= half; j++) {
      const m = j === 0 ? 0 : M - j;
      const zr = Z[2 * j];
      const zi = Z[2 * j + 1];
      const mr = Z[2 * m];
      const mi = Z[2 * m + 1];
      // Â_j = (Z_j + conj Z_m)/2, B̂_j = (Z_j − conj Z_m)/(2i).
      let ar = 0.5 * (zr + mr);
      let ai = 0.5 * (zi - mi);
      let br = 0.5 * (zi + mi);
      let bi = 0.5 * (mr - zr);
      let yar: number;
      let yai: number;
      let ybr: number;
      let ybi: number;
      const kar = KA[2 * j];
      const kai = KA[2 * j + 1];
      const kbr = KB[2 * j];
      const kbi = KB[2 * j + 1];
      if (f32) {
        ar = fround(ar);
        ai = fround(ai);
        br = fround(br);
        bi = fround(bi);
        yar = fround(fround(kar * ar) - fround(kai * ai));
        yai = fround(fround(kar * ai) + fround(kai * ar));
        ybr = fround(fround(kbr * br) - fround(kbi * bi));
        ybi = fround(fround(kbr * bi) + fround(kbi * br));
      } else {
        yar = kar * ar - kai * ai;
        yai = kar * ai + kai * ar;
        ybr = kbr * br - kbi * bi;
        ybi = kbr * bi + kbi * br;
      }
      // W = Ŷ_A + i·Ŷ_B at bin j, and at M − j with Ŷ(M − j) = conj Ŷ(j) (both outputs are real).
      Z[2 * j] = yar - ybi;
      Z[2 * j + 1] = yai + ybr;
      if (m !== j) {
        Z[2 * m] = yar + ybi;
        Z[2 * m + 1] = ybr - yai;
      }
    }
    this.fft.inverseTransform(z, Z);
    // Two factors each, so that 2^(eK + eu) itself cannot overflow before the product is formed.
    const upA1 = 2 ** this.kernelExponents[slotA];
    const upA2 = 2 ** exponentA;
    const upB1 = 2 ** this.kernelExponents[slotB];
    const upB2 = 2 ** exponentB;
    const zeroA = maxA === 0 || this.kernelIsZero[slotA];
    const zeroB = maxB === 0 || this.kernelIsZero[slotB];
    for (let t = 0; t < L; t++) {
      const a = zeroA ? 0 : f32 ? fround(fround(z[2 * t]) * upA1 * upA2) : z[2 * t] * upA1 * upA2;
      outA[outOffsetA + t] = a;
    }
    if (!hasB) return;
    for (let t = 0; t < L; t++) {
      const b = zeroB ? 0 : f32 ? fround(fround(z[2 * t + 1]) * upB1 * upB2) : z[2 * t + 1] * upB1 * upB2;
      outB[outOffsetB + t] = b;
    }
  }

  /** Splits the spectrum of a + i·b (in `spectrum`) into bins 0 … M/2 of Â and B̂, rounded under float32. */
  private unpack(first: Float64Array, second: Float64Array): void {
    const M = this.transformLength;
    const Z = this.spectrum;
    const f32 = this.rounding === 'float32';
    const fround = Math.fround;
    for (let j = 0; j <= M / 2; j++) {
      const m = j === 0 ? 0 : M - j;
      const zr = Z[2 * j];
      const zi = Z[2 * j + 1];
      const mr = Z[2 * m];
      const mi = Z[2 * m + 1];
      const ar = 0.5 * (zr + mr);
      const ai = 0.5 * (zi - mi);
      const br = 0.5 * (zi + mi);
      const bi = 0.5 * (mr - zr);
      first[2 * j] = f32 ? fround(ar) : ar;
      first[2 * j + 1] = f32 ? fround(ai) : ai;
      second[2 * j] = f32 ? fround(br) : br;
      second[2 * j + 1] = f32 ? fround(bi) : bi;
    }
  }
}
