/**
 * The ssd reference (reference/ssd.ts) and its validation: errors that name the field, L = 0,
 * L = 1 against the step, packed rows (seqIdx) against each sequence run alone, the dtLimit clamp
 * after softplus, both shapes of D and the head→group mapping. Where two runs evaluate the same
 * float64 factors they agree bitwise, scales included.
 */
import { describe, expect, it } from 'vitest';
import { reference, referenceStep } from '../../reference/index.ts';
import { SpecValidationError } from '../../spec/errors.ts';
import type { SsdInputs } from '../../spec/families.ts';
import { tensor, type Tensor } from '../../spec/tensor.ts';
import { validateOutputs, validateStepOutputs } from '../../spec/validate.ts';
import { filled, float32, seeded, type Random } from './random-inputs.ts';

const [batch, L, H, P, N] = [2, 13, 4, 3, 5];

/** A random ssd problem's inputs: G groups, every optional input but seqIdx and dtLimit unless asked. */
function draw(random: Random, G: number, length = L, extra: Partial<SsdInputs> = {}): SsdInputs {
  return {
    x: filled([batch, length, H, P], () => float32(random, 0.01, 10)),
    dt: filled([batch, length, H], () => float32(random, 0.01, 2)),
    A: filled([H], () => -float32(random, 0.1, 4, true)),
    B: filled([batch, length, G, N], () => float32(random, 0.1, 2)),
    C: filled([batch, length, G, N], () => float32(random, 0.1, 2)),
    D: filled([H, P], () => float32(random, 0.1, 2)),
    z: filled([batch, length, H, P], () => float32(random, 0.1, 4)),
    dtBias: filled([H], () => float32(random, 0.01, 1)),
    initialStates: filled([batch, H, P, N], () => float32(random, 0.1, 3)),
    ...extra,
  };
}

const run = (inputs: SsdInputs, dtSoftplus = true) => reference({ family: 'ssd', inputs, options: { dtSoftplus } });

/** Expects a SpecValidationError naming `field`, and returns its message. */
function rejects(fn: () => unknown, field: string): string {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(SpecValidationError);
  expect((caught as SpecValidationError).field).toBe(field);
  return (caught as SpecValidationError).message;
}

