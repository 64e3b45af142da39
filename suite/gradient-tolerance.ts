/**
 * The gradient tolerance model (spec/tolerance.md, "Gradients", rule V): for every element of a
 * backward kernel's gradient, a bound on |ĝ − g| from the reference's gradient condition scale G
 * (reference/vjp), the implementation's declared arithmetic and the family's transcendental
 * allowances, sound for any correct evaluation order of the forward recomputation, the adjoint
 * scan and the shared-parameter sums. Draft for issue 17: not wired into the suite yet.
 */
import type { AnyProblem } from '../spec/families.ts';
import { toleranceTermsOf } from '../spec/families/index.ts';
import { dtLimits, softplus } from '../spec/families/ssd/discretization.ts';
import { MAX_FINITE } from '../spec/precision.ts';
import { dimensionsOf } from '../spec/shapes.ts';
import { expAllowance } from '../spec/tolerance-terms.ts';
import { roundoffsOf, treeDepth, type ArithmeticDeclaration } from './tolerance.ts';

/** The reference's depth scale is a difference quotient that may fall short by 2^-32·G: covered with room. */
const DEPTH_SLACK = 2 ** -30;

/** A tensor of values as the reference and kernels return them. */
interface Values {
  readonly data: ArrayLike<number>;
}

/** Per differentiable input: the bound of every element (+Infinity: not judged, see `unjudged`). */
export interface GradientBounds {
  readonly bounds: Readonly<Record<string, Float64Array>>;
  /** The largest relative factor applied to G, γ(ρ) = ρ/(1 − ρ) over the inputs. */
  readonly relative: number;
  /** The factor applied to the depth scale: 2u_a + u_in + δ_A per decay a term spans, over (1 − ρ). */
  readonly perStep: number;
  /** The largest absolute floor added to an element (rule U's counterpart). */
  readonly floor: number;
  /** Whether a non-finite gradient element is allowed (intermediates may leave the precision's range). */
  readonly overflowPossible: boolean;
  /** Elements not judged: a clamp bound within the kernel's rounding of its argument makes the derivative 0 or 1. */
  readonly unjudged: number;
}

/** The largest element of |values| (0 when empty). */
function maxMagnitude(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]));
  return m;
}

/** The largest entry of an array (0 when empty or absent). */
function maxOf(values: ArrayLike<number> | undefined): number {
  let m = 0;
  if (values !== undefined) for (let i = 0; i < values.length; i++) m = Math.max(m, values[i]);
  return m;
}

/** The arguments of softplus (δ = delta + bias, or dt + dtBias, where softplus is on) and of the gate z, by family. */
function transcendentalArguments(problem: AnyProblem): { softplus: number[]; gate: ArrayLike<number> } {
  switch (problem.family) {
    case 'selective-scan': {
      const { delta, deltaBias, z } = problem.inputs;
      const [, dim, L] = delta.shape;
      const shifted = problem.options.deltaSoftplus ? Array.from(delta.data, (v, i) => v + (deltaBias?.data[Math.floor(i / L) % dim] ?? 0)) : [];
      return { softplus: shifted, gate: z?.data ?? [] };
    }
    case 'ssd': {
      const { dt, dtBias, z } = problem.inputs;
      const H = dt.shape[2];
      const shifted = problem.options.dtSoftplus ? Array.from(dt.data, (v, i) => v + (dtBias?.data[i % H] ?? 0)) : [];
      return { softplus: shifted, gate: z?.data ?? [] };
    }
    case 'mamba3-siso':
      return { softplus: [], gate: problem.inputs.Z?.data ?? [] };
    default:
      return { softplus: [], gate: [] };
  }
}

/**
 * ssd's dt elements whose clamp mask a correct kernel may get either way: v = softplus(dt + bias)
 * (or dt + bias) lies within the kernel's error of v from lo or hi, so clamp' is 0 or 1 depending
 * on the last bit. Returns the dt indices (b·L + t)·H + h.
 */
function ambiguousClamps(problem: AnyProblem, relativeDeltaError: number): number[] {
  if (problem.family !== 'ssd' || problem.inputs.dtLimit === undefined) return [];
  const { dt, dtBias } = problem.inputs;
  const H = dt.shape[2];
  const { lo, hi } = dtLimits(problem.inputs.dtLimit.data);
  const out: number[] = [];
  for (let i = 0; i < dt.data.length; i++) {
    const shifted = dt.data[i] + (dtBias?.data[i % H] ?? 0);
    const v = problem.options.dtSoftplus ? softplus(shifted) : shifted;
    const width = 2 * relativeDeltaError * Math.abs(v) + Number.MIN_VALUE;
    if (Math.abs(v - lo) <= width || Math.abs(v - hi) <= width) out.push(i);
  }
  return out;
}

/**
 * The per-element bounds of every gradient of a problem (rule V): ĝ may differ from the reference
 * g by at most (ρ·G + (2u_a + u_in + δ_A)·W_G)/(1 − ρ) + floor, with G and W_G the reference's
 * condition and depth scales of the element and floor = η·(operations on a term)·F/(1 − ρ), F its floor scale.
 */
