/**
 * Causal linear convolution y_t = Σ_(k≤t) K_k·u_(t−k), t < L, by FFT: both sequences zero-padded
 * to M = the power of two ≥ max(4, 2L) (so the circular wrap-around of the product lands at
 * indices ≥ L, which are discarded), transformed with fft.js. One convolver per length owns its
 * FFT plans and every scratch buffer; a kernel's spectrum is computed once (setKernel) and reused
 * for every batch entry of its channel.
 *
 * Forward: fft.js's real-input transform (realTransform) of size M, bins 0 … M/2. Inverse: the
 * product spectrum is Hermitian, so its real inverse of size M is one complex inverse transform of
 * size H = M/2: with F_k = Y_k + Y_(k+H) and G_k = (Y_k − Y_(k+H))·e^(2πik/M) (Y_(k+H) =
 * conj Y_(H−k)), z = IFFT_H((F + i·G)/2) holds y_(2m) in its real and y_(2m+1) in its imaginary
 * part. Each channel's result depends on its own kernel and input only — packing two channels
 * into one complex transform (the two-for-one trick) was tried and dropped: it made a channel's
 * rounding depend on its partner, so permuting the batch changed the bits of the outputs, and a
 * short kernel paired with a long one inherited the long one's error.
 *
 * Each sequence is scaled by a power of two (exact) before the transforms — a kernel to ‖K‖₁ ≈ 1,
 * an input to ‖u‖₂ ≈ 1 — so that spectra stay bounded (|K̂_j| ≤ 1, |Û_j| ≤ √L) whatever the
 * magnitudes of K and u, and scaling an input by 2^k scales the output by exactly 2^k. The result
 * is scaled back at the end (it may overflow to ±∞ there, which the output policy accepts where
 * the exact result is out of range).
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

/** The FFT length for a causal convolution of length L: the power of two ≥ max(4, 2L) (fft.js needs M/2 ≥ 2). */
export function transformLengthFor(length: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(4, 2 * length)));
}

/**
 * The exponent e such that 2^−e·K has ‖·‖₁ in (1/2, 1], or null when K is all zeros. The norm is
 * summed after scaling by the largest magnitude's exponent, so it neither overflows nor underflows.
 */
function kernelExponent(x: Float64Array, length: number): number | null {
  let max = 0;
  for (let i = 0; i < length; i++) max = Math.max(max, Math.abs(x[i]));
  if (max === 0) return null;
  const coarse = Math.ceil(Math.log2(max));
  const scale = 2 ** -coarse;
  let sum = 0;
  for (let i = 0; i < length; i++) sum += Math.abs(x[i] * scale);
  return clampExponent(coarse + Math.ceil(Math.log2(sum)));
}

/** As kernelExponent, for an input channel and its 2-norm (a separate copy keeps each loop monomorphic). */
function inputExponent(x: Float32Array, offset: number, length: number): number | null {
  let max = 0;
  for (let i = offset; i < offset + length; i++) max = Math.max(max, Math.abs(x[i]));
  if (max === 0) return null;
  const coarse = Math.ceil(Math.log2(max));
  const scale = 2 ** -coarse;
  let sum = 0;
  for (let i = offset; i < offset + length; i++) {
    const v = x[i] * scale;
    sum += v * v;
  }
  return clampExponent(coarse + Math.ceil(Math.log2(Math.sqrt(sum))));
}

/** Keeps 2^±e finite in float64. */
function clampExponent(e: number): number {
  return Math.min(1000, Math.max(-1000, e));
}

/** A causal FFT convolution for one sequence length L, with its plans and scratch buffers. */
export class CausalConvolver {
  readonly length: number;
  readonly transformLength: number;
  readonly rounding: ConvolutionRounding;
  private readonly fft: FFT;
  private readonly halfFft: FFT;
  private readonly padded: Float64Array;
  /** realTransform's output (complex, size M); bins 0 … M/2 are used. */
  private readonly spectrum: Float64Array;
  /** Bins 0 … M/2 of the kernel's spectrum. */
  private readonly kernelSpectrum: Float64Array;
  /** (F + i·G)/2, the input of the half-size inverse, and its output. */
  private readonly half: Float64Array;
  private readonly halfResult: Float64Array;
  /** cos and sin of 2πk/M for k < M/2. */
  private readonly twiddles: Float64Array;
  private kernelExponent = 0;
  private kernelIsZero = true;

