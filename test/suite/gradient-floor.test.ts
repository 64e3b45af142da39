/**
 * Rule V's floor (spec/tolerance.md, "Gradients", *Floor*): η per operation on a term times the
 * reference's floor scale F = Σ_τ τ⁺, each term with every factor raised to max(1, |v|).
 *  - F is what it says: by hand on a two-token linear recurrence, and F ≥ G (τ⁺ ≥ |τ|) on every
 *    family × regime;
 *  - sharp where the floor decides: a float16 backward kernel that drops the last token's
 *    cotangent fails at L = 24 (the floor before it, η·ops·growth^(L+1)·((L + 1)·max|v|)³, let such
 *    a kernel pass: its median bound was 550 to 1.4·10⁹ times the gradient);
 *  - sound: the correct kernels stay within it (test/suite/gradient-tolerance.test.ts, on float32
 *    and float64 kernels, and bench/gradient-margins.ts).
 */
import { describe, expect, it } from 'vitest';
import { sequentialVjp } from '../../implementations/sequential/vjp.ts';
import type { AnyProblem, FamilyName, Problem } from '../../spec/families.ts';
import { tensor } from '../../spec/tensor.ts';
import { referenceVjp } from '../../reference/vjp/index.ts';
import { gradientBounds, gradientUsage } from '../../suite/gradient-tolerance.ts';
import type { ArithmeticDeclaration } from '../../suite/tolerance.ts';
import { gradientCases, referenceOf, type CotangentTensors } from '../../bench/gradient-cases.ts';

type Tensors = Record<string, { data: Float32Array | Float64Array } | undefined>;

const FLOAT16: ArithmeticDeclaration = { precision: 'float16', accumulation: 'float32' };

describe("rule V's floor scale", () => {
  it('is Σ_τ τ⁺ by hand on a two-token linear recurrence (a factor below 1 counts 1, a zero 0)', () => {
    // h_0 = b_0 = 1e-3 (no h0: the state starts at 0), h_1 = a_1·h_0 + b_1; ȳ = (0.1, 3), no final-state cotangent.
    const problem = { family: 'linear-recurrence', inputs: { a: tensor([0.5, 0.25], [1, 1, 2]), b: tensor([1e-3, 2], [1, 1, 2]) }, options: { reverse: false } } as Problem<'linear-recurrence'>;
    const cotangents = { h: tensor([0.1, 3], [1, 1, 2]), lastState: tensor([0], [1, 1]) };
    const { floorScales, conditionScales } = referenceVjp(problem, cotangents as never);
    // b̄_1 = ȳ_1: 3. b̄_0 = ȳ_0 + a_1·ȳ_1: raised 1 + 1·3 = 4 (|·| gives 0.1 + 0.75).
    expect(Array.from(floorScales.b!.data)).toEqual([4, 3]);
    expect(Array.from(conditionScales.b!.data)).toEqual([Math.fround(0.1) + 0.75, 3]);
    // ā_1 = λ_1·h_0 = ȳ_1·b_0: raised 3·1 = 3; ā_0 = λ_0·h_{−1} with h_{−1} = 0: a zero factor, 0.
    expect(Array.from(floorScales.a!.data)).toEqual([0, 3]);
  });

  it('bounds the condition scale from above on every family × regime (τ⁺ ≥ |τ|), and is positive wherever it is', () => {
    let elements = 0;
    for (const c of gradientCases([1], [0, 3, 24])) {
      const { scales, floors } = referenceOf(c);
      for (const [name, G] of Object.entries(scales)) {
        const F = floors[name];
        expect(F.data.length, `${c.label} ${name}`).toBe(G.data.length);
        for (let i = 0; i < G.data.length; i++) {
          // Both are double-double sums rounded once: F may fall below G by G's last bit only.
          expect(F.data[i], `${c.label} ${name}[${i}]`).toBeGreaterThanOrEqual(G.data[i] * (1 - 2 ** -50));
          if (G.data[i] > 0) expect(F.data[i]).toBeGreaterThan(0);
          elements++;
        }
      }
    }
    expect(elements).toBeGreaterThan(10_000);
  });

  it('gradientBounds names a floor scale that is missing or of another length', () => {
    const problem = { family: 'linear-recurrence', inputs: { a: tensor([0.5, 0.25], [1, 1, 2]), b: tensor([1, 2], [1, 1, 2]) }, options: { reverse: false } } as Problem<'linear-recurrence'>;
    const cotangents = { h: tensor([1, 1], [1, 1, 2]), lastState: tensor([1], [1, 1]) };
    const { conditionScales, depthScales, floorScales } = referenceVjp(problem, cotangents as never);
    const bounds = (floors: object) => gradientBounds(problem, conditionScales as never, depthScales as never, cotangents as never, FLOAT16, floors as never);
    expect(() => bounds({ a: floorScales.a })).toThrow('floorScales.b: expected 2 values, got none');
    expect(() => bounds({ ...floorScales, b: { data: new Float64Array(3) } })).toThrow('floorScales.b: expected 2 values, got 3');
    const judged = bounds(floorScales);
    expect(judged.floor).toBeGreaterThan(0);
    expect(Number.isFinite(judged.floor)).toBe(true);
  });

  for (const family of ['linear-recurrence', 'selective-scan', 'ssd'] as const) {
    it(`a float16 backward kernel that drops the last token's cotangent fails (${family}, L = 24); the correct one passes`, () => {
      const c = gradientCases([3], [24]).find((g) => g.family === family && g.regime === 'generic');
      if (c === undefined) throw new Error(`no generic ${family} case at L = 24`);
      const problem = c.problem as Problem<FamilyName>;
      const outputName = family === 'ssd' ? 'y' : family === 'linear-recurrence' ? 'h' : 'y';
      const y = (c.cotangents as unknown as Record<string, { data: Float32Array; shape: readonly number[] }>)[outputName];
      // Zero ȳ at the last token of every row: time is the last axis, or axis 1 for ssd (batch, L, H, P).
      const dropped = Float32Array.from(y.data);
      const [, second] = y.shape;
      const inner = y.shape.slice(2).reduce((p, n) => p * n, 1);
      for (let i = 0; i < dropped.length; i++) {
        const lastToken = family === 'ssd' ? Math.floor(i / inner) % second === second - 1 : i % 24 === 23;
        if (lastToken) dropped[i] = 0;
      }
      const wrongCotangents = { ...c.cotangents, [outputName]: tensor(dropped, y.shape) } as unknown as CotangentTensors;
      const reference = referenceVjp(problem, c.cotangents as never);
      const bounds = gradientBounds(c.problem as AnyProblem, reference.conditionScales as never, reference.depthScales as never, c.cotangents as never, FLOAT16, reference.floorScales as never);
      const correct = gradientUsage(reference.gradients as never, sequentialVjp('float32', problem, c.cotangents as never) as Tensors, bounds);
      const wrong = gradientUsage(reference.gradients as never, sequentialVjp('float32', problem, wrongCotangents as never) as Tensors, bounds);
      expect(correct.judged).toBeGreaterThan(100);
      expect(correct.max).toBeLessThan(1);
      expect(wrong.max, `worst at ${JSON.stringify(wrong.worst)}`).toBeGreaterThan(1);
    });
  }
});
