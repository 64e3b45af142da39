/**
 * The accuracy statistics the reports show: ULPs counted on the precision's grid, elements under
 * the underflow floor and NaN/Inf outputs counted apart from the normal range, their aggregation
 * per length bucket, the growth slope read in words; and the plots built from them.
 */
import { describe, expect, it } from 'vitest';
import { reference } from '../../reference/index.ts';
import type { FamilyName, Problem } from '../../spec/families.ts';
import { aggregateAccuracy, growthReading, pickComparison } from '../../suite/accuracy.ts';
import { compareWithReference, type ExpectedOutputs } from '../../suite/compare.ts';
import { boundUsagePlot, errorGrowthPlot, implementationColours, implementationGroup } from '../../suite/report/plots.ts';
import type { AccuracySample, ImplementationReport, LengthBucketStats } from '../../suite/results.ts';
import { MIN_NORMAL } from '../../spec/precision.ts';
import { ulpDistance } from '../../suite/ulp-distance.ts';

/** float32 numbers by their ordinal: 0, 1, 2… from +0 upwards, negative below −0. */
function float32Ordinal(x: number): number {
  const bits = new Int32Array(Float32Array.of(x).buffer)[0];
  return bits < 0 ? -(bits & 0x7fffffff) : bits;
}

/** A deterministic stream of float32 bit patterns (xorshift32). */
function* float32Stream(seed: number): Generator<number> {
  let s = seed;
  const view = new Int32Array(1);
  const f = new Float32Array(view.buffer);
  for (;;) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    view[0] = s;
    if (Number.isFinite(f[0])) yield f[0];
  }
}

describe('ulpDistance', () => {
  it('counts the float32 numbers between two float32 numbers, across binades, signs and subnormals', () => {
    const stream = float32Stream(0x2545f491);
    for (let n = 0; n < 2000; n++) {
      const a = stream.next().value as number;
      // Half the pairs far apart, half a few ULPs apart.
      const b = n % 2 === 0 ? (stream.next().value as number) : Math.fround(a * (1 + (n % 7) * 2 ** -22));
      expect(ulpDistance(a, b, 'float32')).toBe(Math.abs(float32Ordinal(a) - float32Ordinal(b)));
    }
  });

  it('never exceeds the numbers a format holds, and stays exact for neighbours far from zero', () => {
    expect(ulpDistance(0, Math.fround(6e-7), 'float32')).toBe(float32Ordinal(6e-7));
    expect(ulpDistance(-3.4e38, 3.4e38, 'float32')).toBeLessThan(2 ** 32);
    expect(ulpDistance(0, Number.MAX_VALUE, 'float64')).toBeLessThan(2 ** 63);
    expect(ulpDistance(1e300, 1e300 + 2 ** 944, 'float64')).toBe(1);
    expect(ulpDistance(1, 1 + 2 ** -52, 'float64')).toBe(1);
    expect(ulpDistance(2 ** -14, 2 ** -14 + 2 ** -24, 'float16')).toBe(1);
    expect(ulpDistance(0, -0, 'float32')).toBe(0);
  });
});

function prefixSum(x: number[]): Problem<'prefix-sum'> {
  return { family: 'prefix-sum', inputs: { x: { data: Float32Array.from(x), shape: [1, 1, x.length] } }, options: { exclusive: false, reverse: false } };
}

function compare(problem: Problem<'prefix-sum'>, y: number[]) {
  const expected = reference(problem) as unknown as ExpectedOutputs;
  return compareWithReference(problem, { y: { data: Float32Array.from(y), shape: [1, 1, y.length] } }, expected, { precision: 'float32' });
}