describe('ssd validation names the field, what was expected and what came', () => {
  const random = seeded('ssd validation');
  const ok = draw(random, 2);
  const cases: [string, Partial<Record<keyof SsdInputs, Tensor>>, string][] = [
    ['B', { B: filled([batch, L, 3, N], () => 1) }, 'ssd: B: expected shape (batch=2, L=13, G, N) with G ≥ 1 dividing H=4 and N ≥ 1, got [2, 13, 3, 5]'],
    ['C', { C: filled([batch, L, 1, N], () => 1) }, 'ssd: C: expected shape (batch=2, L=13, G=2, N=5), got [2, 13, 1, 5]'],
    ['D', { D: filled([H, N], () => 1) }, 'ssd: D: expected shape (H=4) or (H=4, P=3), got [4, 5]'],
    ['dt', { dt: filled([batch, H, L], () => 1) }, 'ssd: dt: expected shape (batch=2, L=13, H=4), got [2, 4, 13]'],
    ['x', { x: filled([batch, H * P, L], () => 1) }, 'ssd: x: expected shape (batch, L, H, P), got [2, 12, 13]'],
    ['initialStates', { initialStates: filled([batch, H * P, N], () => 1) }, 'ssd: initialStates: expected shape (batch=2, H=4, P=3, N=5), got [2, 12, 5]'],
    ['dtLimit', { dtLimit: tensor([0.5, 0.25], [2]) }, 'ssd: dtLimit: expected limits (lo, hi) with lo ≤ hi, got lo = 0.5 at dtLimit[0], hi = 0.25 at dtLimit[1]'],
    ['dtLimit', { dtLimit: tensor([Number.NaN, 1], [2]) }, 'ssd: dtLimit: expected limits (lo, hi) that are not NaN (±Infinity allowed), got NaN at dtLimit[0] (flat index 0)'],
    ['seqIdx', { seqIdx: filled([batch, L], (i) => (i === L + 4 ? 0 : Math.floor((i % L) / 3))) }, 'ssd: seqIdx: expected sequence ids non-decreasing along L in every row, got 0 at seqIdx[1, 4] after 1 at seqIdx[1, 3]'],
    ['seqIdx', { seqIdx: filled([batch, L], (i) => (i === 2 ? 0.5 : 0)) }, 'ssd: seqIdx: expected sequence ids: integers 0 … 2^24 (exact in float32), got 0.5 at seqIdx[0, 2] (flat index 2)'],
    ['seqIdx', { seqIdx: filled([batch, L], (i) => (i === 2 ? -1 : 0)) }, 'ssd: seqIdx: expected sequence ids: integers 0 … 2^24 (exact in float32), got -1 at seqIdx[0, 2] (flat index 2)'],
    ['z', { z: filled([batch, L, H, P], (i) => (i === 7 ? Number.POSITIVE_INFINITY : 1)) }, 'ssd: z: expected finite values (NaN and ±Inf are not valid inputs), got Infinity at z[0, 0, 2, 1] (flat index 7)'],
  ];
  for (const [field, change, message] of cases) {
    it(`${field}: ${message.slice(field.length + 7)}`, () => {
      expect(rejects(() => run({ ...ok, ...change }), field)).toBe(message);
    });
  }

  it('dtLimit may be ±Infinity; a step takes no seqIdx and its state is (batch, H, P, N)', () => {
    expect(() => run({ ...ok, dtLimit: tensor([Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY], [2]) })).not.toThrow();
    const step = { x: filled([batch, H, P], () => 1), dt: filled([batch, H], () => 1), A: ok.A, B: filled([batch, 2, N], () => 1), C: filled([batch, 2, N], () => 1) };
    expect(rejects(() => referenceStep('ssd', { ...step, state: filled([batch, H, P, N], () => 1), seqIdx: filled([batch, 1], () => 0) } as never, { dtSoftplus: false }), 'inputs.seqIdx')).toMatch(
      /^ssd step: inputs\.seqIdx: expected no such input/,
    );
    expect(rejects(() => referenceStep('ssd', { ...step, state: filled([batch, H * P, N], () => 1) }, { dtSoftplus: false }), 'state')).toBe(
      'ssd step: state: expected shape (batch=2, H=4, P=3, N=5), got [2, 12, 5]',
    );
  });

  it('the reference\'s outputs pass validateOutputs (y (batch, L, H, P), finalStates (batch, H, P, N)); a transposed y does not', () => {
    const problem = { family: 'ssd' as const, inputs: ok, options: { dtSoftplus: true } };
    const result = run(ok);
    expect(result.outputs.y.shape).toEqual([batch, L, H, P]);
    expect(result.outputs.finalStates.shape).toEqual([batch, H, P, N]);
    expect(() => validateOutputs(problem, result.outputs)).not.toThrow();
    const transposed = { ...result.outputs, y: { data: result.outputs.y.data, shape: [batch, H * P, L] } };
    expect(rejects(() => validateOutputs(problem, transposed), 'y.shape')).toBe('ssd outputs: y.shape: expected [2, 13, 4, 3], got [2, 12, 13]');
  });
});

describe('ssd edge cases', () => {
  it('L = 0: y is (batch, 0, H, P); finalStates = initialStates with S = |h0|, W = 0, or zeros without', () => {
    const inputs = draw(seeded('ssd L0'), 2, 0);
    const result = run(inputs);
    expect(result.outputs.y.shape).toEqual([batch, 0, H, P]);
    expect(result.outputs.finalStates.data).toEqual(Float64Array.from(inputs.initialStates!.data));
    expect(result.conditionScales.finalStates.data).toEqual(Float64Array.from(inputs.initialStates!.data, Math.abs));
    expect(result.depthScales.finalStates.data.every((w) => w === 0)).toBe(true);
    const { initialStates: _, ...without } = inputs;
    expect(run(without).outputs.finalStates.data.every((v) => v === 0)).toBe(true);
  });

  for (const G of [1, 2, H]) {
    it(`L = 1 equals the step from initialStates, bitwise with condition scales (G = ${G})`, () => {
      const random = seeded(`ssd L1 ${G}`);
      const inputs = draw(random, G, 1, { dtLimit: tensor([0.05, 1.5], [2]) });
      const result = run(inputs);
      const drop = (t: Tensor, shape: readonly number[]): Tensor => tensor(t.data, shape);
      const step = referenceStep(
        'ssd',
        {
          x: drop(inputs.x, [batch, H, P]),
          dt: drop(inputs.dt, [batch, H]),
          A: inputs.A,
          B: drop(inputs.B, [batch, G, N]),
          C: drop(inputs.C, [batch, G, N]),
          D: inputs.D,
          z: drop(inputs.z!, [batch, H, P]),
          dtBias: inputs.dtBias,
          dtLimit: inputs.dtLimit,
          state: inputs.initialStates!,
        },
        { dtSoftplus: true },
      );
      expect(step.outputs.y.shape).toEqual([batch, H, P]);
      expect(step.outputs.state.shape).toEqual([batch, H, P, N]);
      expect(step.outputs.y.data).toEqual(result.outputs.y.data);
      expect(step.outputs.state.data).toEqual(result.outputs.finalStates.data);
      expect(step.conditionScales.y.data).toEqual(result.conditionScales.y.data);
      expect(step.conditionScales.state.data).toEqual(result.conditionScales.finalStates.data);
      expect(() => validateStepOutputs('ssd', { x: drop(inputs.x, [batch, H, P]), dt: drop(inputs.dt, [batch, H]), A: inputs.A, B: drop(inputs.B, [batch, G, N]), C: drop(inputs.C, [batch, G, N]), state: inputs.initialStates! }, step.outputs)).not.toThrow();
    });
  }
});