export function gradientBounds(
  problem: AnyProblem,
  conditionScales: Readonly<Record<string, Values | undefined>>,
  depthScales: Readonly<Record<string, Values | undefined>>,
  cotangents: Readonly<Record<string, Values>>,
  declaration: ArithmeticDeclaration,
  floorScales: Readonly<Record<string, Values | undefined>>,
): GradientBounds {
  const r = roundoffsOf(declaration);
  const ua = r.arithmetic;
  const dims = dimensionsOf(problem);
  const L = dims.length;
  const N = dims.stateSize;
  const terms = toleranceTermsOf(problem.family).channelTerms(problem as never, dims, r);
  const decayError = maxOf(terms.decayError);
  const inputError = maxOf(terms.inputError);
  const gateError = maxOf(terms.gateError) * ua;
  const { softplus: softplusArguments, gate } = transcendentalArguments(problem);
  // softplus'(δ) = e/(e + 1), e = exp(δ): exp's allowance, the sum and the division, and δ's own
  // rounding amplified by d ln σ/dδ = 1 − σ ≤ 1 (|δ|·u). Above the threshold it is exactly 1.
  let softplusError = 0;
  for (const x of softplusArguments) if (x <= 20) softplusError = Math.max(softplusError, (expAllowance(x) + 3 + Math.abs(x)) * ua + r.input);
  // silu'(z) = σ·(1 + z·(1 − σ)) relative to its condition scale σ·(1 + |z|·(1 − σ)): σ errs by
  // (exp + 2)·u, 1 − σ absolutely by that plus u, which z multiplies; three more roundings.
  let siluError = 0;
  for (let i = 0; i < gate.length; i++) {
    const z = Math.abs(gate[i]);
    siluError = Math.max(siluError, ((1 + z) * (expAllowance(z) + 3) + 3) * ua + (1 + z) * r.input);
  }
  // The partial derivative a term carries (a·A, a·Δ, Δ·B, Δ·u, B·u): a decay's error, Δ's, two roundings.
  const partialError = decayError + inputError + 2 * ua;
  // Per decay a term spans: the decay's error and two roundings (product, sum); on the depth scale.
  const stepError = 2 * ua + r.input + decayError;
  // A tree order of either scan (the adjoint as a reverse associative scan, chunk carries): on G.
  const treeRoundings = 2 * treeDepth(L);
  const channels = dims.batch * dims.dim;
  const grid = channels * Math.max(1, L) * N;
  // One cotangent per term, rounded into the kernel's storage.
  const perTerm = (sumLength: number): number =>
    ua * (treeRoundings + sumLength + N + 8) +
    r.storage +
    r.input * 8 +
    r.output +
    inputError +
    gateError +
    partialError +
    softplusError +
    siluError;

  const inputs = problem.inputs as unknown as Record<string, Values>;
  let magnitude = 1;
  for (const t of Object.values(inputs)) if (t !== undefined) magnitude = Math.max(magnitude, maxMagnitude(t.data));
  for (const t of Object.values(cotangents)) magnitude = Math.max(magnitude, maxMagnitude(t.data));
  const growth = Math.max(1, maxOf(terms.growth));
  // At most 3 magnitudes (a state, an adjoint, a partial), each at most (L + 1)·max|value|·growth^L,
  // multiply a term's factors: where that can leave the precision's range, so may a kernel's intermediates.
  const reach = Math.min(1e300, growth ** (L + 1) * ((L + 1) * magnitude) ** 3);
  // Floor: below the normal range an operation may err by η absolutely. An error ε in an
  // intermediate r reaches ĝ times ∂g/∂r, at most the sum of τ⁺ over the terms through r (τ⁺: the
  // term with every factor raised to max(1, |v|), since r's co-factor drops some of its factors),
  // so all of them together are at most ε·(operations on a term)·F, F = Σ_τ τ⁺ the reference's
  // floor scale. A term's multiplications: the decays it spans (≤ L + 1), a tree's combinations,
  // N + 8 products and 8 computed factors (exp, softplus, silu, Δ·B·u …) or input conversions.
  // Additions are exact below the normal range unless the storage flushes; then the chain's, the
  // tree's, y'''s and the shared sum's too. A backward pass keeps intermediates (decays, drives) in
  // its storage, so a flushing narrower storage is charged per operation, as η is.
  const multiplications = L + 1 + treeRoundings + N + 16;
  const additions = (sumLength: number): number => L + 1 + treeRoundings + N + sumLength;

  const overflowPossible = reach * (1 + maxOf(Object.values(conditionScales).map((s) => (s === undefined ? 0 : maxMagnitude(s.data))))) > MAX_FINITE[declaration.precision] / 4;

  const ambiguous = new Set(ambiguousClamps(problem, inputError));
  const bounds: Record<string, Float64Array> = {};
  let relativeMax = 0;
  let perStepMax = 0;
  let floorMax = 0;
  let unjudged = 0;
  for (const [name, scale] of Object.entries(conditionScales)) {
    if (scale === undefined) continue;
    const size = scale.data.length;
    const sumLength = 2 * Math.ceil(grid / Math.max(1, size)) + 2;
    const rho = perTerm(sumLength);
    const relative = rho < 1 ? rho / (1 - rho) : Number.POSITIVE_INFINITY;
    const perStep = rho < 1 ? stepError / (1 - rho) : Number.POSITIVE_INFINITY;
    relativeMax = Math.max(relativeMax, relative);
    perStepMax = Math.max(perStepMax, perStep);
    const depth = depthScales[name];
    if (depth === undefined || depth.data.length !== size) throw new RangeError(`depthScales.${name}: expected ${size} values, got ${depth === undefined ? 'none' : depth.data.length}`);
    const out = new Float64Array(size);
    const sharesAmbiguity = ambiguous.size > 0 && name === 'dtBias';
    const raised = floorScales[name];
    if (raised === undefined || raised.data.length !== size) throw new RangeError(`floorScales.${name}: expected ${size} values, got ${raised === undefined ? 'none' : raised.data.length}`);
    const perRaised = rho < 1 ? ((r.underflow + r.storageFlush) * multiplications + r.storageFlush * additions(sumLength)) / (1 - rho) : Number.POSITIVE_INFINITY;
    for (let i = 0; i < size; i++) {
      const floor = perRaised * raised.data[i];
      // ∞·0 (ρ ≥ 1 on an all-zero element) is NaN: such an element is not judged, and not the largest floor.
      if (floor > floorMax) floorMax = floor;
      const bound = (name === 'dt' && ambiguous.has(i)) || sharesAmbiguity ? Number.POSITIVE_INFINITY : relative * scale.data[i] + perStep * (depth.data[i] + DEPTH_SLACK * scale.data[i]) + floor;
      // No finite bound is no bound: where ρ ≥ 1 the factors are infinite and a zero G gives ∞·0,
      // an overflowed G gives a NaN depth scale; such an element is not judged, never held to NaN.
      out[i] = bound < Number.POSITIVE_INFINITY ? bound : Number.POSITIVE_INFINITY;
      if (out[i] === Number.POSITIVE_INFINITY) unjudged++;
    }
    bounds[name] = out;
  }
  return { bounds, relative: relativeMax, perStep: perStepMax, floor: floorMax, overflowPossible, unjudged };
}

