/**
 * Measures how much the no-false-reds rules (spec/tolerance.md#exact-cases, issue 15) widened what
 * correct kernels are allowed, on the cases the quick properties draw; prints a Markdown table.
 *
 *   npx tsx bench/tolerance-widening.ts [--cases 300] [--seed 42]
 */
import fc from 'fast-check';
import { parseArgs } from 'node:util';
import { FAMILY_NAMES, type AnyProblem, type FamilyName } from '../spec/families.ts';
import { outputKind } from '../spec/families/index.ts';
import { appendIdentityPadding, regimeByName } from '../spec/regimes.ts';
import { dimensionsOf } from '../spec/shapes.ts';
import { reference } from '../reference/index.ts';
import { caseArbitrary, problemOfCase } from '../suite/arbitraries.ts';
import { elementBounds, type ExpectedOutputs } from '../suite/compare.ts';
import { dyadicExactIn, scalingIsExact } from '../suite/exactness.ts';
import { propertyByName } from '../suite/properties/index.ts';
import { MIN_NORMAL } from '../spec/precision.ts';
import { channelModel, elementPlace, inputFlushOf, roundoffsOf, underflowFloor, type ArithmeticDeclaration } from '../suite/tolerance.ts';
import { inputsOf, timeTensorNames, withInputs } from '../suite/transforms.ts';
import { referenceVjp } from '../reference/vjp/index.ts';
import { gradientBounds } from '../suite/gradient-tolerance.ts';
import { cotangentsOf } from '../suite/vjp-check.ts';

/** The lengths the measurements of spec/tolerance.md were taken at. */
const LENGTHS = { maxLength: 300 } as const;

const { values } = parseArgs({ options: { cases: { type: 'string', default: '300' }, seed: { type: 'string', default: '42' } } });
const cases = Number(values.cases);
const seed = Number(values.seed);

const DECLARATIONS: Readonly<Record<string, ArithmeticDeclaration>> = {
  float64: { precision: 'float64' },
  float32: { precision: 'float32' },
  'float16 (float32 acc.)': { precision: 'float16', accumulation: 'float32' },
  'bfloat16 (float32 acc.)': { precision: 'bfloat16', accumulation: 'float32' },
};

const expectedOf = (p: AnyProblem) => reference(p) as unknown as ExpectedOutputs;
const pct = (n: number, d: number) => (d === 0 ? '—' : `${((100 * n) / d).toFixed(1)} %`);
const maxOf = (v: readonly number[]) => v.reduce((m, x) => Math.max(m, x), Number.NEGATIVE_INFINITY);
/** The q-quantiles of v, sorting one copy once (the flush tables hold millions of ratios). */
const quantiles = (v: readonly number[], ...qs: number[]) => {
  const sorted = Float64Array.from(v).sort();
  return qs.map((q) => (sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]));
};
const quantile = (v: readonly number[], q: number) => quantiles(v, q)[0];

// 1. The float64 underflow floor: what it adds to normal-range elements, relative to their bound.
process.stdout.write(`## Widening measured (${cases} cases per family, fast-check seed ${seed}, L ≤ ${LENGTHS.maxLength})\n\n`);
process.stdout.write('| rule | family | float64 | float32 | float16 (float32 acc.) | bfloat16 (float32 acc.) |\n| --- | --- | --- | --- | --- | --- |\n');
for (const family of FAMILY_NAMES) {
  const generated = fc.sample(caseArbitrary(family, LENGTHS), { numRuns: cases, seed });
  let normalElements = 0;
  let worstShare = 0;
  let subnormalElements = 0;
  for (const c of generated) {
    const problem = c.problem as AnyProblem;
    const expected = expectedOf(problem);
    const declaration = DECLARATIONS.float64;
    const bounds = elementBounds(problem, expected, declaration);
    const r = roundoffsOf(declaration);
    const model = channelModel(problem, r);
    for (const name of Object.keys(expected.outputs)) {
      const kind = outputKind(problem.family, name);
      const y = expected.outputs[name].data;
      for (let i = 0; i < y.length; i++) {
        const floor = underflowFloor(model, r, elementPlace(model, kind, i));
        if (Math.abs(y[i]) >= MIN_NORMAL.float64) {
          normalElements++;
          if (bounds[name][i] > 0) worstShare = Math.max(worstShare, floor / bounds[name][i]);
        } else if (y[i] !== 0) subnormalElements++;
      }
    }
  }
  process.stdout.write(`| η ≥ 2^-1074 (float64 floor) | ${family} | adds ≤ ${worstShare.toExponential(1)} of the bound on ${normalElements} normal-range elements; ${subnormalElements} subnormal elements get a floor (was 0) | unchanged | unchanged | unchanged |\n`);
}

