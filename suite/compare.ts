/**
 * Judges an implementation's outputs against the reference under the tolerance model, and
 * measures them in the units users know (abs, rel, ULP, torch-style allclose).
 */
import type { AnyProblem } from '../spec/families.ts';
import { angleOutputNames, outputKind } from '../spec/families/index.ts';
import type { FamilyName } from '../spec/families.ts';
import { MAX_FINITE, MIN_NORMAL, SIGNIFICAND_BITS, type Precision } from '../spec/precision.ts';
import { unravelIndex, type Float64Tensor, type OutputTensor } from '../spec/tensor.ts';
import {
  channelModel,
  elementBound,
  elementPlace,
  normwiseBound,
  roundoffsOf,
  type ArithmeticDeclaration,
} from './tolerance.ts';
import { ulpDistance } from './ulp-distance.ts';
import { dyadicExactIn } from './exactness.ts';

/** mamba_ssm's test tolerances (rtol, atol) per dtype, for the allclose column. */
export const MAMBA_ALLCLOSE: Readonly<Record<Precision, { readonly rtol: number; readonly atol: number }>> = {
  float64: { rtol: 6e-4, atol: 2e-3 },
  float32: { rtol: 6e-4, atol: 2e-3 },
  float16: { rtol: 3e-3, atol: 5e-3 },
  bfloat16: { rtol: 3e-2, atol: 5e-2 },
};

/**
 * The distance of two angles taken mod 2π: |((a − b + π) mod 2π) − π|, at most π, so 2π − ε and ε
 * are 2ε apart (a wrap is never a difference); NaN where either is not finite.
 */
export function circularDistance(a: number, b: number): number {
  const twoPi = 2 * Math.PI;
  const d = (a - b + Math.PI) % twoPi;
  return Math.abs((d < 0 ? d + twoPi : d) - Math.PI);
}

/** How far an output's value lies from the reference's: circular distance for an angle output (the descriptor's comparison 'angle'), else |a − b|. */
export function distanceOf(family: FamilyName, name: string): (a: number, b: number) => number {
  return angleOutputNames(family).includes(name as never) ? circularDistance : (a, b) => Math.abs(a - b);
}

/** How a comparison judged the elements. */
export type JudgedBy = 'componentwise' | 'normwise' | 'exact';

/** The element that came closest to (or went furthest past) its bound. */
export interface WorstElement {
  readonly output: string;
  readonly index: number;
  /** Coordinates in the output's shape, e.g. [b, d, t]. */
  readonly coordinates: readonly number[];
  readonly expected: number;
  readonly got: number;
  readonly error: number;
  readonly bound: number;
  /** Error in condition-scaled units |ŷ − y| / (u·S). */
  readonly e: number;
  /** Why it fails, when it does for a reason other than size (NaN, an unexpected Inf). */
  readonly reason?: string;
}

/**
 * The verdict and measurements of one comparison. The measurements in the units users know (e,
 * abs, rel, ULP) describe the normal range: elements whose condition scale S is under the declared
 * precision's smallest normal number are counted apart, since below it rounding is absolute (a
 * float32 result 1e-45 off where S is 1e-43 is e ≈ 1e+5 and fine); the bound usage and the
 * verdict cover every element.
 */
export interface Comparison {
  readonly judgedBy: JudgedBy;
  readonly passed: boolean;
  readonly elements: number;
  readonly violations: number;
  /** Elements where the output or the reference is not finite (judged by the model, measured nowhere). */
  readonly overflowed: number;
  /** Outputs that came back NaN. */
  readonly nanElements: number;
  /** Outputs that came back ±Infinity. */
  readonly infElements: number;
  /** Finite elements under the underflow floor: 0 < S < MIN_NORMAL, or S = 0 with a nonzero output. */
  readonly underflowElements: number;
  /** max |ŷ − y| over the elements under the underflow floor. */
  readonly underflowMaxAbsError: number;
  /** Normal-range elements with a finite nonzero reference. */
  readonly nonzeroElements: number;
  /**
   * Of nonzeroElements, those whose bound is at least |y|: the check does not resolve their value (an
   * output of 0 or of the wrong sign would pass), from cancellation (S ≫ |y|) or an allowance as large as the value.
   */
  readonly unresolvedElements: number;
  /** max |ŷ − y| / (u·S) over the normal range, u of the declared precision. */
  readonly maxE: number;
  /** 99th percentile of e over the normal range. */
  readonly p99E: number;
  /** max error / bound over every element: ≤ 1 passes. */
  readonly maxBoundUsage: number;
  /** The bound in e units (bound / (u·S)) at the element of largest bound usage. */
  readonly betaAtWorst: number;
  /** max |ŷ − y| over the normal range. */
  readonly maxAbsError: number;
  /** max |ŷ − y| / |y| over the normal range, y ≠ 0. */
  readonly maxRelError: number;
  /** max distance in ULPs of the declared precision over the normal range (suite/ulp-distance.ts: never past the format's range). */
  readonly maxUlp: number;
  /** Whether torch.allclose at mamba_ssm's rtol/atol for the precision would pass. */
  readonly allclose: boolean;
  readonly worst?: WorstElement;
}

