/**
 * The vjp properties judge a backward pass: the sequential baselines (float32 and float64) pass
 * them on every family, and four wrong backward kernels (the float32 baseline with one gradient
 * spoiled the way a real kernel gets it wrong) fail `vjp` with a short counterexample; a gradient
 * computed with J instead of Jᵀ fails vjp-dot-product, which does not use the reverse-mode reference.
 * Runs are shortened (few runs, L ≤ 24) to keep the file quick.
 */
import { GRADIENT_FAMILIES } from '../../spec/gradients.ts';
import { describe, expect, it } from 'vitest';
import { createSequential } from '../../implementations/sequential/sequential.ts';
import { sequentialVjp } from '../../implementations/sequential/vjp.ts';
import type { FamilyName, Problem } from '../../spec/families.ts';
import type { Cotangents, GradientsOf } from '../../spec/gradients.ts';
import type { FamilyImplementation, ScanImplementation } from '../../spec/implementation.ts';
import type { OutputTensor } from '../../spec/tensor.ts';
import { FAMILY_NAMES } from '../../spec/families.ts';
import { statePassing } from '../../spec/families/index.ts';
import type { PropertyName } from '../../suite/results.ts';
import { validateImplementation } from '../../suite/implementation-check.ts';
import { validateGradients } from '../../suite/vjp-check.ts';
import { lengthOf, quickRun } from './quick-run.ts';

const VJP_PROPERTIES: readonly PropertyName[] = ['vjp', 'vjp-dot-product', 'vjp-zero', 'vjp-linearity', 'vjp-state-passing', 'vjp-batch-permutation'];
const LIMITS = { runs: 4, maxLength: 24 };

/** Mutable float64 copies of sequentialVjp's gradients. */
type Spoilable = Record<string, { data: Float64Array; shape: readonly number[] }>;

/** The float32 baseline whose `family` vjp is sequentialVjp's gradients passed through `spoil`. */
function wrongKernel<F extends FamilyName>(name: string, family: F, spoil: (problem: Problem<F>, cotangents: Cotangents<F>, gradients: Spoilable) => void): ScanImplementation {
  const base = createSequential('float32');
  const correct = base.families[family] as FamilyImplementation<F>;
  const entry: FamilyImplementation<F> = {
    ...correct,
    vjp: async (problem, cotangents) => {
      const right = sequentialVjp('float32', problem, cotangents) as Readonly<Record<string, OutputTensor>>;
      const gradients: Spoilable = Object.fromEntries(Object.entries(right).map(([k, t]) => [k, { data: Float64Array.from(t.data), shape: t.shape }]));
      spoil(problem, cotangents, gradients);
      return gradients as unknown as GradientsOf<F>;
    },
  };
  return { ...base, name, families: { [family]: entry } };
}

/** Cotangents with every batch row but the first zeroed (what a kernel that reads batch 0 only sums). */
function firstBatchOnly<F extends FamilyName>(cotangents: Cotangents<F>): Cotangents<F> {
  return Object.fromEntries(
    Object.entries(cotangents as unknown as Readonly<Record<string, OutputTensor>>).map(([k, t]) => {
      const perBatch = t.data.length / t.shape[0];
      return [k, { data: Float32Array.from(t.data, (v, i) => (i < perBatch ? v : 0)), shape: t.shape }];
    }),
  ) as unknown as Cotangents<F>;
}

/** The linear-recurrence dh0 that misses the first decay (dh0 = db at the first step instead of a_first·db_first). */
const dh0WithoutFirstDecay = wrongKernel('dh0-no-first-decay', 'linear-recurrence', (problem, _, g) => {
  const L = problem.inputs.a.shape[2];
  if (g.h0 === undefined || L === 0) return;
  // db_t is the adjoint of h_t; dh0 = a_first·db_first, and this kernel drops a_first.
  const first = problem.options.reverse ? L - 1 : 0;
  for (let row = 0; row < g.h0.data.length; row++) g.h0.data[row] = g.b.data[row * L + first];
});

/** A selective-scan dA summed over the first batch row only. */
const dAFirstBatchOnly = wrongKernel('dA-batch-0', 'selective-scan', (problem, cotangents, g) => {
  g.A.data.set((sequentialVjp('float32', problem, firstBatchOnly(cotangents)) as Readonly<Record<string, OutputTensor>>).A.data);
});