// 2. Scaling: the share of the scaling property's cases still held to exact equality.
for (const family of FAMILY_NAMES) {
  const scaling = propertyByName('scaling')!;
  const generated = fc.sample(scaling.arbitrary(family, LENGTHS), { numRuns: cases, seed });
  const cells = Object.values(DECLARATIONS).map((declaration) => {
    const exact = generated.filter((c) => scalingIsExact(c.problem as AnyProblem, declaration, c.parameters.exponent as number)).length;
    return `${pct(exact, generated.length)} exact`;
  });
  process.stdout.write(`| scaling exact only where certified | ${family} | ${cells.join(' | ')} |\n`);
}

// 3. Dyadic-exact: the share of dyadic-exact cases still bit for bit.
const DYADIC = regimeByName('dyadic-exact');
for (const family of FAMILY_NAMES) {
  if (!DYADIC.families.includes(family)) {
    process.stdout.write(`| dyadic-exact in the declared storage | ${family} | regime not drawn: ${DYADIC.excluded[family]} | | | |\n`);
    continue;
  }
  const generated = fc.sample(caseArbitrary(family, { ...LENGTHS, regimes: ['dyadic-exact'] }), { numRuns: cases, seed });
  const cells = Object.values(DECLARATIONS).map((declaration) => {
    const exact = generated.filter((c) => dyadicExactIn(c.problem as AnyProblem, expectedOf(c.problem as AnyProblem), declaration)).length;
    return `${pct(exact, generated.length)} exact`;
  });
  process.stdout.write(`| dyadic-exact in the declared storage | ${family} | ${cells.join(' | ')} |\n`);
}

// 4. Two runs: both runs' bounds instead of twice one run's, as a ratio (b₁ + b₂)/(2·b₁).
process.stdout.write('\n| two-run allowance (b₁ + b₂) / (2·b₁), float32 componentwise · float64 normwise (FFT) | family | median | p99 | max |\n| --- | --- | ---: | ---: | ---: |\n');
function ratios(family: FamilyName, declaration: ArithmeticDeclaration, second: (c: { problem: AnyProblem; request: unknown; index: number }) => { problem: AnyProblem; map: (name: string, i: number) => number }): number[] {
  const generated = fc.sample(caseArbitrary(family, LENGTHS), { numRuns: cases, seed });
  const out: number[] = [];
  generated.forEach((c, index) => {
    const problem = c.problem as AnyProblem;
    if (dimensionsOf(problem).length === 0) return;
    const b1 = elementBounds(problem, expectedOf(problem), declaration);
    const other = second({ problem, request: c.request, index });
    const b2 = elementBounds(other.problem, expectedOf(other.problem), declaration);
    for (const name of Object.keys(b1)) {
      for (let i = 0; i < b1[name].length; i++) if (b1[name][i] > 0) out.push((b1[name][i] + b2[name][other.map(name, i)]) / (2 * b1[name][i]));
    }
  });
  return out;
}
const padded = (p: AnyProblem) => {
  const L = dimensionsOf(p).length;
  const count = 37;
  const atStart = (p.options as Readonly<Record<string, boolean>>).reverse === true;
  return { problem: appendIdentityPadding(p, count) as AnyProblem, map: (name: string, i: number) => (name === 'lastState' ? i : Math.floor(i / L) * (L + count) + (i % L) + (atStart ? count : 0)) };
};
for (const [label, family, declaration] of [
  ['identity-padding', 'linear-recurrence', DECLARATIONS.float32],
  ['identity-padding', 'lti-ssm', { precision: 'float64', errorModel: 'normwise' }],
] as const) {
  const r = ratios(family, declaration, ({ problem }) => padded(problem));
  process.stdout.write(`| ${label} (${declaration.errorModel ?? 'componentwise'}) | ${family} | ${quantiles(r, 0.5, 0.99).map((q) => q.toFixed(3)).join(' | ')} | ${maxOf(r).toFixed(3)} |\n`);
}
{
  // causality: the inputs at t = L/2 replaced by another draw of the same request.
  const generated = fc.sample(caseArbitrary('lti-ssm', LENGTHS), { numRuns: cases, seed });
  const r: number[] = [];
  let zeroBefore = 0;
  for (const c of generated) {
    const problem = c.problem as AnyProblem;
    const L = dimensionsOf(problem).length;
    if (L < 2) continue;
    const t = Math.floor(L / 2);
    const other = inputsOf(problemOfCase(c.request, c.valueSeed + 1));
    const replaced = Object.fromEntries(
      timeTensorNames(problem).map((name) => {
        const tensor = inputsOf(problem)[name]!;
        const data = tensor.data.slice();
        for (let i = t; i < data.length; i += L) data[i] = other[name]!.data[i];
        return [name, { data, shape: tensor.shape }];
      }),
    );
    const changed = withInputs(problem, replaced) as AnyProblem;
    const declaration: ArithmeticDeclaration = { precision: 'float64', errorModel: 'normwise' };
    const b1 = elementBounds(problem, expectedOf(problem), declaration).y;
    const b2 = elementBounds(changed, expectedOf(changed), declaration).y;
    for (let i = 0; i < b1.length; i++) {
      if (i % L >= t) continue;
      if (b1[i] > 0) r.push((b1[i] + b2[i]) / (2 * b1[i]));
      else if (b2[i] > 0) zeroBefore++;
    }
  }
  process.stdout.write(`| causality (normwise; ${zeroBefore} elements before t had allowance 0 and now b₂ > 0) | lti-ssm | ${quantiles(r, 0.5, 0.99).map((q) => q.toFixed(3)).join(' | ')} | ${maxOf(r).toFixed(3)} |\n`);
}

