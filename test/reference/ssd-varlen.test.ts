/**
 * ssd's variable-length form on the reference: the varlen reference is the ssd reference of each
 * sequence, bit for bit (values and both scales), an empty sequence keeps its initial state, and
 * packing a batch's row prefixes means those prefixes; the validator names the field of every
 * malformed varlen problem or answer.
 */
import { describe, expect, it } from 'vitest';
import { reference } from '../../reference/index.ts';
import { ssdVarlen } from '../../reference/ssd-varlen.ts';
import { SpecValidationError } from '../../spec/errors.ts';
import { packRows, sequenceProblem, type SsdVarlenInputs, type SsdVarlenProblem } from '../../spec/families/ssd/varlen.ts';
import { validateVarlenOutputs, validateVarlenProblem } from '../../spec/families/ssd/varlen-validate.ts';
import { sliceAxis } from '../../spec/tensor-axis.ts';
import { tensor, type Tensor } from '../../spec/tensor.ts';
import { filled, float32, seeded, type Random } from './random-inputs.ts';

const [H, P, G, N] = [4, 3, 2, 5];
const BOUNDS = [0, 5, 5, 6, 19, 19];
const T = BOUNDS[BOUNDS.length - 1];
const NSEQ = BOUNDS.length - 1;

/** A random varlen problem: sequences of lengths 5, 0, 1, 13, 0; every optional input. */
function draw(random: Random): SsdVarlenProblem {
  const inputs: SsdVarlenInputs = {
    x: filled([1, T, H, P], () => float32(random, 0.01, 10)),
    dt: filled([1, T, H], () => float32(random, 0.01, 2)),
    A: filled([H], () => -float32(random, 0.1, 4, true)),
    B: filled([1, T, G, N], () => float32(random, 0.1, 2)),
    C: filled([1, T, G, N], () => float32(random, 0.1, 2)),
    D: filled([H, P], () => float32(random, 0.1, 2)),
    z: filled([1, T, H, P], () => float32(random, 0.1, 4)),
    dtBias: filled([H], () => float32(random, 0.01, 1)),
    dtLimit: tensor([0.05, 1.5], [2]),
    cuSeqlens: tensor(BOUNDS, [NSEQ + 1]),
    initialStates: filled([NSEQ, H, P, N], () => float32(random, 0.1, 3)),
  };
  return { inputs, options: { dtSoftplus: true } };
}

const same = (a: Float64Array, b: Float64Array): boolean => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

