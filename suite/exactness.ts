/**
 * Where IEEE arithmetic guarantees an exact result, and only there (spec/tolerance.md#exact-cases):
 * a dyadic-exact case in the declared precision, and scaling by 2^k. Both rest on one fact: a
 * binary floating-point operation is exact, and commutes with scaling by 2^k, unless it under- or
 * overflows or its result needs more significant bits than the format has.
 */
import type { AnyProblem } from '../spec/families.ts';
import { UNIT_ROUNDOFF, type Precision } from '../spec/precision.ts';
import { dimensionsOf } from '../spec/shapes.ts';
import type { ExpectedOutputs } from './compare.ts';
import { MAX_FINITE, MIN_NORMAL, type ArithmeticDeclaration } from './tolerance.ts';
import { inputsOf } from './transforms.ts';

/** Significant bits (hidden bit included) of each precision. */
export const SIGNIFICANT_BITS: Readonly<Record<Precision, number>> = { float64: 53, float32: 24, float16: 11, bfloat16: 8 };

const scratch = new DataView(new ArrayBuffer(8));

/** Trailing zero bits of a non-zero 32-bit integer. */
function trailingZeros(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/**
 * The lattice exponent of a finite non-zero number: the largest E with v an integer multiple of
 * 2^E (exact, from the float64 bits). Rounding to any binary format keeps a multiple of 2^E a
 * multiple of 2^E (the result is a multiple of its own spacing, or exact), so the lattice of
 * inputs bounds the lattice of every intermediate built from them by +, − and ×.
 */
export function latticeExponent(v: number): number {
  if (v === 0 || !Number.isFinite(v)) throw new RangeError(`latticeExponent: expected a finite non-zero number, got ${v}`);
  scratch.setFloat64(0, v);
  const high = scratch.getUint32(0);
  const low = scratch.getUint32(4);
  const biased = (high >>> 20) & 0x7ff;
  const exponent = biased === 0 ? -1074 : biased - 1075; // of the last bit of the 53-bit significand
  const fraction = high & 0xfffff;
  const zeros = low !== 0 ? trailingZeros(low) : fraction !== 0 ? 32 + trailingZeros(fraction) : 52;
  return exponent + zeros;
}

/** Smallest lattice exponent over the non-zero values of data[offset … offset+count); +Infinity when all are zero. */
function minLattice(data: ArrayLike<number>, offset = 0, count = data.length): number {
  let q = Number.POSITIVE_INFINITY;
  for (let i = offset; i < offset + count; i++) if (data[i] !== 0) q = Math.min(q, latticeExponent(data[i]));
  return q;
}

/** Whether v is a value of the precision, as stored (a flushed subnormal is not: storing it changes it). */
export function representableIn(v: number, precision: Precision, subnormals: 'preserve' | 'flush' = 'preserve'): boolean {
  if (v === 0) return true;
  if (!Number.isFinite(v) || Math.abs(v) > MAX_FINITE[precision]) return false;
  const minNormal = MIN_NORMAL[precision];
  if (subnormals === 'flush' && Math.abs(v) < minNormal) return false;
  // Spacing at |v|: 2^(exponent − bits + 1), never below the subnormal spacing minNormal·2^(1 − bits).
  const bits = SIGNIFICANT_BITS[precision];
  const exponent = Math.max(Math.log2(minNormal), highestBit(v));
  return latticeExponent(v) >= exponent - bits + 1;
}

/** floor(log2 |v|) of a finite non-zero number, exactly (from the bits). */
function highestBit(v: number): number {
  scratch.setFloat64(0, v);
  const biased = (scratch.getUint32(0) >>> 20) & 0x7ff;
  if (biased !== 0) return biased - 1023;
  return Math.floor(Math.log2(Math.abs(v))); // float64 subnormal: never a float32 value, only bounds matter
}

/** The arithmetic precision of a declaration: its accumulation, when declared, else its precision. */
function arithmeticOf(declaration: ArithmeticDeclaration): Precision {
  return declaration.accumulation ?? declaration.precision;
}

/**
 * Whether a dyadic-exact case is exact for this declaration. spec/regimes.ts makes every
 * intermediate of every +/× order exact in float32, so an arithmetic at least as wide keeps it
 * exact; a narrower storage only rounds the inputs (on upload) and the results (on store), which
 * are exact when every input and every reference output is a value of the storage precision.
 * An arithmetic narrower than float32 (float16 accumulation) is not covered, nor is an FFT (its
 * twiddles are irrational): such cases are held to the bound.
 */
export function dyadicExactIn(problem: AnyProblem, expected: ExpectedOutputs, declaration: ArithmeticDeclaration): boolean {
  if (declaration.errorModel === 'normwise') return false;
  if (UNIT_ROUNDOFF[arithmeticOf(declaration)] > UNIT_ROUNDOFF.float32) return false;
  const storage = declaration.precision;
  if (UNIT_ROUNDOFF[storage] <= UNIT_ROUNDOFF.float32 && declaration.subnormals !== 'flush') return true;
  const fits = (data: ArrayLike<number>) => {
    for (let i = 0; i < data.length; i++) if (!representableIn(data[i], storage, declaration.subnormals)) return false;
    return true;
  };
  for (const tensor of Object.values(inputsOf(problem))) {
    if (tensor !== undefined && !fits(tensor.data)) return false;
  }
  return Object.values(expected.outputs).every((t) => fits(t.data));
}

/**
 * Whether scaling the additive inputs by 2^k scales every output by exactly 2^k in every
 * evaluation order built from +, − and ×: certified when no operation of either run (scale 1 and 2^k) can under- or
 * overflow in any precision the declaration computes or stores in. Sums of floats are exact below
 * the normal range, but products and roundings into storage are not, and a flush is not; so the
 * certificate asks that every non-zero intermediate be at least the smallest normal: every
 * intermediate is a sum of products of inputs, a multiple of 2^Q where Q adds up the lattice
 * exponents of the factors of a term (latticeExponent), so |nonzero| ≥ 2^Q. Magnitudes stay below
 * Σ|terms|·G^L. Families with computed transcendental factors (selective-scan's exp, softplus,
 * silu) and FFT evaluation (irrational twiddles) are not certified: they are held to the bound.
 */
export function scalingIsExact(problem: AnyProblem, declaration: ArithmeticDeclaration, exponent: number): boolean {
  if (declaration.errorModel === 'normwise' || problem.family === 'selective-scan') return false;
  const arithmetic = arithmeticOf(declaration);
  const minNormal = Math.max(MIN_NORMAL[declaration.precision], MIN_NORMAL[arithmetic]);
  const maxFinite = Math.min(MAX_FINITE[declaration.precision], MAX_FINITE[arithmetic]);
  const lowest = Math.log2(minNormal) - Math.min(0, exponent);
  const highest = maxFinite / 2 ** Math.max(0, exponent) / 2;
  for (const { lattice, magnitude } of channelExtents(problem)) {
    if (lattice < lowest || !(magnitude <= highest)) return false;
  }
  return true;
}

/** Per channel: the lattice exponent Q of every intermediate and a bound on every intermediate's magnitude. */
function channelExtents(problem: Exclude<AnyProblem, { family: 'selective-scan' }>): { lattice: number; magnitude: number }[] {
  const { batch, dim, length: L, stateSize: N } = dimensionsOf(problem);
  const out: { lattice: number; magnitude: number }[] = [];
  const sumAbs = (data: ArrayLike<number>, offset: number, count: number) => {
    let s = 0;
    for (let i = offset; i < offset + count; i++) s += Math.abs(data[i]);
    return s;
  };
  for (let c = 0; c < batch * dim; c++) {
    const row = c * L;
    switch (problem.family) {
      case 'prefix-sum': {
        const { x } = problem.inputs;
        out.push({ lattice: minLattice(x.data, row, L), magnitude: sumAbs(x.data, row, L) });
        break;
      }
      case 'linear-recurrence': {
        const { a, b, h0 } = problem.inputs;
        // A term is a_{k+1}···a_t·b_k: its lattice adds the decays' exponents (a zero decay ends it).
        let decays = 0;
        let growth = 1;
        for (let t = 0; t < L; t++) {
          const v = a.data[row + t];
          if (v !== 0) decays += Math.min(0, latticeExponent(v));
          growth = Math.max(growth, Math.abs(v));
        }
        const additive = Math.min(minLattice(b.data, row, L), h0 === undefined ? Number.POSITIVE_INFINITY : minLattice(h0.data, c, 1));
        const total = sumAbs(b.data, row, L) + (h0 === undefined ? 0 : Math.abs(h0.data[c]));
        out.push({ lattice: additive + decays, magnitude: total * growth ** L });
        break;
      }
      case 'lti-ssm': {
        const { Abar, Bbar, C, D, u } = problem.inputs;
        const d = c % dim;
        // y_t = Σ_n C_n·Σ_k Ā_n^(t−k)·B̄_n·u_k + D·u_t, in any order: each term's factors' lattices add up.
        let factors = Number.POSITIVE_INFINITY;
        let gain = 0;
        for (let n = 0; n < N; n++) {
          const [ab, bb, cc] = [Abar.data[d * N + n], Bbar.data[d * N + n], C.data[d * N + n]];
          if (bb === 0 || cc === 0) continue;
          const power = ab === 0 ? 0 : L * Math.min(0, latticeExponent(ab)); // a tree may form Ā^L
          // A subset of a term's factors is an intermediate too: only exponents below 0 can lower Q.
          factors = Math.min(factors, Math.min(0, latticeExponent(bb)) + Math.min(0, latticeExponent(cc)) + power);
          gain += Math.abs(bb * cc) * Math.max(1, Math.abs(ab)) ** L;
        }
        const skip = D === undefined || D.data[d] === 0 ? 0 : Math.min(0, latticeExponent(D.data[d]));
        gain += Math.abs(D?.data[d] ?? 0);
        out.push({ lattice: minLattice(u.data, row, L) + Math.min(0, factors, skip), magnitude: sumAbs(u.data, row, L) * Math.max(1, gain) });
        break;
      }
    }
  }
  return out;
}
