/**
 * Where IEEE arithmetic guarantees an exact result, and only there (spec/tolerance.md#exact-cases):
 * a dyadic-exact case in the declared precision, and scaling by 2^k. Both rest on one fact: a
 * binary floating-point operation is exact, and commutes with scaling by 2^k, unless it under- or
 * overflows or its result needs more significant bits than the format has.
 */
import type { AnyProblem } from '../spec/families.ts';
import { MAX_FINITE, MIN_NORMAL, SIGNIFICAND_BITS, UNIT_ROUNDOFF, type Precision } from '../spec/precision.ts';
import { toleranceTermsOf } from '../spec/families/index.ts';
import { latticeExponent } from '../spec/tolerance-terms.ts';
import { dimensionsOf } from '../spec/shapes.ts';
import type { ExpectedOutputs } from './compare.ts';
import type { ArithmeticDeclaration } from './tolerance.ts';
import { inputsOf } from './transforms.ts';

const scratch = new DataView(new ArrayBuffer(8));


/** Whether v is a value of the precision, as stored (a flushed subnormal is not: storing it changes it). */
export function representableIn(v: number, precision: Precision, subnormals: 'preserve' | 'flush' = 'preserve'): boolean {
  if (v === 0) return true;
  if (!Number.isFinite(v) || Math.abs(v) > MAX_FINITE[precision]) return false;
  const minNormal = MIN_NORMAL[precision];
  if (subnormals === 'flush' && Math.abs(v) < minNormal) return false;
  // Spacing at |v|: 2^(exponent − bits + 1), never below the subnormal spacing minNormal·2^(1 − bits).
  const bits = SIGNIFICAND_BITS[precision];
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
  const extents = toleranceTermsOf(problem.family).scalingExtents;
  if (declaration.errorModel === 'normwise' || extents === undefined) return false;
  const arithmetic = arithmeticOf(declaration);
  const minNormal = Math.max(MIN_NORMAL[declaration.precision], MIN_NORMAL[arithmetic]);
  const maxFinite = Math.min(MAX_FINITE[declaration.precision], MAX_FINITE[arithmetic]);
  const lowest = Math.log2(minNormal) - Math.min(0, exponent);
  const highest = maxFinite / 2 ** Math.max(0, exponent) / 2;
  for (const { lattice, magnitude } of extents(problem as never, dimensionsOf(problem))) {
    if (lattice < lowest || !(magnitude <= highest)) return false;
  }
  return true;
}