/** mamba3-siso's dTrap with β and γ swapped in σ'(Trap)'s chain: σ'·δ·(β̄·α − γ̄), the negation of the right one. */
const trapWeightsSwapped = wrongKernel('dTrap-beta-gamma-swapped', 'mamba3-siso', (_, __, g) => {
  g.Trap.data.forEach((v, i) => (g.Trap.data[i] = -v));
});

/** mamba3-siso's dAngles without tanh's derivative (θ̄·δ·π only). */
const anglesWithoutTanh = wrongKernel('dAngles-no-tanh', 'mamba3-siso', (problem, _, g) => {
  problem.inputs.Angles.data.forEach((a, i) => (g.Angles.data[i] /= 1 - Math.tanh(a) ** 2));
});

/** mamba3-siso's dssmState missing the first decay: S̄_0 instead of α_0·S̄_0. */
const ssmStateWithoutFirstDecay = wrongKernel('dssmState-no-first-decay', 'mamba3-siso', (problem, _, g) => {
  const { ADT } = problem.inputs;
  const [batch, H, L] = ADT.shape;
  if (g.ssmState === undefined || L === 0) return;
  const perHead = g.ssmState.data.length / (batch * H);
  for (let head = 0; head < batch * H; head++) for (let j = 0; j < perHead; j++) g.ssmState.data[head * perHead + j] /= Math.exp(ADT.data[head * L]);
});

const WRONG_KERNELS: readonly { readonly what: string; readonly family: FamilyName; readonly implementation: ScanImplementation }[] = [
  { what: 'mamba3-siso dTrap with β and γ swapped', family: 'mamba3-siso', implementation: trapWeightsSwapped },
  { what: "mamba3-siso dAngles without tanh's derivative", family: 'mamba3-siso', implementation: anglesWithoutTanh },
  { what: 'mamba3-siso dssmState missing the first decay', family: 'mamba3-siso', implementation: ssmStateWithoutFirstDecay },
  {
    what: 'dA not summed over the batch',
    family: 'selective-scan',
    implementation: dAFirstBatchOnly,
  },
  {
    what: 'a time-invariant dB summed over the channels instead of the batch and time',
    family: 'selective-scan',
    implementation: wrongKernel('dB-wrong-axis', 'selective-scan', (problem, _, g) => {
      if (problem.inputs.B.shape.length !== 2) return;
      const [dim, N] = problem.inputs.B.shape;
      const summed = new Float64Array(N);
      for (let d = 0; d < dim; d++) for (let n = 0; n < N; n++) summed[n] += g.B.data[d * N + n];
      for (let d = 0; d < dim; d++) for (let n = 0; n < N; n++) g.B.data[d * N + n] = summed[n];
    }),
  },
  {
    what: 'dh0 missing the first decay',
    family: 'linear-recurrence',
    implementation: dh0WithoutFirstDecay,
  },
  {
    what: 'ddelta without the softplus derivative',
    family: 'selective-scan',
    implementation: wrongKernel('ddelta-no-softplus', 'selective-scan', (problem, _, g) => {
      if (!problem.options.deltaSoftplus) return;
      const { delta, deltaBias } = problem.inputs;
      const [, dim, L] = delta.shape;
      for (let i = 0; i < delta.data.length; i++) {
        const x = delta.data[i] + (deltaBias?.data[Math.floor(i / L) % dim] ?? 0);
        if (x <= 20) g.delta.data[i] /= 1 / (1 + Math.exp(-x));
      }
    }),
  },
];

