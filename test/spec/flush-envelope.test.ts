/**
 * The flushed-multiplier envelope (spec/flush-envelope.ts, spec/tolerance.md rule U): what flushing
 * a decay, C, D or the gate under the storage's smallest normal moves each output by. Sound: the
 * reference run on the inputs with any subset of those elements flushed to 0 lies within the move
 * of the reference run on the inputs as they are, for every family that has the hook. Exact where
 * it can be: one flushed decay of a scalar recurrence moves the state by |a|·|h| from its step on.
 * And a float32 arithmetic that flushes its own subnormals (webgpu-f32) passes where its subnormal
 * decay, input or computed, met a state of 10^30; declared preserving it fails there.
 * Deeper: `FLUSH_ENVELOPE_RUNS=400 FLUSH_ENVELOPE_SEED=S npx vitest run test/spec/flush-envelope.test.ts`.
 */
import fc from 'fast-check';
import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { reference } from '../../reference/index.ts';
import type { AnyProblem, FamilyName, Problem } from '../../spec/families.ts';
import { toleranceTermsOf } from '../../spec/families/index.ts';
import { mayFlush, reachAndMove } from '../../spec/flush-envelope.ts';
import { dimensionsOf } from '../../spec/shapes.ts';
import type { Tensor } from '../../spec/tensor.ts';
import { caseArbitrary, problemOfCase } from '../../suite/arbitraries.ts';
import { channelModel, roundoffsOf, type ArithmeticDeclaration } from '../../suite/tolerance.ts';
import { compareWithReference, type ExpectedOutputs } from '../../suite/compare.ts';
import { MIN_NORMAL } from '../../spec/precision.ts';

const BELOW = 2 ** -14; // float16's smallest normal
const RUNS = Number(process.env.FLUSH_ENVELOPE_RUNS ?? 40);
const SEED = Number(process.env.FLUSH_ENVELOPE_SEED ?? 15);

/** The inputs of each family that multiply a state or an output. */
const MULTIPLIERS: Readonly<Record<string, readonly string[]>> = {
  'linear-recurrence': ['a'],
  'lti-ssm': ['Abar', 'C', 'D'],
  'selective-scan': ['delta', 'deltaBias', 'A', 'C', 'D', 'z'],
  ssd: ['dt', 'dtBias', 'dtLimit', 'A', 'C', 'D', 'z'],
  // Every input of mamba3-siso multiplies something (V the trapezoid's weights and k̂).
  'mamba3-siso': ['Q', 'K', 'V', 'ADT', 'DT', 'Trap', 'QBias', 'KBias', 'Angles', 'D', 'Z', 'angleState', 'ssmState', 'kState', 'vState'],
};

/** How far apart two results are: the circular distance for an angle state (compared that way, suite/compare.ts). */
const distance = (output: string, a: number, b: number): number => {
  const d = Math.abs(a - b);
  return output === 'finalAngleState' ? Math.min(d, 2 * Math.PI - d) : d;
};

// The reference flushes no intermediate, so the property weighs input flushes alone.
const movesOf = (problem: AnyProblem) => toleranceTermsOf(problem.family).multiplierFlush?.(problem as never, dimensionsOf(problem), { inputs: BELOW, intermediates: 0 });

/** The problem with its inputs replaced by `replace(name, tensor)` where it returns one. */
function withInputs(problem: AnyProblem, replace: (name: string, tensor: Tensor) => Tensor | undefined): AnyProblem {
  const inputs: Record<string, Tensor> = {};
  for (const [name, tensor] of Object.entries(problem.inputs as unknown as Record<string, Tensor | undefined>)) {
    if (tensor !== undefined) inputs[name] = replace(name, tensor) ?? tensor;
  }
  return { ...problem, inputs } as unknown as AnyProblem;
}