describe('compareWithReference statistics', () => {
  it('counts elements under the underflow floor apart: they set neither max e nor max ULP', () => {
    const a = Math.fround(1e-40); // a float32 subnormal
    expect(a).toBeLessThan(MIN_NORMAL.float32);
    // y = [a, 2a, 1 + 2a]: the second one spacing of the subnormals off, within the floor.
    const c = compare(prefixSum([a, a, 1]), [a, 2 * a + 2 ** -149, 1]);
    expect(c.passed).toBe(true);
    expect(c.underflowElements).toBe(2);
    expect(c.underflowMaxAbsError).toBe(2 ** -149);
    // Counted with the normal range, this element alone would make e ≈ 117.
    expect(c.maxE).toBeLessThan(1e-20);
    expect(c.maxUlp).toBeLessThan(1e-20);
    expect(c.nanElements + c.infElements).toBe(0);
  });

  it('counts an exact result as an error of 0 ULPs where the reference is 0, not 1e+38', () => {
    const off = Math.fround(6e-7);
    const c = compare(prefixSum([1, -1]), [1, off]);
    expect(c.passed).toBe(true);
    expect(c.maxUlp).toBe(float32Ordinal(off));
    expect(c.underflowElements).toBe(0);
  });

  it('counts NaN and ±Inf outputs, each apart', () => {
    const nan = compare(prefixSum([1, 2, 3]), [1, Number.NaN, 6]);
    expect(nan).toMatchObject({ passed: false, nanElements: 1, infElements: 0 });
    const inf = compare(prefixSum([1, 2, 3]), [Number.NEGATIVE_INFINITY, 3, Number.POSITIVE_INFINITY]);
    expect(inf).toMatchObject({ passed: false, nanElements: 0, infElements: 2 });
    // The normal-range statistics come from the finite elements only.
    expect(inf.maxAbsError).toBe(0);
  });
});

function sample(length: number, comparison: Partial<AccuracySample['comparison']>): AccuracySample {
  const base = pickComparison(compare(prefixSum([1]), [1]));
  return { family: 'prefix-sum', length, regime: 'generic', source: 'property', judgedBy: 'componentwise', comparison: { ...base, ...comparison } };
}

describe('aggregateAccuracy and growthReading', () => {
  it('sums the counts of a length bucket and keeps the worst of its measurements', () => {
    const [bucket] = aggregateAccuracy([
      sample(8, { maxE: 2, underflowElements: 3, underflowMaxAbsError: 1e-45, nanElements: 1, elements: 10 }),
      sample(12, { maxE: 5, underflowElements: 4, underflowMaxAbsError: 2e-45, infElements: 2, elements: 20, passed: false }),
    ]);
    expect(bucket).toMatchObject({ label: 'L∈[8,15]', cases: 2, elements: 30, maxE: 5, underflowElements: 7, underflowMaxAbsError: 2e-45, nanElements: 1, infElements: 2, passed: false });
  });

  it('reads a slope in words: falling, flat, growing, faster than L, normwise', () => {
    const at = (slope: number | null) => ({ family: 'prefix-sum' as FamilyName, slope, points: 5 });
    expect(growthReading(at(-1.04))).toMatch(/^does not grow with L: the worst errors are in the short cases/);
    expect(growthReading(at(0.1))).toMatch(/^flat/);
    expect(growthReading(at(0.9))).toMatch(/^grows about like L\^0\.9/);
    expect(growthReading(at(2))).toMatch(/^grows faster than L/);
    expect(growthReading(at(null))).toMatch(/^not fitted/);
    expect(growthReading(at(2), 'normwise')).toMatch(/^normwise: /);
  });
});

function bucket(lo: number, maxBoundUsage: number, passed = maxBoundUsage <= 1): LengthBucketStats {
  const hi = lo <= 1 ? lo : 2 * lo - 1;
  return {
    family: 'prefix-sum',
    lengths: [lo, hi],
    label: `L∈[${lo},${hi}]`,
    cases: 1,
    elements: 1,
    maxE: maxBoundUsage * 10,
    p99E: 0,
    beta: 1e35,
    maxBoundUsage,
    maxAbsError: 0,
    maxRelError: 0,
    maxUlp: 0,
    underflowElements: 0,
    underflowMaxAbsError: 0,
    nanElements: 0,
    infElements: 0,
    nonzeroElements: 1,
    unresolvedElements: 0,
    allclose: true,
    passed,
  };
}