describe('the vjp properties', () => {
  for (const precision of ['float32', 'float64'] as const) {
    it(`pass the sequential ${precision} baseline on every family`, async () => {
      const implementation = createSequential(precision);
      for (const family of GRADIENT_FAMILIES) {
        const cells = await quickRun(implementation, family, VJP_PROPERTIES, LIMITS);
        // vjp-state-passing does not apply to a family without a state; every other cell passes.
        const expected = (p: PropertyName) => (p === 'vjp-state-passing' && !statePassing(family) ? 'not-applicable' : 'pass');
        expect(cells.map((c) => [family, c.property, c.outcome, c.counterexample?.message])).toEqual(VJP_PROPERTIES.map((p) => [family, p, expected(p), undefined]));
        // Not green by accident: every cell that applies judged cases (none declined).
        for (const c of cells) if (c.outcome === 'pass') expect(c.runs - (c.declined ?? 0), `${family} ${c.property}`).toBeGreaterThan(0);
      }
    });
  }

  for (const { what, family, implementation } of WRONG_KERNELS) {
    it(`fail vjp for ${what}, with a counterexample of L ≤ 8`, async () => {
      const [cell] = await quickRun(implementation, family, ['vjp'], LIMITS);
      expect(cell.outcome, cell.reason).toBe('fail');
      expect(cell.counterexample?.message).toMatch(/gradient elements outside rule V; worst vjp\.\w+\[/);
      expect(lengthOf(cell)).toBeLessThanOrEqual(8);
    });
  }

  it('fail vjp-state-passing for a dh0 missing the first decay (the chained first half gets the wrong cotangent)', async () => {
    const [cell] = await quickRun(dh0WithoutFirstDecay, 'linear-recurrence', ['vjp-state-passing'], LIMITS);
    expect(cell.outcome, cell.reason).toBe('fail');
    expect(cell.counterexample?.message).toMatch(/^split at k = \d+: the chained gradient vjp\.\w+\[.*\] is .*, the whole's reference /);
    expect(lengthOf(cell)).toBeLessThanOrEqual(8);
  });

  it('fail vjp-batch-permutation for a dA summed over the first batch row only', async () => {
    const [cell] = await quickRun(dAFirstBatchOnly, 'selective-scan', ['vjp-batch-permutation'], LIMITS);
    expect(cell.outcome, cell.reason).toBe('fail');
    expect(cell.counterexample?.message).toMatch(/^with the batch permuted as \[.*\], vjp\.A\[.*\] is .*the shared parameter's gradient of the unpermuted run/);
    expect(lengthOf(cell)).toBeLessThanOrEqual(8);
  });

  it('fail vjp-dot-product for a prefix-sum gradient summed the wrong way (J·ȳ instead of Jᵀ·ȳ)', async () => {
    const implementation = wrongKernel('transposed-prefix-sum', 'prefix-sum', (problem, cotangents, g) => {
      const flipped = { ...problem, options: { ...problem.options, reverse: !problem.options.reverse } };
      g.x.data.set((sequentialVjp('float32', flipped, cotangents) as Readonly<Record<string, OutputTensor>>).x.data);
    });
    const [cell] = await quickRun(implementation, 'prefix-sum', ['vjp-dot-product'], LIMITS);
    expect(cell.outcome, cell.reason).toBe('fail');
    expect(cell.counterexample?.message).toMatch(/⟨ȳ, J·v⟩ = .* but ⟨vjp\(ȳ\), v⟩ = /);
    expect(lengthOf(cell)).toBeLessThanOrEqual(8);
  });
});

describe('validateGradients', () => {
  const problem = {
    family: 'linear-recurrence',
    inputs: { a: { data: new Float32Array(2), shape: [1, 1, 2] }, b: { data: new Float32Array(2), shape: [1, 1, 2] } },
    options: { reverse: false },
  } as const;
  const tensor = (shape: number[]) => ({ data: new Float32Array(shape.reduce((x, y) => x * y, 1)), shape });

  it('names a gradient of the wrong shape, with the shape expected and what came', () => {
    expect(() => validateGradients(problem as never, { a: tensor([1, 1, 2]), b: tensor([1, 2]) })).toThrow(/b\.shape: expected \(1, 1, 2\)|b\.shape: expected .*1.*1.*2.*got/);
  });

  it('fails a missing gradient of a present input, and a gradient of an absent input', () => {
    expect(() => validateGradients(problem as never, { a: tensor([1, 1, 2]) })).toThrow(/b: expected a tensor of shape .* got undefined \(missing\)/);
    expect(() => validateGradients(problem as never, { a: tensor([1, 1, 2]), b: tensor([1, 1, 2]), h0: tensor([1, 1]) })).toThrow(/h0: expected absent: the problem has no h0, got a gradient/);
  });

  it('accepts one gradient per present input, an absent input given as undefined included', () => {
    expect(Object.keys(validateGradients(problem as never, { a: tensor([1, 1, 2]), b: tensor([1, 1, 2]), h0: undefined }))).toEqual(['a', 'b']);
  });
});

describe('validateImplementation', () => {
  it('rejects a vjp that is not a function, naming the field', () => {
    const implementation = { name: 'x', precision: 'float32', families: { 'prefix-sum': { run: async () => ({}), vjp: 3 } } };
    expect(() => validateImplementation(implementation)).toThrow("families['prefix-sum'].vjp: expected absent or a function, got number 3");
  });
});