describe('the envelope of flushed multipliers', () => {
  it('moves a scalar recurrence by exactly |a|·|h| from the flushed step on, and by nothing before it', () => {
    const a = [0.5, 2 ** -20, 0.5, 0.25];
    const b = [1, 1, 1, 1];
    const problem: Problem<'linear-recurrence'> = {
      family: 'linear-recurrence',
      inputs: { a: { data: Float32Array.from(a), shape: [1, 1, 4] }, b: { data: Float32Array.from(b), shape: [1, 1, 4] } },
      options: { reverse: false },
    };
    const moves = movesOf(problem)!;
    // h = 1, 1 + 2^-20, 1.5 + 2^-21, …; flushed: 1, 1, 1.5, … — the drift halves, then quarters, with the decays.
    expect(Array.from(moves.h)).toEqual([0, 2 ** -20, 2 ** -21, 2 ** -23]);
    expect(Array.from(moves.lastState)).toEqual([2 ** -23]);
    const reversed = movesOf({ ...problem, options: { reverse: true } })!;
    // Reversed, the flushed decay at t = 1 meets the state of t = 2 (1.5): 2^-20·1.5 at t = 1, halved at t = 0.
    expect(Array.from(reversed.h)).toEqual([0.75 * 2 ** -20, 1.5 * 2 ** -20, 0, 0]);
  });

  it('never makes a NaN move of an overflowed factor', () => {
    expect(reachAndMove(Infinity, [Infinity, 1])).toEqual({ reach: Infinity, move: Infinity });
    expect(reachAndMove(Infinity, [Infinity])).toEqual({ reach: Infinity, move: 0 });
    expect(reachAndMove(2, [Number.NaN, 2])).toEqual({ reach: Infinity, move: Infinity });
    expect(reachAndMove(0.5, [0.5, 0])).toEqual({ reach: 0.5, move: 0.5 });
  });

  it('is absent when no multiplier may flush, and for a declaration that does not flush', () => {
    const problem: Problem<'linear-recurrence'> = {
      family: 'linear-recurrence',
      inputs: { a: { data: Float32Array.from([0.5, 2 ** -14]), shape: [1, 1, 2] }, b: { data: Float32Array.from([2 ** -30, 1]), shape: [1, 1, 2] } },
      options: { reverse: false },
    };
    // 2^-14 is float16's smallest normal, not under it; b is additive (its co-factors are rule U's flushCofactors).
    expect(movesOf(problem)).toBeUndefined();
    expect(mayFlush(0, BELOW)).toBe(false);
    expect(mayFlush(-(2 ** -15), BELOW)).toBe(true);
    // With a decay under it, only a declaration whose storage conversions flush gets the envelope (a
    // float32 arithmetic that flushes would flush only what lies under 2^-126).
    const small: Problem<'linear-recurrence'> = { ...problem, inputs: { ...problem.inputs, a: { data: Float32Array.from([0.5, 2 ** -15]), shape: [1, 1, 2] } } };
    const envelopeOf = (declaration: ArithmeticDeclaration) => channelModel(small, roundoffsOf(declaration)).multiplierFlush;
    expect(envelopeOf({ precision: 'float16', accumulation: 'float32', subnormals: 'flush' })?.h[1]).toBe(2 ** -15 * 2 ** -30);
    expect(envelopeOf({ precision: 'float16', accumulation: 'float32', subnormals: 'preserve' })).toBeUndefined();
    expect(envelopeOf({ precision: 'float32', subnormals: 'flush' })).toBeUndefined();
    expect(envelopeOf({ precision: 'float32' })).toBeUndefined();
  });

  it.each(Object.keys(MULTIPLIERS))('bounds what flushing any subset of the small multipliers does to the %s reference', (family) => {
    let movedElements = 0;
    fc.assert(
      fc.property(caseArbitrary(family as FamilyName, { maxLength: 48 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), (drawn, seed) => {
        const random = seedrandom(String(seed));
        const original = problemOfCase(drawn.request, drawn.valueSeed) as AnyProblem;
        // Push about a fifth of each multiplier's elements under float16's smallest normal (sign kept, exact in float32).
        const problem = withInputs(original, (name, tensor) => {
          if (!MULTIPLIERS[family].includes(name)) return undefined;
          const small = (v: number) => (v < 0 ? -1 : 1) * 2 ** -(15 + Math.floor(random() * 10)) * (1 + Math.floor(random() * 8) / 8);
          // dtLimit's clamp (lo, hi) must stay ordered: only lo goes under, half the time.
          if (name === 'dtLimit') return { ...tensor, data: Float32Array.from([random() < 0.5 ? Math.min(Math.abs(small(1)), tensor.data[1]) : tensor.data[0], tensor.data[1]]) };
          const data = tensor.data.map((v) => (random() < 0.2 ? small(v) : v));
          return { ...tensor, data };
        });
        // A kernel flushes any subset of them: half, drawn.
        const flushed = withInputs(problem, (name, tensor) =>
          MULTIPLIERS[family].includes(name) ? { ...tensor, data: tensor.data.map((v) => (mayFlush(v, BELOW) && random() < 0.5 ? 0 : v)) } : undefined,
        );
        const moves = movesOf(problem);
        const before = reference(problem);
        const after = reference(flushed);
        const steps = dimensionsOf(problem).length + 2;
        for (const [name, { data: values }] of Object.entries(before.outputs as Record<string, { readonly data: Float64Array }>)) {
          const changed = (after.outputs as Record<string, { readonly data: Float64Array }>)[name].data;
          const scales = [before, after].map((r) => (r.conditionScales as Record<string, { readonly data: Float64Array }>)[name].data);
          for (let i = 0; i < values.length; i++) {
            const change = distance(name, changed[i], values[i]);
            // The reference's factors (exp(Δ·A), Δ·B·u) are float64, each rounded once, and so is each result: its two runs differ from the exact ones by a few 2^-53 of their condition scales S per step.
            const allowed = (moves?.[name][i] ?? 0) * (1 + 1e-9) + 2 ** -50 * steps * (scales[0][i] + scales[1][i]) + Number.MIN_VALUE;
            if (change > 0) movedElements++;
            if (!(change <= allowed)) throw new Error(`${name}[${i}]: flushing moved it by ${change}, the envelope allows ${allowed} (regime ${drawn.request.regime})`);
          }
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );
    // Not vacuous: the flushes did move outputs.
    expect(movedElements).toBeGreaterThan(100);
  });

  describe('a float32 arithmetic that flushes its own subnormal operands and intermediates (webgpu-f32)', () => {
    const FLUSH32: ArithmeticDeclaration = { precision: 'float32', subnormals: 'flush' };
    const verdicts = (problem: AnyProblem, answer: Record<string, { data: Float32Array; shape: number[] }>) => {
      const expected = reference(problem) as unknown as ExpectedOutputs;
      return [compareWithReference(problem, answer, expected, FLUSH32).passed, compareWithReference(problem, answer, expected, { precision: 'float32' }).passed];
    };

    it('a subnormal decay input flushed under a state of 10^30: passes declared flushing, fails declared preserving', () => {
      // h = 10^30, then a = 10^-40 (a float32 subnormal) with b = 0: h = 10^-10, which a flushing kernel makes 0.
      const a = Math.fround(1e-40);
      const problem: Problem<'linear-recurrence'> = {
        family: 'linear-recurrence',
        inputs: { a: { data: Float32Array.from([0, a]), shape: [1, 1, 2] }, b: { data: Float32Array.from([1e30, 0]), shape: [1, 1, 2] } },
        options: { reverse: false },
      };
      const answer = { h: { data: Float32Array.from([1e30, 0]), shape: [1, 1, 2] }, lastState: { data: Float32Array.from([0]), shape: [1, 1] } };
      expect(verdicts(problem, answer)).toEqual([true, false]);
    });

    it('a decay exp(Δ·A) = exp(−100), subnormal in float32, flushed under a state of 10^30: passes declared flushing, fails declared preserving', () => {
      // As Dawn on lavapipe computes exp(−92.4): the kernel's decay is 0, so y = C·h = 0 where the reference has 3.7·10^-14.
      const problem: Problem<'selective-scan'> = {
        family: 'selective-scan',
        inputs: {
          u: { data: Float32Array.from([0]), shape: [1, 1, 1] },
          delta: { data: Float32Array.from([1]), shape: [1, 1, 1] },
          A: { data: Float32Array.from([-100]), shape: [1, 1] },
          B: { data: Float32Array.from([1]), shape: [1, 1] },
          C: { data: Float32Array.from([1]), shape: [1, 1] },
          h0: { data: Float32Array.from([1e30]), shape: [1, 1, 1] },
        },
        options: { deltaSoftplus: false },
      };
      expect(Math.exp(-100)).toBeLessThan(MIN_NORMAL.float32);
      const answer = { y: { data: Float32Array.from([0]), shape: [1, 1, 1] }, lastState: { data: Float32Array.from([0]), shape: [1, 1, 1] } };
      expect(verdicts(problem, answer)).toEqual([true, false]);
    });

    it('mamba3-siso\'s α = exp(ADT) = exp(−100) flushed under a state of 10^30: passes declared flushing, fails declared preserving', () => {
      const t = (data: number[], shape: number[]) => ({ data: Float32Array.from(data), shape });
      const problem: Problem<'mamba3-siso'> = {
        family: 'mamba3-siso',
        inputs: {
          Q: t([1, 0], [1, 1, 1, 2]), K: t([0, 0], [1, 1, 1, 2]), V: t([0], [1, 1, 1, 1]),
          ADT: t([-100], [1, 1, 1]), DT: t([1], [1, 1, 1]), Trap: t([0], [1, 1, 1]),
          QBias: t([0, 0], [1, 2]), KBias: t([0, 0], [1, 2]), Angles: t([0], [1, 1, 1, 1]),
          ssmState: t([1e30, 0], [1, 1, 1, 2]),
        },
        options: {},
      };
      // S = α·10^30 = 3.7·10^-14 is read out by q̂ = (1, 0); a kernel whose α is 0 returns y = 0 and S = 0.
      const answer = {
        y: { data: Float32Array.from([0]), shape: [1, 1, 1, 1] },
        finalAngleState: { data: Float32Array.from([0]), shape: [1, 1, 1] },
        finalSsmState: { data: Float32Array.from([0, 0]), shape: [1, 1, 1, 2] },
        finalKState: { data: Float32Array.from([0, 0]), shape: [1, 1, 2] },
        finalVState: { data: Float32Array.from([0]), shape: [1, 1, 1] },
      };
      expect(verdicts(problem, answer)).toEqual([true, false]);
    });
  });
});
