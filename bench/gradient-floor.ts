/**
 * What rule V's floor, η·(operations on a term)·F with F = Σ_τ τ⁺ the reference's floor scale
 * (spec/tolerance.md), adds to the gradient bounds: per family and declaration, the median
 * and p90 of bound/|g| over the gradient elements the declared storage holds in its normal range
 * (|g| ≥ min_normal(p)), and the share of them whose bound exceeds 0.1·|g|, on the cases the
 * quick properties draw. Prints a Markdown table.
 *
 *   npx tsx bench/gradient-floor.ts [--cases 100] [--seed 42]
 */
import fc from 'fast-check';
import { parseArgs } from 'node:util';
import { FAMILY_NAMES, type AnyProblem } from '../spec/families.ts';
import { referenceVjp } from '../reference/vjp/index.ts';
import { MIN_NORMAL } from '../spec/precision.ts';
import { caseArbitrary } from '../suite/arbitraries.ts';
import { gradientBounds } from '../suite/gradient-tolerance.ts';
import type { ArithmeticDeclaration } from '../suite/tolerance.ts';
import { cotangentsOf } from '../suite/vjp-check.ts';

const { values } = parseArgs({ options: { cases: { type: 'string', default: '100' }, seed: { type: 'string', default: '42' } } });
const cases = Number(values.cases);
const seed = Number(values.seed);

const DECLARATIONS: readonly (readonly [string, ArithmeticDeclaration])[] = [
  ['float32', { precision: 'float32' }],
  ['float32, flush', { precision: 'float32', subnormals: 'flush' }],
  ['float16 (float32 acc.)', { precision: 'float16', accumulation: 'float32' }],
  ['float16 (float32 acc.), flush', { precision: 'float16', accumulation: 'float32', subnormals: 'flush' }],
  ['bfloat16 (float32 acc.)', { precision: 'bfloat16', accumulation: 'float32' }],
];

type Tensors = Record<string, { data: ArrayLike<number> } | undefined>;

/** bound/|g| over the judged elements with |g| ≥ `smallest`, and how many exceed 0.1. */
class Looseness {
  readonly ratios: number[] = [];
  loose = 0;

  /** Counts elements with |g| ≥ smallest (the storage's normal range). */
  constructor(readonly smallest: number) {}

  /** Adds one tensor's bounds against its reference values. */
  add(bounds: ArrayLike<number>, g: ArrayLike<number>): void {
    for (let i = 0; i < g.length; i++) {
      if (!(Math.abs(g[i]) >= this.smallest) || !Number.isFinite(g[i]) || bounds[i] === Number.POSITIVE_INFINITY) continue;
      const ratio = bounds[i] / Math.abs(g[i]);
      this.ratios.push(ratio);
      if (ratio > 0.1) this.loose++;
    }
  }

  /** "median · p90 · share > 0.1". */
  summary(): string {
    if (this.ratios.length === 0) return '—';
    const sorted = Float64Array.from(this.ratios).sort();
    const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))].toExponential(1);
    return `${q(0.5)} · ${q(0.9)} · ${((100 * this.loose) / sorted.length).toFixed(1)} %`;
  }
}

process.stdout.write(`## Rule V: the gradient bounds without and with the floor (${cases} cases per family, fast-check seed ${seed}, L ≤ 300)\n\n`);
process.stdout.write('Each cell, over the elements with |g| ≥ min_normal of the declared storage: median bound/|g| · p90 · share with bound > 0.1·|g|.\n\n');
process.stdout.write(`| family | declaration | no floor | with the floor |\n| --- | --- | --- | --- |\n`);
for (const family of FAMILY_NAMES) {
  const generated = fc.sample(caseArbitrary(family, { maxLength: 300 }), { numRuns: cases, seed });
  const rows = DECLARATIONS.map(([, d]) => [new Looseness(MIN_NORMAL[d.precision]), new Looseness(MIN_NORMAL[d.precision])] as const);
  generated.forEach((c, index) => {
    const problem = c.problem as AnyProblem;
    const cotangents = cotangentsOf(problem, index) as unknown as Record<string, { data: Float64Array }>;
    const vjp = referenceVjp(problem, cotangents as never);
    const scales = vjp.conditionScales as unknown as Tensors;
    const depths = vjp.depthScales as unknown as Tensors;
    const floors = vjp.floorScales as unknown as Tensors;
    const noFloors = Object.fromEntries(Object.entries(floors).map(([name, t]) => [name, t === undefined ? t : { data: new Float64Array(t.data.length) }]));
    const gradients = vjp.gradients as unknown as Tensors;
    DECLARATIONS.forEach(([, declaration], row) => {
      const without = gradientBounds(problem, scales as never, depths as never, cotangents, declaration, noFloors as never).bounds;
      const withFloor = gradientBounds(problem, scales as never, depths as never, cotangents, declaration, floors as never).bounds;
      for (const name of Object.keys(without)) {
        const g = gradients[name]?.data;
        if (g === undefined) continue;
        rows[row][0].add(without[name], g);
        rows[row][1].add(withFloor[name], g);
      }
    });
  });
  DECLARATIONS.forEach(([label], row) => {
    process.stdout.write(`| ${family} | ${label} | ${rows[row][0].summary()} | ${rows[row][1].summary()} |\n`);
  });
}