describe('the varlen reference is the ssd reference per sequence', () => {
  const problem = draw(seeded('ssd varlen reference'));
  const packed = ssdVarlen(problem);

  it('bit for bit: y, S and W at each sequence\'s tokens, its final state and scales at finalStates[s]', () => {
    expect(packed.outputs.y.shape).toEqual([1, T, H, P]);
    expect(packed.outputs.finalStates.shape).toEqual([NSEQ, H, P, N]);
    for (let s = 0; s < NSEQ; s++) {
      const own = reference(sequenceProblem(problem, s));
      for (const scales of ['outputs', 'conditionScales', 'depthScales'] as const) {
        expect(same(sliceAxis(packed[scales].y, 1, BOUNDS[s], BOUNDS[s + 1]).data, own[scales].y.data), `${scales} y of sequence ${s}`).toBe(true);
        expect(same(sliceAxis(packed[scales].finalStates, 0, s, s + 1).data, own[scales].finalStates.data), `${scales} finalStates of sequence ${s}`).toBe(true);
      }
    }
  });

  it('an empty sequence ends in its initial state (zero without initialStates); a sequence does not see the one before it', () => {
    const states = problem.inputs.initialStates!;
    for (const s of [1, 4]) expect(Array.from(sliceAxis(packed.outputs.finalStates, 0, s, s + 1).data)).toEqual(Array.from(sliceAxis(states, 0, s, s + 1).data));
    const { initialStates: _dropped, ...withoutStates } = problem.inputs;
    const zero = ssdVarlen({ ...problem, inputs: withoutStates });
    expect(Array.from(sliceAxis(zero.outputs.finalStates, 0, 1, 2).data).every((v) => v === 0)).toBe(true);
    // Sequence 3 alone, from its state: the same numbers whatever sequences 0…2 hold.
    const changed = { ...problem.inputs, x: filled([1, T, H, P], (i) => (i < BOUNDS[3] * H * P ? 7 : problem.inputs.x.data[i])) };
    const again = ssdVarlen({ ...problem, inputs: changed });
    expect(same(sliceAxis(again.outputs.y, 1, BOUNDS[3], T).data, sliceAxis(packed.outputs.y, 1, BOUNDS[3], T).data)).toBe(true);
  });

  it('packRows packs row prefixes: sequence b is row b cut to its length, from its initial state', () => {
    const random = seeded('ssd varlen pack');
    const [batch, L] = [3, 6];
    const inputs = {
      x: filled([batch, L, H, P], () => float32(random, 0.01, 10)),
      dt: filled([batch, L, H], () => float32(random, 0.01, 2)),
      A: filled([H], () => -float32(random, 0.1, 4, true)),
      B: filled([batch, L, G, N], () => float32(random, 0.1, 2)),
      C: filled([batch, L, G, N], () => float32(random, 0.1, 2)),
      initialStates: filled([batch, H, P, N], () => float32(random, 0.1, 3)),
    };
    const lengths = [6, 0, 2];
    const varlen = packRows({ inputs, options: { dtSoftplus: false } }, lengths);
    expect(Array.from(varlen.inputs.cuSeqlens.data)).toEqual([0, 6, 6, 8]);
    const batchReference = reference({ family: 'ssd', inputs, options: { dtSoftplus: false } });
    const packed = ssdVarlen(varlen);
    // Causality: a prefix's y is the batch row's y; a whole row ends in the batch row's final state.
    for (const [b, start] of [[0, 0], [2, 6]] as const) {
      expect(same(sliceAxis(packed.outputs.y, 1, start, start + lengths[b]).data, sliceAxis(sliceAxis(batchReference.outputs.y, 0, b, b + 1), 1, 0, lengths[b]).data)).toBe(true);
    }
    expect(same(sliceAxis(packed.outputs.finalStates, 0, 0, 1).data, sliceAxis(batchReference.outputs.finalStates, 0, 0, 1).data)).toBe(true);
    expect(() => packRows({ inputs, options: { dtSoftplus: false } }, [6, 7, 0])).toThrow(/lengths: expected 3 integers in \[0, 6\], got \[6, 7, 0\]/);
  });
});

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

