/**
 * Aggregates accuracy samples into what reports show: per family × length bucket statistics,
 * the log-log growth of the worst error with L, and a histogram of per-case max e.
 */
import { FAMILY_NAMES, type FamilyName } from '../spec/families.ts';
import type { ErrorModel } from '../spec/implementation.ts';
import type { Comparison } from './compare.ts';
import { ACCURACY_FIELDS, type AccuracySample, type ErrorGrowth, type GradientAccuracyStats, type GradientSample, type ImplementationReport, type LengthBucketStats } from './results.ts';

/** The bucket of a length: [0, 0], [1, 1], then [2^k, 2^(k+1) − 1]. */
export function lengthBucket(length: number): readonly [number, number] {
  if (length <= 1) return [length, length];
  const k = Math.floor(Math.log2(length));
  return [2 ** k, 2 ** (k + 1) - 1];
}

/** Statistics per family × length bucket, in family then length order. */
export function aggregateAccuracy(samples: readonly AccuracySample[]): LengthBucketStats[] {
  const groups = new Map<string, AccuracySample[]>();
  for (const s of samples) {
    const [lo] = lengthBucket(s.length);
    const key = `${s.family}|${lo}`;
    const list = groups.get(key) ?? [];
    list.push(s);
    groups.set(key, list);
  }
  const out: LengthBucketStats[] = [];
  for (const [key, list] of groups) {
    const family = key.split('|')[0] as FamilyName;
    const lengths = lengthBucket(list[0].length);
    const c = list.map((s) => s.comparison);
    const maxOf = (f: (x: AccuracySample['comparison']) => number) => c.reduce((m, x) => Math.max(m, f(x)), 0);
    const sumOf = (f: (x: AccuracySample['comparison']) => number) => c.reduce((m, x) => m + f(x), 0);
    out.push({
      family,
      lengths,
      label: lengths[0] === lengths[1] ? `L=${lengths[0]}` : `L∈[${lengths[0]},${lengths[1]}]`,
      cases: list.length,
      elements: sumOf((x) => x.elements),
      maxE: maxOf((x) => x.maxE),
      p99E: maxOf((x) => x.p99E),
      beta: maxOf((x) => x.betaAtWorst),
      maxBoundUsage: maxOf((x) => x.maxBoundUsage),
      maxAbsError: maxOf((x) => x.maxAbsError),
      maxRelError: maxOf((x) => x.maxRelError),
      maxUlp: maxOf((x) => x.maxUlp),
      underflowElements: sumOf((x) => x.underflowElements),
      underflowMaxAbsError: maxOf((x) => x.underflowMaxAbsError),
      nanElements: sumOf((x) => x.nanElements),
      infElements: sumOf((x) => x.infElements),
      nonzeroElements: sumOf((x) => x.nonzeroElements),
      unresolvedElements: sumOf((x) => x.unresolvedElements),
      allclose: c.every((x) => x.allclose),
      passed: c.every((x) => x.passed),
    });
  }
  return out.sort((a, b) => FAMILY_NAMES.indexOf(a.family) - FAMILY_NAMES.indexOf(b.family) || a.lengths[0] - b.lengths[0]);
}

/** Least-squares slope of log(max e) against log(L) per family, over buckets with L ≥ 2 and e > 0. */
export function errorGrowth(samples: readonly AccuracySample[]): ErrorGrowth[] {
  return errorGrowthOfStats(aggregateAccuracy(samples));
}

/** errorGrowth from length-bucket statistics (those of a merged sharded run). */
export function errorGrowthOfStats(stats: readonly LengthBucketStats[]): ErrorGrowth[] {
  return FAMILY_NAMES.filter((f) => stats.some((s) => s.family === f)).map((family) => {
    const points = stats
      .filter((s) => s.family === family && s.lengths[0] >= 2 && s.maxE > 0 && Number.isFinite(s.maxE))
      .map((s) => [Math.log(Math.sqrt(s.lengths[0] * (s.lengths[1] + 1))), Math.log(s.maxE)] as const);
    if (points.length < 2) return { family, slope: null, points: points.length };
    const mx = points.reduce((a, p) => a + p[0], 0) / points.length;
    const my = points.reduce((a, p) => a + p[1], 0) / points.length;
    const sxx = points.reduce((a, p) => a + (p[0] - mx) ** 2, 0);
    const sxy = points.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0);
    return { family, slope: sxx === 0 ? null : sxy / sxx, points: points.length };
  });
}

