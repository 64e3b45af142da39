/**
 * Prints, for ssd, selective-scan, lti-ssm, linear-recurrence and mamba3-siso under float16 and bfloat16 storage (float32 arithmetic,
 * subnormals preserved and flushed) and float32 whose subnormals may flush (webgpu-f32),
 * the sum of every output element's tolerance bound on each of N generated cases, one JSON line per
 * (family, precision): run it before and after a change to the model and divide, to measure how
 * much the change widened the bounds (spec/tolerance.md: δ_A's step input term, rule U's flushed inputs and multipliers).
 *
 *   npx tsx bench/step-input-bounds.ts [--cases 200] [--seed 42] > after.jsonl
 */
import fc from 'fast-check';
import { parseArgs } from 'node:util';
import type { FamilyName, AnyProblem } from '../spec/families.ts';
import { reference } from '../reference/index.ts';
import { caseArbitrary, problemOfCase } from '../suite/arbitraries.ts';
import { elementBounds, type ExpectedOutputs } from '../suite/compare.ts';
import type { ArithmeticDeclaration } from '../suite/tolerance.ts';

const { values } = parseArgs({ options: { cases: { type: 'string', default: '200' }, seed: { type: 'string', default: '42' } } });
const cases = Number(values.cases);
const seed = Number(values.seed);
for (const family of ['ssd', 'selective-scan', 'lti-ssm', 'linear-recurrence', 'mamba3-siso'] as FamilyName[]) {
  const drawn = fc.sample(caseArbitrary(family, { maxLength: 300 }), { numRuns: cases, seed });
  for (const [precision, subnormals] of [['float16', 'preserve'], ['float16', 'flush'], ['bfloat16', 'preserve'], ['bfloat16', 'flush'], ['float32', 'flush']] as const) {
    const declaration: ArithmeticDeclaration = { precision, accumulation: 'float32', subnormals };
    const sums: number[] = [];
    for (const c of drawn) {
      const problem = problemOfCase(c.request, c.valueSeed) as AnyProblem;
      const expected = reference(problem) as ExpectedOutputs;
      const bounds = elementBounds(problem, expected, declaration);
      let sum = 0;
      for (const b of Object.values(bounds)) for (const v of b) if (Number.isFinite(v)) sum += v;
      sums.push(sum);
    }
    process.stdout.write(`${JSON.stringify({ family, precision, subnormals, regimes: drawn.map((c) => c.request.regime), sums })}\n`);
  }
}