  /** A convolver for sequences of length L ≥ 1. */
  constructor(length: number, rounding: ConvolutionRounding) {
    if (!Number.isInteger(length) || length < 1) throw new RangeError(`CausalConvolver: length expected an integer ≥ 1, got ${length}`);
    this.length = length;
    this.rounding = rounding;
    this.transformLength = transformLengthFor(length);
    const M = this.transformLength;
    const H = M / 2;
    this.fft = new FFT(M);
    this.halfFft = new FFT(H);
    this.padded = new Float64Array(M);
    this.spectrum = new Float64Array(2 * M);
    this.kernelSpectrum = new Float64Array(M + 2);
    this.half = new Float64Array(2 * H);
    this.halfResult = new Float64Array(2 * H);
    this.twiddles = new Float64Array(2 * H);
    for (let k = 0; k < H; k++) {
      const angle = (2 * Math.PI * k) / M;
      this.twiddles[2 * k] = Math.cos(angle);
      this.twiddles[2 * k + 1] = Math.sin(angle);
    }
  }

  /** Sets the kernel K_0…K_(L−1) (float64 values; float32 values under the float32 model) and transforms it. */
  setKernel(kernel: Float64Array): void {
    const L = this.length;
    const exponent = kernelExponent(kernel, L);
    this.kernelIsZero = exponent === null;
    if (exponent === null) return;
    this.kernelExponent = exponent;
    const scale = 2 ** -exponent;
    const padded = this.padded;
    for (let k = 0; k < L; k++) padded[k] = kernel[k] * scale;
    padded.fill(0, L);
    this.fft.realTransform(this.spectrum, padded);
    const bins = this.transformLength + 2;
    const K = this.kernelSpectrum;
    const S = this.spectrum;
    if (this.rounding === 'float32') for (let i = 0; i < bins; i++) K[i] = Math.fround(S[i]);
    else for (let i = 0; i < bins; i++) K[i] = S[i];
  }

  /**
   * y_t = Σ_(k≤t) K_k·u_(t−k) for t < L into `out` from `outOffset`, u read from `offset`; under
   * the float32 model the values written are float32 values.
   */
  convolve(u: Float32Array, offset: number, out: Float64Array, outOffset: number): void {
    const L = this.length;
    const M = this.transformLength;
    const H = M / 2;
    const exponent = inputExponent(u, offset, L);
    if (exponent === null || this.kernelIsZero) {
      out.fill(0, outOffset, outOffset + L);
      return;
    }
    const scale = 2 ** -exponent;
    const padded = this.padded;
    for (let t = 0; t < L; t++) padded[t] = u[offset + t] * scale;
    padded.fill(0, L);
    const Y = this.spectrum;
    this.fft.realTransform(Y, padded);
    const K = this.kernelSpectrum;
    // Y_j = K̂_j·Û_j for j = 0 … H, in place.
    if (this.rounding === 'float32') {
      const fround = Math.fround;
      for (let j = 0; j <= H; j++) {
        const re = 2 * j;
        const ur = fround(Y[re]);
        const ui = fround(Y[re + 1]);
        Y[re] = fround(fround(K[re] * ur) - fround(K[re + 1] * ui));
        Y[re + 1] = fround(fround(K[re] * ui) + fround(K[re + 1] * ur));
      }
    } else {
      for (let j = 0; j <= H; j++) {
        const re = 2 * j;
        const ur = Y[re];
        const ui = Y[re + 1];
        Y[re] = K[re] * ur - K[re + 1] * ui;
        Y[re + 1] = K[re] * ui + K[re + 1] * ur;
      }
    }
    // (F + i·G)/2 with F = Y_k + conj Y_(H−k), G = (Y_k − conj Y_(H−k))·(cos + i·sin)(2πk/M).
    const Z = this.half;
    const w = this.twiddles;
    for (let k = 0; k < H; k++) {
      const ar = Y[2 * k];
      const ai = Y[2 * k + 1];
      const br = Y[2 * (H - k)];
      const bi = -Y[2 * (H - k) + 1];
      const gr = ar - br;
      const gi = ai - bi;
      const c = w[2 * k];
      const s = w[2 * k + 1];
      const Gr = gr * c - gi * s;
      const Gi = gr * s + gi * c;
      Z[2 * k] = 0.5 * (ar + br - Gi);
      Z[2 * k + 1] = 0.5 * (ai + bi + Gr);
    }
    const z = this.halfResult;
    this.halfFft.inverseTransform(z, Z);
    // z_m = y_(2m) + i·y_(2m+1): the interleaved layout is y itself. Two factors, so that
    // 2^(eK + eu) cannot overflow before the product is formed.
    const up1 = 2 ** this.kernelExponent;
    const up2 = 2 ** exponent;
    if (this.rounding === 'float32') {
      const fround = Math.fround;
      for (let t = 0; t < L; t++) out[outOffset + t] = fround(fround(z[t]) * up1 * up2);
    } else {
      for (let t = 0; t < L; t++) out[outOffset + t] = z[t] * up1 * up2;
    }
  }
}
