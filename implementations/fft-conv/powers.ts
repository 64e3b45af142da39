/**
 * Powers Ā_n^k of one channel's N decays for k < L, held in two small tables so that every power
 * is one float64 product of two accurately computed factors (blocked powering):
 *
 *     Ā^(j·B + i) = Ā^(j·B) · Ā^i,   i < B,  j < J = ⌈L/B⌉,  B = 2^⌈log2 √L⌉
 *
 * Each table entry comes straight from Math.pow(Ā, k) (lti-ssm, where Ā is given) or
 * Math.exp(k·x) with x = Δ'·A (selective scan, where log Ā is known), both within about one ulp,
 * so a power carries at most ~3 roundings whatever k is. Repeated multiplication (p ← p·Ā) would
 * carry k roundings, an error growing like k·u that dominates the FFT's log2(M)·u for long L;
 * calling Math.pow for every (n, k) would be accurate but costs N·L transcendental calls, where
 * the tables cost N·(B + J) ≈ 2·N·√L. Measured against double-double binary powering in
 * test/implementations/fft-conv/kernel-accuracy.test.ts (numbers in README.md).
 *
 * Row-major layout (row = exponent, column = n) so that the kernel's inner loop over n is
 * contiguous.
 */

/** The blocked power tables of one channel: Ā_n^(j·B+i) = blocks[j·N + n] · within[i·N + n]. */
export interface PowerTables {
  /** B, the block length (a power of two). */
  readonly blockSize: number;
  /** J = ⌈L / B⌉, the number of blocks. */
  readonly blockCount: number;
  /** N, the number of decays. */
  readonly stateSize: number;
  /** Ā_n^i for i < B, row i. */
  readonly within: Float64Array;
  /** Ā_n^(j·B) for j < J, row j. */
  readonly blocks: Float64Array;
}

/** How the k-th power of decay n is computed accurately: Math.pow(Ā_n, k) or Math.exp(k·x_n). */
export type PowerSource =
  | { readonly kind: 'base'; readonly bases: Float64Array | Float32Array }
  | { readonly kind: 'log-rate'; readonly rates: Float64Array | Float32Array };

/** The block length for sequences of length L: the power of two nearest above √L (1 for L ≤ 1). */
export function blockSizeFor(length: number): number {
  if (length <= 1) return 1;
  return 2 ** Math.ceil(Math.log2(Math.sqrt(length)));
}

/** Allocates power tables for N decays and sequences up to length L. */
export function allocatePowerTables(stateSize: number, length: number): PowerTables {
  const blockSize = blockSizeFor(length);
  const blockCount = Math.max(1, Math.ceil(length / blockSize));
  return {
    blockSize,
    blockCount,
    stateSize,
    within: new Float64Array(blockSize * stateSize),
    blocks: new Float64Array(blockCount * stateSize),
  };
}

/** Fills the tables from the decays of one channel (N values from `offset` of the source). */
export function fillPowerTables(tables: PowerTables, source: PowerSource, offset: number): void {
  const { blockSize: B, blockCount: J, stateSize: N, within, blocks } = tables;
  for (let n = 0; n < N; n++) {
    if (source.kind === 'base') {
      const a = source.bases[offset + n];
      for (let i = 0; i < B; i++) within[i * N + n] = Math.pow(a, i);
      for (let j = 0; j < J; j++) blocks[j * N + n] = Math.pow(a, j * B);
    } else {
      const x = source.rates[offset + n];
      for (let i = 0; i < B; i++) within[i * N + n] = Math.exp(i * x);
      for (let j = 0; j < J; j++) blocks[j * N + n] = Math.exp(j * B * x);
    }
  }
}

/** Ā_n^k from the tables (k < B·J); for tests and the README's accuracy table. */
export function powerAt(tables: PowerTables, n: number, k: number): number {
  const j = Math.floor(k / tables.blockSize);
  const i = k - j * tables.blockSize;
  return tables.blocks[j * tables.stateSize + n] * tables.within[i * tables.stateSize + n];
}