// 5. Flushed subnormals (Dawn's WGSL implementations declare them since the deep sweep's seed 17):
// float32's η becomes min_normal(p) instead of min_normal(p)·u_p, a float16 storage with float32
// arithmetic is charged per flushed conversion (rule U), and dyadic-exact cases with a value below
// min_normal(p) are held to the bound. Ratio of the bound with the flush to the bound without it.
const FLUSH_PAIRS = [
  ['float32 (webgpu-f32)', DECLARATIONS.float32],
  ['float16, float32 acc. (webgpu-f16)', DECLARATIONS['float16 (float32 acc.)']],
] as const;
const flushed = (declaration: ArithmeticDeclaration): ArithmeticDeclaration => ({ ...declaration, subnormals: 'flush' });
const fmt = (v: number) => (v < 1000 ? v.toFixed(3) : v.toExponential(2));

/** The bounds of one family and declaration without and with the flush, element by element. */
class FlushWidening {
  readonly ratios: number[] = [];
  readonly usageBefore: number[] = [];
  readonly usageAfter: number[] = [];
  opened = 0;
  elements = 0;
  looseBefore = 0;
  looseAfter = 0;
  newlyLoose = 0;
  newlyLooseTiny = 0;

  /** Adds one tensor's bounds (an infinite bound is not judged and left out) against its exact values. */
  add(before: ArrayLike<number>, after: ArrayLike<number>, values: ArrayLike<number> | undefined): void {
    for (let i = 0; i < before.length; i++) {
      if (!Number.isFinite(before[i])) continue;
      const magnitude = Math.abs(values?.[i] ?? 0);
      this.elements++;
      if (before[i] > 0) this.ratios.push(after[i] / before[i]);
      else if (after[i] > 0) this.opened++;
      const wasLoose = before[i] > 0.1 * magnitude;
      const isLoose = after[i] > 0.1 * magnitude;
      if (wasLoose) this.looseBefore++;
      if (isLoose) this.looseAfter++;
      if (isLoose && !wasLoose) {
        this.newlyLoose++;
        if (magnitude < 1e-30) this.newlyLooseTiny++;
      }
      if (magnitude > 0) {
        this.usageBefore.push(before[i] / magnitude);
        this.usageAfter.push(after[i] / magnitude);
      }
    }
  }