/** Counts of per-case max e by decade: key k for [10^k, 10^(k+1)), 'zero' for exact results. */
export function eHistogram(samples: readonly AccuracySample[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) {
    const e = s.comparison.maxE;
    const key = e === 0 ? 'zero' : Number.isFinite(e) ? String(Math.floor(Math.log10(e))) : 'inf';
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

/** The comparison fields an accuracy sample keeps. */
export function pickComparison(c: Comparison): AccuracySample['comparison'] {
  return Object.fromEntries(ACCURACY_FIELDS.map((field) => [field, c[field]])) as AccuracySample['comparison'];
}

/** Beyond this |slope| of log max e against log L, the error is said to grow (or fall) with L. */
const FLAT_SLOPE = 0.25;

/**
 * What a growth slope means, in words: flat, growing like L^s, or falling (the worst errors are in
 * short cases). Under the normwise model e (per element, against its own S) is not what the bound
 * limits, so its slope is read as such.
 */
export function growthReading(growth: ErrorGrowth, errorModel: ErrorModel = 'componentwise'): string {
  const { slope } = growth;
  if (slope !== null && errorModel === 'normwise') {
    return 'normwise: an FFT spreads its error over the whole channel, so e of small elements (against their own S) grows with L as the norm does; the bound usage is the verdict';
  }
  if (slope === null) return 'not fitted: fewer than two length buckets with e > 0 (results exact, or too few lengths)';
  if (slope < -FLAT_SLOPE) return 'does not grow with L: the worst errors are in the short cases, where one badly conditioned element weighs most';
  if (slope <= FLAT_SLOPE) return 'flat: the error does not grow with L';
  if (slope <= 1 + FLAT_SLOPE) return `grows about like L^${slope.toFixed(1)}, as rounding errors accumulating along a sequential order do (up to L¹)`;
  return `grows faster than L (L^${slope.toFixed(1)}): more than rounding accumulating in any order explains; look at the long cases`;
}

/** Gradient accuracy per family × gradient tensor, in family order then the order the tensors came in. */
export function aggregateGradientAccuracy(samples: readonly GradientSample[]): GradientAccuracyStats[] {
  const groups = new Map<string, GradientSample[]>();
  for (const s of samples) {
    const key = `${s.family}|${s.comparison.tensor}`;
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  const out = [...groups.values()].map((list): GradientAccuracyStats => {
    const c = list.map((s) => s.comparison);
    return {
      family: list[0].family,
      tensor: c[0].tensor,
      cases: list.length,
      elements: c.reduce((n, x) => n + x.elements, 0),
      maxE: c.reduce((m, x) => Math.max(m, x.maxE), 0),
      maxBoundUsage: c.reduce((m, x) => Math.max(m, x.maxBoundUsage), 0),
      nonzeroElements: c.reduce((n, x) => n + x.nonzeroElements, 0),
      unresolvedElements: c.reduce((n, x) => n + x.unresolvedElements, 0),
      passed: c.every((x) => x.passed),
    };
  });
  // A stable sort keeps the tensors of a family in the order the family lists its inputs.
  return out.sort((a, b) => FAMILY_NAMES.indexOf(a.family) - FAMILY_NAMES.indexOf(b.family));
}

/**
 * Length-bucket statistics of several groups of samples as one group's: every field is a maximum,
 * a sum or a conjunction, so merging per-cell statistics equals aggregating their samples at once.
 */
export function mergeAccuracy(groups: readonly (readonly LengthBucketStats[])[]): LengthBucketStats[] {
  const merged = new Map<string, LengthBucketStats>();
  for (const b of groups.flat()) {
    const key = `${b.family}|${b.lengths[0]}`;
    const a = merged.get(key);
    merged.set(
      key,
      a === undefined
        ? b
        : {
            ...a,
            cases: a.cases + b.cases,
            elements: a.elements + b.elements,
            maxE: Math.max(a.maxE, b.maxE),
            p99E: Math.max(a.p99E, b.p99E),
            beta: Math.max(a.beta, b.beta),
            maxBoundUsage: Math.max(a.maxBoundUsage, b.maxBoundUsage),
            maxAbsError: Math.max(a.maxAbsError, b.maxAbsError),
            maxRelError: Math.max(a.maxRelError, b.maxRelError),
            maxUlp: Math.max(a.maxUlp, b.maxUlp),
            underflowElements: a.underflowElements + b.underflowElements,
            underflowMaxAbsError: Math.max(a.underflowMaxAbsError, b.underflowMaxAbsError),
            nanElements: a.nanElements + b.nanElements,
            infElements: a.infElements + b.infElements,
            nonzeroElements: a.nonzeroElements + b.nonzeroElements,
            unresolvedElements: a.unresolvedElements + b.unresolvedElements,
            allclose: a.allclose && b.allclose,
            passed: a.passed && b.passed,
          },
    );
  }
  return [...merged.values()].sort((a, b) => FAMILY_NAMES.indexOf(a.family) - FAMILY_NAMES.indexOf(b.family) || a.lengths[0] - b.lengths[0]);
}

/** Gradient statistics of several groups (in run order) as one group's, as mergeAccuracy. */
export function mergeGradientAccuracy(groups: readonly (readonly GradientAccuracyStats[])[]): GradientAccuracyStats[] {
  const merged = new Map<string, GradientAccuracyStats>();
  for (const b of groups.flat()) {
    const key = `${b.family}|${b.tensor}`;
    const a = merged.get(key);
    merged.set(
      key,
      a === undefined
        ? b
        : {
            ...a,
            cases: a.cases + b.cases,
            elements: a.elements + b.elements,
            maxE: Math.max(a.maxE, b.maxE),
            maxBoundUsage: Math.max(a.maxBoundUsage, b.maxBoundUsage),
            nonzeroElements: a.nonzeroElements + b.nonzeroElements,
            unresolvedElements: a.unresolvedElements + b.unresolvedElements,
            passed: a.passed && b.passed,
          },
    );
  }
  return [...merged.values()].sort((a, b) => FAMILY_NAMES.indexOf(a.family) - FAMILY_NAMES.indexOf(b.family));
}

/** Histograms of several groups (in run order) as one: counts added, keys in the order they first came. */
export function mergeHistograms(groups: readonly Readonly<Record<string, number>>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const group of groups) for (const [key, n] of Object.entries(group)) out[key] = (out[key] ?? 0) + n;
  return out;
}

/**
 * From this share of unresolved elements (bound ≥ |value|) on, a family's outputs or a gradient
 * tensor are called weakly checked: on most of their elements a 0 or a wrong sign would pass.
 */
export const WEAK_CHECK_SHARE = 0.5;

/** What one implementation's run checked only weakly: a family's outputs, or one gradient tensor of it. */
export interface WeakCheck {
  readonly family: FamilyName;
  /** 'outputs', or the gradient tensor's name. */
  readonly what: string;
  readonly gradient: boolean;
  /** unresolvedElements / nonzeroElements over the run. */
  readonly share: number;
}

/** The share of a group's nonzero elements its bound leaves unresolved; 0 when it has none. */
export function unresolvedShare(stats: { readonly nonzeroElements: number; readonly unresolvedElements: number }): number {
  return stats.nonzeroElements === 0 ? 0 : stats.unresolvedElements / stats.nonzeroElements;
}

/** The outputs (per family, over every length bucket) and gradient tensors whose unresolved share reaches WEAK_CHECK_SHARE. */
export function weakChecks(implementation: Pick<ImplementationReport, 'accuracy' | 'gradientAccuracy'>): WeakCheck[] {
  const out: WeakCheck[] = [];
  for (const family of FAMILY_NAMES) {
    const buckets = implementation.accuracy.filter((b) => b.family === family);
    const outputs = {
      nonzeroElements: buckets.reduce((n, b) => n + b.nonzeroElements, 0),
      unresolvedElements: buckets.reduce((n, b) => n + b.unresolvedElements, 0),
    };
    if (unresolvedShare(outputs) >= WEAK_CHECK_SHARE) out.push({ family, what: 'outputs', gradient: false, share: unresolvedShare(outputs) });
    for (const g of (implementation.gradientAccuracy ?? []).filter((x) => x.family === family)) {
      if (unresolvedShare(g) >= WEAK_CHECK_SHARE) out.push({ family, what: g.tensor, gradient: true, share: unresolvedShare(g) });
    }
  }
  return out;
}