/** How a gradient measured against its bounds: the largest usage |ĝ − g|/bound and what was not judged. */
export interface GradientUsage {
  /** Per input, max over judged elements of |ĝ − g|/bound (Infinity: a failure, e.g. an unexpected NaN). */
  readonly usage: Readonly<Record<string, number>>;
  /** max over every input. */
  readonly max: number;
  /** Elements judged. */
  readonly judged: number;
  /** Elements not judged (non-finite reference, ambiguous clamp). */
  readonly skipped: number;
  /** Where the largest usage is: input name and element index. */
  readonly worst: { readonly input: string; readonly index: number } | undefined;
}

/**
 * Measures a kernel's gradients against the reference with rule V's bounds. A gradient missing
 * for an input the reference has, or of another length, is an error naming the input.
 */
export function gradientUsage(
  expected: Readonly<Record<string, Values | undefined>>,
  actual: Readonly<Record<string, Values | undefined>>,
  bounds: GradientBounds,
): GradientUsage {
  const usage: Record<string, number> = {};
  let max = 0;
  let judged = 0;
  let skipped = 0;
  let worst: GradientUsage['worst'];
  for (const [name, reference] of Object.entries(expected)) {
    if (reference === undefined) continue;
    const got = actual[name];
    const bound = bounds.bounds[name];
    if (got === undefined) throw new RangeError(`gradients.${name}: expected ${reference.data.length} values, got none`);
    if (got.data.length !== reference.data.length) throw new RangeError(`gradients.${name}: expected ${reference.data.length} values, got ${got.data.length}`);
    let m = 0;
    for (let i = 0; i < reference.data.length; i++) {
      const g = reference.data[i];
      const v = got.data[i];
      if (!Number.isFinite(g) || bound[i] === Number.POSITIVE_INFINITY || (!Number.isFinite(v) && bounds.overflowPossible)) {
        skipped++;
        continue;
      }
      judged++;
      const error = Math.abs(v - g);
      // NaN or ±Inf where nothing could overflow fails; an exact match passes even against a 0 bound.
      const u = Number.isNaN(error) ? Number.POSITIVE_INFINITY : error === 0 ? 0 : error / bound[i];
      m = Math.max(m, u);
      if (u > max || worst === undefined) {
        worst = { input: name, index: i };
        max = Math.max(max, u);
      }
    }
    usage[name] = m;
  }
  return { usage, max, judged, skipped, worst };
}