/** The reference's answer as the comparison reads it. */
export interface ExpectedOutputs {
  readonly outputs: Readonly<Record<string, Float64Tensor>>;
  readonly conditionScales: Readonly<Record<string, Float64Tensor>>;
  readonly depthScales: Readonly<Record<string, Float64Tensor>>;
}

/** Options of a comparison. */
export interface CompareOptions {
  /** Require bit-for-bit equality (dyadic-exact cases), whatever the declared error model. */
  readonly exact?: boolean;
}

/** Compares every output of an implementation with the reference under the tolerance model. */
export function compareWithReference(
  problem: AnyProblem,
  outputs: Readonly<Record<string, OutputTensor>>,
  expected: ExpectedOutputs,
  declaration: ArithmeticDeclaration,
  options: CompareOptions = {},
): Comparison {
  const r = roundoffsOf(declaration);
  const judgedBy: JudgedBy = options.exact ? 'exact' : (declaration.errorModel ?? 'componentwise');
  const { rtol, atol } = MAMBA_ALLCLOSE[declaration.precision];
  const eValues: number[] = [];
  let elements = 0;
  let violations = 0;
  let overflowed = 0;
  let nanElements = 0;
  let infElements = 0;
  let underflowElements = 0;
  let underflowMaxAbsError = 0;
  let nonzeroElements = 0;
  let unresolvedElements = 0;
  const minNormal = MIN_NORMAL[declaration.precision];
  let maxE = 0;
  let maxBoundUsage = 0;
  let betaAtWorst = 0;
  let maxAbsError = 0;
  let maxRelError = 0;
  let maxUlp = 0;
  let allclose = true;
  let worst: WorstElement | undefined;
  let worstScore = -1;

  const allBounds = options.exact ? undefined : elementBounds(problem, expected, declaration);
  for (const name of Object.keys(expected.outputs)) {
    const y = expected.outputs[name];
    const S = expected.conditionScales[name].data;
    const got = outputs[name].data;
    const bounds = allBounds?.[name];
    const distance = distanceOf(problem.family, name);
    for (let i = 0; i < y.data.length; i++) {
      elements++;
      const want = y.data[i];
      const have = got[i];
      const bound = bounds === undefined ? 0 : bounds[i];
      const error = distance(have, want);
      const { violated, reason } = judgeElement(want, have, bound, S[i], declaration.precision, distance);
      const e = S[i] > 0 ? error / (r.storage * S[i]) : error === 0 ? 0 : Number.POSITIVE_INFINITY;
      const usage = !Number.isFinite(have)
        ? violated ? Number.POSITIVE_INFINITY : 0
        : bound > 0 ? error / bound : error === 0 ? 0 : Number.POSITIVE_INFINITY;
      const score = violated ? Number.POSITIVE_INFINITY : usage;
      if (Number.isNaN(have)) nanElements++;
      else if (!Number.isFinite(have)) infElements++;
      if (Number.isFinite(have) && Number.isFinite(want)) {
        if (!(error <= atol + rtol * Math.abs(want))) allclose = false;
        if (S[i] < minNormal && !(S[i] === 0 && error === 0)) {
          underflowElements++;
          underflowMaxAbsError = Math.max(underflowMaxAbsError, error);
        } else {
          if (S[i] > 0) eValues.push(e);
          maxE = Math.max(maxE, e);
          maxAbsError = Math.max(maxAbsError, error);
          if (want !== 0) {
            maxRelError = Math.max(maxRelError, error / Math.abs(want));
            nonzeroElements++;
            if (bound >= Math.abs(want)) unresolvedElements++;
          }
          maxUlp = Math.max(maxUlp, ulpDistance(want, have, declaration.precision));
        }
      } else {
        overflowed++;
        allclose = false;
      }
      if (violated) violations++;
      if (!violated) maxBoundUsage = Math.max(maxBoundUsage, usage);
      else maxBoundUsage = Math.max(maxBoundUsage, Number.isFinite(usage) ? usage : Number.POSITIVE_INFINITY);
      if (score > worstScore || (worst === undefined && score >= worstScore)) {
        worstScore = score;
        betaAtWorst = S[i] > 0 ? bound / (r.storage * S[i]) : 0;
        worst = {
          output: name,
          index: i,
          coordinates: unravel(i, y.shape),
          expected: want,
          got: have,
          error,
          bound,
          e,
          ...(reason === undefined ? {} : { reason }),
        };
      }
    }
  }
  return {
    judgedBy,
    passed: violations === 0,
    elements,
    violations,
    overflowed,
    nanElements,
    infElements,
    underflowElements,
    underflowMaxAbsError,
    nonzeroElements,
    unresolvedElements,
    maxE,
    p99E: percentile(eValues, 0.99),
    maxBoundUsage,
    betaAtWorst,
    maxAbsError,
    maxRelError,
    maxUlp,
    allclose,
    ...(worst === undefined ? {} : { worst }),
  };
}