  /** median | p99 | max of the ratio, then the loose shares before → after. */
  cells(): string {
    const [median, p99] = quantiles(this.ratios, 0.5, 0.99);
    return `${fmt(median)} | ${fmt(p99)} | ${fmt(maxOf(this.ratios))} | ${this.opened} | ${pct(this.looseBefore, this.elements)} → ${pct(this.looseAfter, this.elements)}`;
  }
}

process.stdout.write('\n| flush declared: bound ratio flush / preserve | family | declaration | median | p99 | max | elements 0 → > 0 | bound > 0.1·|y| (preserve → flush) | newly > 0.1·|y| with |y| < 1e-30 | cases with a flushable input | dyadic-exact still exact |\n| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n');
for (const family of FAMILY_NAMES) {
  const generated = fc.sample(caseArbitrary(family, LENGTHS), { numRuns: cases, seed });
  const dyadic = DYADIC.families.includes(family) ? fc.sample(caseArbitrary(family, { ...LENGTHS, regimes: ['dyadic-exact'] }), { numRuns: cases, seed }) : [];
  for (const [label, preserve] of FLUSH_PAIRS) {
    const flush = flushed(preserve);
    const widening = new FlushWidening();
    let flushableCases = 0;
    for (const c of generated) {
      const problem = c.problem as AnyProblem;
      const expected = expectedOf(problem);
      const b0 = elementBounds(problem, expected, preserve);
      const b1 = elementBounds(problem, expected, flush);
      if (inputFlushOf(problem, roundoffsOf(flush)).total > 0) flushableCases++;
      for (const name of Object.keys(b0)) widening.add(b0[name], b1[name], expected.outputs[name].data);
    }
    const exact = dyadic.filter((c) => dyadicExactIn(c.problem as AnyProblem, expectedOf(c.problem as AnyProblem), flush)).length;
    const exactShare = dyadic.length === 0 ? 'regime not drawn' : pct(exact, dyadic.length);
    const flushable = roundoffsOf(flush).input === 0 ? '— (no input converted)' : pct(flushableCases, generated.length);
    process.stdout.write(`| | ${family} | ${label} | ${widening.cells()} | ${widening.newlyLooseTiny} of ${widening.newlyLoose} | ${flushable} | ${exactShare} |\n`);
  }
}

// 6. Flushed subnormals in rule V (gradients): the floor is charged per operation at min_normal(p)
// (float32) or, for a float16 storage, at float16's gradual unit plus min_normal(float16).
{
  const gradientCases = Math.max(1, Math.floor(cases / 3));
  process.stdout.write(`\n| flush declared, gradients (rule V): bound ratio flush / preserve, ${gradientCases} cases | family | declaration | median | p99 | max | elements 0 → > 0 | bound > 0.1·|g| (preserve → flush) | median bound/|g| (preserve → flush) |\n| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n`);
  for (const family of FAMILY_NAMES) {
    const generated = fc.sample(caseArbitrary(family, LENGTHS), { numRuns: gradientCases, seed });
    for (const [label, preserve] of FLUSH_PAIRS) {
      const widening = new FlushWidening();
      generated.forEach((c, index) => {
        const problem = c.problem as AnyProblem;
        const cotangents = cotangentsOf(problem, index) as unknown as Record<string, { data: Float64Array }>;
        const vjp = referenceVjp(problem, cotangents as never);
        const scales = vjp.conditionScales as unknown as Record<string, { data: Float64Array } | undefined>;
        const depths = vjp.depthScales as unknown as Record<string, { data: Float64Array } | undefined>;
        const floors = vjp.floorScales as unknown as Record<string, { data: Float64Array } | undefined>;
        const b0 = gradientBounds(problem, scales, depths, cotangents, preserve, floors).bounds;
        const b1 = gradientBounds(problem, scales, depths, cotangents, flushed(preserve), floors).bounds;
        const gradients = vjp.gradients as unknown as Record<string, { data: ArrayLike<number> } | undefined>;
        for (const name of Object.keys(b0)) widening.add(b0[name], b1[name], gradients[name]?.data);
      });
      process.stdout.write(`| | ${family} | ${label} | ${widening.cells()} | ${quantile(widening.usageBefore, 0.5).toExponential(1)} → ${quantile(widening.usageAfter, 0.5).toExponential(1)} |\n`);
    }
  }
}