describe('varlen validation names the field, what was expected and what came', () => {
  const ok = draw(seeded('ssd varlen validation'));
  const withInputs = (change: Partial<Record<string, Tensor>>): SsdVarlenProblem => ({ ...ok, inputs: { ...ok.inputs, ...change } as SsdVarlenInputs });
  const cases: [string, Partial<Record<string, Tensor>>, string][] = [
    ['cuSeqlens', { cuSeqlens: tensor([1, 5, 19], [3]) }, 'ssd varlen: cuSeqlens: expected c_0 = 0: the first sequence starts at token 0, got 1 at cuSeqlens[0]'],
    ['cuSeqlens', { cuSeqlens: tensor([0, 6, 5, 19], [4]) }, 'ssd varlen: cuSeqlens: expected non-decreasing offsets c_0 ≤ c_1 ≤ … (a sequence cannot have negative length), got 5 at cuSeqlens[2] after 6'],
    ['cuSeqlens', { cuSeqlens: tensor([0, 5, 18], [3]) }, "ssd varlen: cuSeqlens: expected c_nseq = T = 19 (x's length): the sequences cover every token, got 18 at cuSeqlens[2]"],
    ['cuSeqlens', { cuSeqlens: tensor([0, 2.5, 19], [3]) }, 'ssd varlen: cuSeqlens: expected token offsets: integers 0 … 2^24 (exact in float32), got 2.5 at cuSeqlens[1]'],
    ['cuSeqlens', { cuSeqlens: tensor([0, 19], [1, 2]) }, 'ssd varlen: cuSeqlens: expected shape (nseq + 1) with nseq ≥ 0: the sequence boundaries c_0 … c_nseq, got [1, 2]'],
    ['initialStates', { initialStates: filled([1, H, P, N], () => 1) }, 'ssd varlen: initialStates: expected shape (nseq=5, H=4, P=3, N=5): one state per sequence, got [1, 4, 3, 5]'],
    ['initialStates', { initialStates: filled([NSEQ, H, P, N], (i) => (i === 3 ? Number.NaN : 1)) }, 'ssd varlen: initialStates: expected finite values (NaN and ±Inf are not valid inputs), got NaN at initialStates[0, 0, 0, 3] (flat index 3)'],
    ['x', { x: filled([2, T, H, P], () => 1) }, 'ssd varlen: dt: expected shape (batch=2, L=19, H=4), got [1, 19, 4]'],
    ['B', { B: filled([1, T, 3, N], () => 1) }, 'ssd varlen: B: expected shape (batch=1, L=19, G, N) with G ≥ 1 dividing H=4 and N ≥ 1, got [1, 19, 3, 5]'],
    ['inputs.seqIdx', { seqIdx: filled([1, T], () => 0) }, "ssd varlen: inputs.seqIdx: expected no seqIdx in the varlen form (cuSeqlens says where sequences start), got key 'seqIdx'"],
  ];
  for (const [field, change, message] of cases) {
    it(message, () => {
      // The x case changes x only: ssd's rules then name dt, the first tensor that disagrees.
      expect(rejects(() => validateVarlenProblem(withInputs(change)), field === 'x' ? 'dt' : field)).toBe(message);
    });
  }

  it('batch must be 1; cuSeqlens is required; options are ssd\'s', () => {
    const two = (t: Tensor): Tensor => ({ data: Float32Array.from([...t.data, ...t.data]), shape: [2, ...t.shape.slice(1)] });
    const { x, dt, B, C, z } = ok.inputs;
    expect(rejects(() => validateVarlenProblem(withInputs({ x: two(x), dt: two(dt), B: two(B), C: two(C), z: two(z!) })), 'x')).toBe(
      'ssd varlen: x: expected batch 1: shape (1, T, H, P), every sequence packed into one row, got [2, 19, 4, 3]',
    );
    const { cuSeqlens: _dropped, ...rest } = ok.inputs;
    expect(rejects(() => validateVarlenProblem({ ...ok, inputs: rest }), 'cuSeqlens')).toMatch(/^ssd varlen: cuSeqlens: expected a tensor .* \(required input\), got undefined \(missing\)$/);
    expect(rejects(() => validateVarlenProblem({ ...ok, options: {} }), 'options.dtSoftplus')).toMatch(/^ssd varlen: options\.dtSoftplus: expected a boolean/);
    expect(() => validateVarlenProblem({ ...ok, inputs: { ...ok.inputs, cuSeqlens: tensor([0], [1]), x: filled([1, 0, H, P], () => 1), dt: filled([1, 0, H], () => 1), B: filled([1, 0, G, N], () => 1), C: filled([1, 0, G, N], () => 1), z: filled([1, 0, H, P], () => 1), initialStates: filled([0, H, P, N], () => 1) } })).not.toThrow();
  });

  it('an answer needs y (1, T, H, P) and finalStates (nseq, H, P, N); every mismatch is listed', () => {
    const good = { y: { data: new Float64Array(T * H * P), shape: [1, T, H, P] }, finalStates: { data: new Float32Array(NSEQ * H * P * N), shape: [NSEQ, H, P, N] } };
    expect(() => validateVarlenOutputs(ok, good)).not.toThrow();
    let caught: unknown;
    try {
      validateVarlenOutputs(ok, { y: good.y, finalStates: { data: new Float32Array(H * P * N), shape: [1, H, P, N] }, extra: good.y });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SpecValidationError);
    expect((caught as SpecValidationError).failures.map((f) => f.field)).toEqual(['extra', 'finalStates.shape', 'finalStates']);
    expect((caught as SpecValidationError).context).toBe('ssd varlen outputs');
  });
});