describe('seqIdx: a packed row is each sequence run alone', () => {
  // Sequences of lengths 1, 4, 1, 7 in row 0 and 13 in row 1 (ids need not start at 0 nor be consecutive).
  const bounds = [[0, 1, 5, 6, 13], [0, 13]];
  const ids = [[3, 4, 6, 9], [2]];
  const random = seeded('ssd packed');
  const inputs = draw(random, 2);
  const seqIdx = filled([batch, L], (i) => {
    const [b, t] = [Math.floor(i / L), i % L];
    const k = bounds[b].findIndex((start, j) => t >= start && t < bounds[b][j + 1]);
    return ids[b][k];
  });
  const packed = run({ ...inputs, seqIdx });

  /** Rows [start, end) of a (batch, L, …) tensor's row b, as a batch-1 tensor. */
  const slice = (t: Tensor, b: number, start: number, end: number): Tensor => {
    const inner = t.shape.slice(2).reduce((p, s) => p * s, 1);
    return tensor(t.data.slice((b * L + start) * inner, (b * L + end) * inner), [1, end - start, ...t.shape.slice(2)]);
  };
  const row = (t: Tensor, b: number): Tensor => {
    const inner = t.shape.slice(1).reduce((p, s) => p * s, 1);
    return tensor(t.data.slice(b * inner, (b + 1) * inner), [1, ...t.shape.slice(1)]);
  };

  it('y, S and W of every sequence bitwise; initialStates reaches only the first; finalStates is the last sequence\'s', () => {
    const yInner = H * P;
    for (let b = 0; b < batch; b++) {
      for (let k = 0; k + 1 < bounds[b].length; k++) {
        const [start, end] = [bounds[b][k], bounds[b][k + 1]];
        const alone = run({
          x: slice(inputs.x, b, start, end),
          dt: slice(inputs.dt, b, start, end),
          A: inputs.A,
          B: slice(inputs.B, b, start, end),
          C: slice(inputs.C, b, start, end),
          D: inputs.D,
          z: slice(inputs.z!, b, start, end),
          dtBias: inputs.dtBias,
          ...(k === 0 ? { initialStates: row(inputs.initialStates!, b) } : {}),
        });
        const range = [(b * L + start) * yInner, (b * L + end) * yInner] as const;
        expect(packed.outputs.y.data.slice(...range)).toEqual(alone.outputs.y.data);
        expect(packed.conditionScales.y.data.slice(...range)).toEqual(alone.conditionScales.y.data);
        expect(packed.depthScales.y.data.slice(...range)).toEqual(alone.depthScales.y.data);
        if (k + 2 === bounds[b].length) {
          const states = [b * H * P * N, (b + 1) * H * P * N] as const;
          expect(packed.outputs.finalStates.data.slice(...states)).toEqual(alone.outputs.finalStates.data);
          expect(packed.depthScales.finalStates.data.slice(...states)).toEqual(alone.depthScales.finalStates.data);
        }
      }
    }
  });

  it('a row of one id is one sequence: the same as no seqIdx', () => {
    const constant = run({ ...inputs, seqIdx: filled([batch, L], (i) => Math.floor(i / L) * 5) });
    const plain = run(inputs);
    expect(constant.outputs.y.data).toEqual(plain.outputs.y.data);
    expect(constant.depthScales.finalStates.data).toEqual(plain.depthScales.finalStates.data);
    // Not vacuous: the packed row differs from the plain one.
    expect(packed.outputs.y.data).not.toEqual(plain.outputs.y.data);
  });
});

