/**
 * Powers Ā_n^k of one channel's N decays for k < L, held in two small tables so that every power
 * is one float64 product of two accurately computed factors (blocked powering):
 *
 *     Ā^(j·B + i) = Ā^(j·B) · Ā^i,   i < B,  j < J = ⌈L/B⌉,  B = 2^⌈log2 √L⌉
 *
 * Table entries for a given base Ā (lti-ssm, and the float64 selective scan whose Ā = exp(Δ'·A)
 * is a float64 value) come from repeated multiplication in double-double (error ≲ k·2^-104, so
 * each entry is the correctly rounded power but for rare ties), falling back to Math.pow near the
 * ends of the exponent range where Dekker's split would overflow; entries for a log-rate x (the
 * float32 selective scan) are Math.exp(k·x). A power is then one product of two entries: at most
 * ~1.5 ulp (measured ≤ 3.3 u at L = 65536), whatever k is. Repeated float64 multiplication
 * (p ← p·Ā) carries k roundings instead, an error growing like k·u (measured 225 u at L = 65536)
 * that dominates the FFT's log2(M)·u for long L; Math.pow for every (n, k) would be accurate but
 * costs N·L transcendental calls, where the tables cost N·(B + J) ≈ 2·N·√L cheap steps.
 * Measured against double-double powers in test/implementations/fft-conv/kernel-accuracy.test.ts.
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
      const step = doubleDoublePowers(a, 0, a, B, within, n, N);
      doubleDoublePowers(step.hi, step.lo, a, J, blocks, n, N, B);
    } else {
      const x = source.rates[offset + n];
      for (let i = 0; i < B; i++) within[i * N + n] = Math.exp(i * x);
      for (let j = 0; j < J; j++) blocks[j * N + n] = Math.exp(j * B * x);
    }
  }
}

/** Dekker's splitter 2^27 + 1: x·SPLITTER overflows for |x| ≳ 2^996, hence SAFE_MAX. */
const SPLITTER = 134217729;
const SAFE_MAX = 2 ** 960;
const SAFE_MIN = 2 ** -900;

/** The rounding error of the float64 product p = fl(a·b): a·b = p + error exactly (Dekker, no FMA). */
function productError(a: number, b: number, p: number): number {
  let t = SPLITTER * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLITTER * b;
  const bh = t - (t - b);
  const bl = b - bh;
  return ah * bh - p + ah * bl + al * bh + al * bl;
}

/**
 * out[k·stride + column] = (rh + rl)^k for k < count, by double-double repeated multiplication,
 * rounded to float64; returns (rh + rl)^count as a double-double. Outside [SAFE_MIN, SAFE_MAX]
 * (where the split overflows or loses its low part) the remaining entries come from
 * Math.pow(base, k·exponentStep), `base` being the float64 the powers are of.
 */
function doubleDoublePowers(
  rh: number,
  rl: number,
  base: number,
  count: number,
  out: Float64Array,
  column: number,
  stride: number,
  exponentStep = 1,
): { hi: number; lo: number } {
  const powerBase = exponentStep === 1 ? rh : base;
  let ph = 1;
  let pl = 0;
  for (let k = 0; k < count; k++) {
    const magnitude = Math.abs(ph);
    if (ph !== 0 && (magnitude > SAFE_MAX || magnitude < SAFE_MIN)) {
      for (let rest = k; rest < count; rest++) out[rest * stride + column] = Math.pow(powerBase, rest * exponentStep);
      const end = Math.pow(powerBase, count * exponentStep);
      return { hi: end, lo: 0 };
    }
    out[k * stride + column] = ph;
    const p = ph * rh;
    const e = productError(ph, rh, p) + (ph * rl + pl * rh);
    ph = p + e;
    pl = e - (ph - p);
  }
  return { hi: ph, lo: pl };
}

/** Ā_n^k from the tables (k < B·J); for tests and the README's accuracy table. */
export function powerAt(tables: PowerTables, n: number, k: number): number {
  const j = Math.floor(k / tables.blockSize);
  const i = k - j * tables.blockSize;
  return tables.blocks[j * tables.stateSize + n] * tables.within[i * tables.stateSize + n];
}
