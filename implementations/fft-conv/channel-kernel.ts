/**
 * The discretized kernel parameters of one channel, K_k = Σ_n w_n·Ā_n^k with w_n = C_n·B̄_n, in
 * the arithmetic of an implementation, and the range check that decides whether an FFT
 * convolution can hold that kernel at all.
 *
 * How Ā_n^k is formed (see powers.ts):
 *   lti-ssm, both precisions    Ā is given (float32): powers of the base Ā.
 *   selective-scan, float64     Ā = Math.exp(Δ'·A), the float64 value the reference uses:
 *                               powers of that base.
 *   selective-scan, float32     x = ↓(Δ'·A) as an f32 kernel forms it: powers exp(k·x), as
 *                               S4D's Vandermonde kernels do, whose error |k·x|·u stays below
 *                               u/e relative to the largest term instead of growing like k·u.
 */
import type { PowerSource } from './powers.ts';

/** float64, or float32 rounding after every operation. */
export type KernelArithmetic = 'float64' | 'float32';

/** Per-channel scratch: the weights w_n, B̄_n and the decays (bases Ā_n or log-rates x_n) of one channel. */
export class ChannelKernel {
  readonly weights: Float64Array;
  readonly bbar: Float64Array;
  readonly decays: Float64Array;
  readonly source: PowerSource;

  /** Scratch for N decays, read as bases or as log-rates (powers exp(k·x)). */
  constructor(stateSize: number, kind: PowerSource['kind']) {
    this.weights = new Float64Array(stateSize);
    this.bbar = new Float64Array(stateSize);
    this.decays = new Float64Array(stateSize);
    this.source = kind === 'base' ? { kind, bases: this.decays } : { kind, rates: this.decays };
  }

  /** lti-ssm channel d: w = C·B̄ (rounded once under float32), decays Ā. */
  setLtiSsm(Abar: Float32Array, Bbar: Float32Array, C: Float32Array, offset: number, arithmetic: KernelArithmetic): void {
    for (let n = 0; n < this.weights.length; n++) {
      const product = C[offset + n] * Bbar[offset + n];
      this.bbar[n] = Bbar[offset + n];
      this.weights[n] = arithmetic === 'float32' ? Math.fround(product) : product;
      this.decays[n] = Abar[offset + n];
    }
  }

  /**
   * selective-scan channel with step Δ': B̄ = Δ'·B, w = C·B̄, decays Ā = exp(Δ'·A) (float64) or
   * log-rates ↓(Δ'·A) (float32); B_n and C_n sit at B[bIndex(n)] and C[cIndex(n)].
   */
  setSelectiveScan(
    delta: number,
    A: Float32Array,
    aOffset: number,
    B: Float32Array,
    bIndex: (n: number) => number,
    C: Float32Array,
    cIndex: (n: number) => number,
    arithmetic: KernelArithmetic,
  ): void {
    const fround = Math.fround;
    for (let n = 0; n < this.weights.length; n++) {
      const c = C[cIndex(n)];
      if (arithmetic === 'float32') {
        const bbar = fround(delta * B[bIndex(n)]);
        this.bbar[n] = bbar;
        this.weights[n] = fround(c * bbar);
        this.decays[n] = fround(delta * A[aOffset + n]);
      } else {
        const bbar = delta * B[bIndex(n)];
        this.bbar[n] = bbar;
        this.weights[n] = c * bbar;
        this.decays[n] = Math.exp(delta * A[aOffset + n]);
      }
    }
  }

  /**
   * log2 of a bound on max_k |K_k| and on the largest term |w_n·Ā_n^k|, k < L:
   * log2 N + max_n (log2|w_n| + (L−1)·max(0, log2|Ā_n|)). NaN when a weight is not finite.
   */
  log2MagnitudeBound(length: number): number {
    let worst = -Infinity;
    for (let n = 0; n < this.weights.length; n++) {
      const w = this.weights[n];
      if (!Number.isFinite(w)) return Number.NaN;
      if (w === 0) continue;
      const log2Decay = this.source.kind === 'base' ? Math.log2(Math.abs(this.decays[n])) : this.decays[n] / Math.LN2;
      worst = Math.max(worst, Math.log2(Math.abs(w)) + Math.max(0, length - 1) * Math.max(0, log2Decay));
    }
    return worst + Math.log2(this.weights.length);
  }
}

/** The largest log2 magnitude a kernel may reach in each arithmetic (just below its overflow threshold). */
export const LOG2_KERNEL_LIMIT: Readonly<Record<KernelArithmetic, number>> = { float64: 1023, float32: 127 };

/** Why channel `where`'s kernel cannot be held in the arithmetic, or undefined when it can. */
export function kernelRangeReason(kernel: ChannelKernel, length: number, arithmetic: KernelArithmetic, where: string): string | undefined {
  const bound = kernel.log2MagnitudeBound(length);
  if (bound <= LOG2_KERNEL_LIMIT[arithmetic]) return undefined;
  if (Number.isNaN(bound)) {
    return `${where}: a kernel weight C·B̄ is not finite in ${arithmetic} (overflow), so no ${arithmetic} FFT convolution can hold the kernel`;
  }
  return (
    `${where}: the kernel K_k = Σ_n C·B̄·Ā^k may reach 2^${bound.toFixed(1)} for k < L = ${length} ` +
    `(|Ā| > 1 grows it, or C·B̄ is huge), beyond ${arithmetic}'s range 2^${LOG2_KERNEL_LIMIT[arithmetic] + 1}; ` +
    `an FFT convolution mixes every kernel value into every output, so an overflowed kernel poisons the whole channel`
  );
}