function implementation(name: string, accuracy: LengthBucketStats[]): ImplementationReport {
  return { name, precision: 'float32', errorModels: {}, environment: {}, status: 'ok', cells: [], accuracy, growth: [], eHistogram: {}, durationMs: 0 };
}

const colours = (names: string[]) => new Map(names.map((n, i) => [n, implementationColours(names)[i]]));

describe('plots', () => {
  it('bound usage: a cross on a failed bucket, non-finite values on the ceiling, exact ones on the floor, the axis fitted to the data', async () => {
    const impls = [implementation('good', [bucket(1, 0), bucket(2, 0.1), bucket(4, 0.3)]), implementation('bad', [bucket(2, 0.2), bucket(4, 40), bucket(8, Infinity)])];
    const plot = await boundUsagePlot('prefix-sum', impls, colours(['good', 'bad']));
    expect(plot?.series).toEqual(['good', 'bad']);
    expect(plot?.caption).toMatch(/1 exact bucket \(error 0\) sit on the floor.*1 non-finite value/);
    const svg = plot?.svg ?? '';
    // The y axis runs from a decade under the smallest usage (the floor) to a decade over the largest, plus one for ∞.
    expect(svg).toMatch(/Y-axis titled 'bound usage = error \/ bound' for a log scale with values from 0\.01 to 1,?000/);
    const crosses = [...svg.matchAll(/aria-label="bad" role="graphics-symbol" aria-roledescription="point" transform="[^"]+" d="M-3\.873,-1\.549L/g)];
    expect(crosses.length).toBe(2);
    expect(svg).toContain('bound: error = bound (above fails)');
  });

  it('max e: no β lines, so the axis spans the measured errors only', async () => {
    const plot = await errorGrowthPlot('prefix-sum', [implementation('good', [bucket(2, 0.1), bucket(4, 0.3)])], colours(['good']));
    expect(plot?.svg).toMatch(/Y-axis titled 'max e = [^']+' for a log scale with values from 1 to 10/);
    expect(plot?.svg).not.toContain('β');
  });

  it('many implementations: small multiples by group, one distinct colour and the full name each', async () => {
    const names = [
      'parallel-scan/hillis-steele-f32',
      'parallel-scan/hillis-steele-f64',
      'parallel-scan/blelloch-f32',
      'parallel-scan/chunked-threads-f32',
      'sequential-f32',
      'sequential-f64',
      'tfjs-cpu',
      'tfjs-wasm',
      'webgpu-f32',
      'webgpu-f16',
      'a-rather-long-implementation-name-that-a-legend-would-cut',
    ];
    const plot = await boundUsagePlot(
      'prefix-sum',
      names.map((n, i) => implementation(n, [bucket(2, 0.1 * (i + 1)), bucket(4, 0.05 * (i + 1))])),
      colours(names),
    );
    const svg = plot?.svg ?? '';
    expect(svg).toContain(`Symbol legend titled 'implementation' for fill color and stroke color with ${names.length} values: ${names.slice(0, 5).join(', ')}, ending with ${names.at(-1)}`);
    for (const name of names) expect(svg).toContain(`>${name}</text>`);
    expect(svg).not.toContain('…');
    expect(new Set(implementationColours(names)).size).toBe(names.length);
    for (const group of ['parallel-scan', 'sequential', 'tfjs', 'webgpu']) expect(svg).toMatch(new RegExp(`>${group}</text>`));
    expect(implementationGroup('parallel-scan/blelloch-f32')).toBe('parallel-scan');
    expect(implementationGroup('tfjs-cpu')).toBe('tfjs');
    expect(implementationColours(Array.from({ length: 25 }, (_, i) => `i${i}`)).length).toBe(25);
  });
});