/** The verdict on one element: whether it violates the model, and why when the reason is not size. */
export interface ElementVerdict {
  readonly violated: boolean;
  readonly reason?: string;
}

/**
 * Judges one element: within its bound, or a legitimate overflow (NaN or ±Inf where the terms
 * flowing into it leave the precision's range, ±Inf where the true value rounds to it), or not
 * judged at all where the float64 reference itself is not finite.
 */
export function judgeElement(
  want: number,
  have: number,
  bound: number,
  conditionScale: number,
  precision: Precision,
  distance: (a: number, b: number) => number = (a, b) => Math.abs(a - b),
): ElementVerdict {
  if (!Number.isFinite(want) || !Number.isFinite(conditionScale)) return { violated: false };
  if (Number.isFinite(have)) return { violated: !(distance(have, want) <= bound) };
  const maxFinite = MAX_FINITE[precision];
  const termsOverflow = conditionScale > maxFinite;
  const roundsToInfinity = !Number.isNaN(have) && Math.sign(have) === Math.sign(want) && Math.abs(want) + bound > maxFinite;
  if (termsOverflow || roundsToInfinity) return { violated: false };
  return { violated: true, reason: `${have} where the reference is ${want} and every term stays inside the ${precision} range` };
}

/**
 * Whether a case must match bit for bit: a dyadic-exact one whose every operation and every
 * storage rounding is exact in the declared precision (suite/exactness.ts#dyadicExactIn). An FFT's
 * irrational twiddles, an arithmetic narrower than float32 and results the storage precision cannot
 * hold (a float16 result needing 12 significant bits) keep the bound.
 */
export function exactRegime(regime: string, declaration: ArithmeticDeclaration, problem: AnyProblem, expected: ExpectedOutputs): boolean {
  return regime === 'dyadic-exact' && dyadicExactIn(problem, expected, declaration);
}

/** The tolerance bound of every element of every output, keyed by output name. */
export function elementBounds(
  problem: AnyProblem,
  expected: ExpectedOutputs,
  declaration: ArithmeticDeclaration,
): Record<string, Float64Array> {
  const r = roundoffsOf(declaration);
  const model = channelModel(problem, r);
  const out: Record<string, Float64Array> = {};
  for (const name of Object.keys(expected.outputs)) {
    const S = expected.conditionScales[name].data;
    const W = expected.depthScales[name].data;
    const kind = outputKind(problem.family, name);
    const bounds = new Float64Array(S.length);
    const flushMove = model.multiplierFlush?.[name];
    for (let i = 0; i < S.length; i++) {
      const place = elementPlace(model, kind, i);
      // The flushed run's own rounding is a relative u·depth ≪ 1 of the same magnitudes: doubling the move covers it (spec/flush-envelope.ts).
      bounds[i] = elementBound(model, r, place, S[i], W[i]) + (flushMove === undefined ? 0 : 2 * flushMove[i]);
      if (declaration.errorModel === 'normwise' && kind === 'sequence') {
        const normwise = normwiseBound(model, r, place);
        if (!Number.isNaN(normwise)) bounds[i] += normwise;
      }
    }
    out[name] = bounds;
  }
  return out;
}

/** Spacing of the declared precision's numbers at |x| (the subnormal spacing below the normal range). */
export function ulpOf(x: number, precision: Precision): number {
  const minExponent = Math.log2(MIN_NORMAL[precision]);
  const magnitude = Math.abs(x);
  const exponent = magnitude === 0 ? minExponent : Math.max(minExponent, Math.floor(Math.log2(magnitude)));
  return 2 ** (exponent - SIGNIFICAND_BITS[precision] + 1);
}

/** Row-major coordinates of a flat index (spec/tensor.ts#unravelIndex). */
export const unravel = unravelIndex;

/** The q-quantile (nearest rank) of a list of numbers; 0 for an empty list. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