describe('dtLimit clamps Δ after softplus', () => {
  const random = seeded('ssd dtLimit');
  const [lo, hi] = [Math.fround(0.125), Math.fround(1.5)];
  // softplus(dt + bias) below lo (dt ≤ −4: softplus < 0.019) or above hi (dt ≥ 2: softplus > 2.1).
  const dt = filled([batch, L, H], () => (random() < 0.5 ? -float32(random, 4, 8, true) : float32(random, 2, 6, true)));
  const inputs = { ...draw(random, 1), dt, dtBias: undefined };

  it('every Δ clamped to lo or hi: the run equals dt = the clamped values without softplus, bitwise', () => {
    const limited = run({ ...inputs, dtLimit: tensor([lo, hi], [2]) }, true);
    const clamped = run({ ...inputs, dt: filled(dt.shape, (i) => (dt.data[i] < 0 ? lo : hi)) }, false);
    expect(limited.outputs.y.data).toEqual(clamped.outputs.y.data);
    expect(limited.depthScales.finalStates.data).toEqual(clamped.depthScales.finalStates.data);
    // Clamping before softplus would give softplus(lo) or softplus(hi): a different run.
    const before = run({ ...inputs, dt: filled(dt.shape, (i) => (dt.data[i] < 0 ? lo : hi)) }, true);
    expect(before.outputs.y.data).not.toEqual(limited.outputs.y.data);
  });

  it('(0, +∞) and (−∞, +∞) change nothing after softplus', () => {
    const plain = run(inputs);
    expect(run({ ...inputs, dtLimit: tensor([0, Number.POSITIVE_INFINITY], [2]) }).outputs.y.data).toEqual(plain.outputs.y.data);
    expect(run({ ...inputs, dtLimit: tensor([Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY], [2]) }).outputs.y.data).toEqual(plain.outputs.y.data);
  });
});

describe('D shapes and head→group mapping', () => {
  it('D (H) equals D (H, P) with each head\'s value repeated, bitwise', () => {
    const random = seeded('ssd D');
    const inputs = draw(random, 2);
    const perHead = filled([H], () => float32(random, 0.1, 2));
    const a = run({ ...inputs, D: perHead });
    const b = run({ ...inputs, D: filled([H, P], (i) => perHead.data[Math.floor(i / P)]) });
    expect(a.outputs.y.data).toEqual(b.outputs.y.data);
    expect(a.conditionScales.y.data).toEqual(b.conditionScales.y.data);
  });

  for (const G of [1, 2]) {
    it(`G = ${G}: head h reads group ⌊h/(H/G)⌋ — equal to G = H with each head given its group's B and C`, () => {
      const random = seeded(`ssd groups ${G}`);
      const inputs = draw(random, G);
      const spread = (t: Tensor): Tensor =>
        filled([batch, L, H, N], (i) => {
          const n = i % N;
          const h = Math.floor(i / N) % H;
          const row = Math.floor(i / (N * H)); // b·L + t
          return t.data[(row * G + Math.floor(h / (H / G))) * N + n];
        });
      const grouped = run(inputs);
      const perHead = run({ ...inputs, B: spread(inputs.B), C: spread(inputs.C) });
      expect(grouped.outputs.y.data).toEqual(perHead.outputs.y.data);
      expect(grouped.outputs.finalStates.data).toEqual(perHead.outputs.finalStates.data);
      expect(grouped.depthScales.y.data).toEqual(perHead.depthScales.y.data);
      if (G === 2) {
        // h % G would pair heads 0 and 2: their groups differ, so would the outputs.
        const modulo = (t: Tensor): Tensor => filled([batch, L, H, N], (i) => t.data[(Math.floor(i / (N * H)) * G + (Math.floor(i / N) % H) % G) * N + (i % N)]);
        expect(run({ ...inputs, B: modulo(inputs.B), C: modulo(inputs.C) }).outputs.y.data).not.toEqual(grouped.outputs.y.data);
      }
    });
  }
});
