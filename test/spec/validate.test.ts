/**
 * Every error path of spec/validate.ts, each asserting the field, the expectation and what came,
 * and valid problems, steps and answers of every family and layout passing.
 */
import { describe, expect, it } from 'vitest';
import { SpecValidationError } from '../../spec/errors.ts';
import { DEFAULT_OPTIONS, FAMILY_NAMES, type AnyProblem, type Problem } from '../../spec/families.ts';
import { tensor, type Tensor } from '../../spec/tensor.ts';
import { validateOptions, validateOutputs, validateProblem, validateStepInputs, validateStepOutputs } from '../../spec/validate.ts';

/** A float32 tensor of the given shape, filled with 0.5 (finite, harmless). */
const z = (shape: readonly number[]): Tensor => tensor(new Float32Array(shape.reduce((p, s) => p * s, 1)).fill(0.5), shape);

/** What a validation failure must say. */
interface Said {
  readonly context?: string;
  readonly field: string;
  readonly expected: string | RegExp;
  readonly actual: string | RegExp;
}

/** Runs `fn`, expecting a SpecValidationError whose parts and message say `said`. */
function expectFailure(fn: () => unknown, said: Said): SpecValidationError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(SpecValidationError);
  const error = caught as SpecValidationError;
  expect(error.field).toBe(said.field);
  if (said.context !== undefined) expect(error.context).toBe(said.context);
  if (typeof said.expected === 'string') expect(error.expected).toBe(said.expected);
  else expect(error.expected).toMatch(said.expected);
  if (typeof said.actual === 'string') expect(error.actual).toBe(said.actual);
  else expect(error.actual).toMatch(said.actual);
  // The message carries all three, in the suite's one format.
  expect(error.message).toBe(`${error.context === '' ? '' : `${error.context}: `}${error.field}: expected ${error.expected}, got ${error.actual}`);
  return error;
}

// ------------------------------------------------------------------ valid problems

const batch = 2;
const dim = 4;
const L = 8;
const N = 3;
const seq = () => z([batch, dim, L]);

function selective(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { family: 'selective-scan', inputs: { u: seq(), delta: seq(), A: z([dim, N]), B: z([dim, N]), C: z([dim, N]), ...extra }, options: { deltaSoftplus: true } };
}

const validProblems: Record<string, AnyProblem> = {
  'prefix-sum': { family: 'prefix-sum', inputs: { x: seq() }, options: { exclusive: true, reverse: false } },
  'linear-recurrence': { family: 'linear-recurrence', inputs: { a: seq(), b: seq() }, options: { reverse: true } },
  'linear-recurrence with h0': { family: 'linear-recurrence', inputs: { a: seq(), b: seq(), h0: z([batch, dim]) }, options: { reverse: false } },
  'selective-scan time-invariant': selective() as unknown as AnyProblem,
  'selective-scan time-varying': selective({ B: z([batch, N, L]), C: z([batch, N, L]) }) as unknown as AnyProblem,
  'selective-scan grouped G = 2 and G = dim': selective({ B: z([batch, 2, N, L]), C: z([batch, dim, N, L]) }) as unknown as AnyProblem,
  'selective-scan grouped G = 1, time-invariant C': selective({ B: z([batch, 1, N, L]) }) as unknown as AnyProblem,
  'selective-scan every optional input': selective({ D: z([dim]), z: seq(), deltaBias: z([dim]), h0: z([batch, dim, N]) }) as unknown as AnyProblem,
  'selective-scan packed (seqIdx)': selective({ seqIdx: tensor(Float32Array.from({ length: batch * L }, (_, i) => (i % L < 3 ? 0 : i % L < 4 ? 2 : 7)), [batch, L]) }) as unknown as AnyProblem,
  'lti-ssm': { family: 'lti-ssm', inputs: { Abar: z([dim, N]), Bbar: z([dim, N]), C: z([dim, N]), D: z([dim]), u: seq() }, options: {} },
  'L = 0': { family: 'linear-recurrence', inputs: { a: z([batch, dim, 0]), b: z([batch, dim, 0]), h0: z([batch, dim]) }, options: { reverse: false } },
  'batch = 0': { family: 'prefix-sum', inputs: { x: z([0, dim, L]) }, options: { exclusive: false, reverse: false } },
  'dim = 0': selective({ u: z([batch, 0, L]), delta: z([batch, 0, L]), A: z([0, N]), B: z([batch, 2, N, L]), C: z([0, N]) }) as unknown as AnyProblem,
};

describe('validateProblem accepts', () => {
  it.each(Object.entries(validProblems))('%s', (_, problem) => {
    const checked = validateProblem(problem);
    expect(checked.family).toBe(problem.family);
    expect(checked.options).toEqual(problem.options);
    // The same tensors come back (no copies), and absent optional inputs stay absent.
    for (const [name, value] of Object.entries(problem.inputs)) expect((checked.inputs as unknown as Record<string, unknown>)[name]).toBe(value);
  });

  it('an optional input given as undefined, dropping it', () => {
    const checked = validateProblem({ family: 'linear-recurrence', inputs: { a: seq(), b: seq(), h0: undefined }, options: { reverse: false } });
    expect('h0' in checked.inputs).toBe(false);
  });
});

// ------------------------------------------------------------------ problem errors

describe('validateProblem rejects', () => {
  it('a non-object problem', () => {
    expectFailure(() => validateProblem(42), { context: '', field: 'problem', expected: 'an object { family, inputs, options }', actual: 'number 42' });
  });

  it('an unknown family', () => {
    expectFailure(() => validateProblem({ family: 'cumsum', inputs: {}, options: {} }), {
      context: '',
      field: 'family',
      expected: "one of 'prefix-sum', 'linear-recurrence', 'selective-scan', 'lti-ssm', 'ssd', 'mamba3-siso'",
      actual: '"cumsum"',
    });
  });

  it('missing inputs', () => {
    expectFailure(() => validateProblem({ family: 'prefix-sum', options: DEFAULT_OPTIONS['prefix-sum'] }), {
      context: 'prefix-sum',
      field: 'inputs',
      expected: 'an object with tensors x',
      actual: 'undefined',
    });
  });

  it('a missing required input', () => {
    expectFailure(() => validateProblem({ family: 'linear-recurrence', inputs: { a: seq() }, options: { reverse: false } }), {
      context: 'linear-recurrence',
      field: 'b',
      expected: 'a tensor { data: Float32Array, shape: number[] } (required input)',
      actual: 'undefined (missing)',
    });
  });

  it('an unknown input', () => {
    expectFailure(() => validateProblem({ family: 'linear-recurrence', inputs: { a: seq(), b: seq(), H0: z([batch, dim]) }, options: { reverse: false } }), {
      field: 'inputs.H0',
      expected: 'no such input (linear-recurrence inputs: a, b, h0)',
      actual: "key 'H0'",
    });
  });

  it('a tensor that is not an object', () => {
    expectFailure(() => validateProblem({ family: 'prefix-sum', inputs: { x: [1, 2, 3] }, options: { exclusive: false, reverse: false } }), {
      field: 'x',
      expected: 'a tensor { data: Float32Array, shape: number[] }',
      actual: 'an array of length 3',
    });
  });

  it.each([
    { data: new Float64Array(4), came: 'Float64Array' },
    { data: [0, 0, 0, 0], came: 'a plain Array' },
    { data: new Int32Array(4), came: 'Int32Array' },
    { data: undefined, came: 'undefined' },
  ])('data of the wrong dtype ($came)', ({ data, came }) => {
    expectFailure(() => validateProblem({ family: 'prefix-sum', inputs: { x: { data, shape: [1, 1, 4] } }, options: { exclusive: false, reverse: false } }), {
      context: 'prefix-sum',
      field: 'x.data',
      expected: 'dtype float32 (a Float32Array)',
      actual: came,
    });
  });

  it('a shape that is not an array', () => {
    expectFailure(() => validateProblem({ family: 'prefix-sum', inputs: { x: { data: new Float32Array(4), shape: '1x1x4' } }, options: { exclusive: false, reverse: false } }), {
      field: 'x.shape',
      expected: 'an array of non-negative integers',
      actual: '"1x1x4"',
    });
  });

  it.each([
    { size: -1, came: 'number -1' },
    { size: 1.5, came: 'number 1.5' },
    { size: '4', came: '"4"' },
  ])('a dimension that is not a non-negative integer ($came)', ({ size, came }) => {
    expectFailure(() => validateProblem({ family: 'prefix-sum', inputs: { x: { data: new Float32Array(4), shape: [1, size, 4] } }, options: { exclusive: false, reverse: false } }), {
      field: 'x.shape[1]',
      expected: 'a non-negative integer',
      actual: came,
    });
  });

  it('data whose length is not the product of the shape', () => {
    expectFailure(() => validateProblem({ family: 'prefix-sum', inputs: { x: { data: new Float32Array(23), shape: [2, 3, 4] } }, options: { exclusive: false, reverse: false } }), {
      field: 'x',
      expected: 'data length 24 (the product of shape [2, 3, 4])',
      actual: '23 elements',
    });
  });

  it('a sequence of the wrong rank', () => {
    expectFailure(() => validateProblem({ family: 'prefix-sum', inputs: { x: z([4, 8]) }, options: { exclusive: false, reverse: false } }), {
      field: 'x',
      expected: 'rank 3 (batch, dim, L)',
      actual: '[4, 8]',
    });
  });

  it('a length mismatch between a and b', () => {
    expectFailure(() => validateProblem({ family: 'linear-recurrence', inputs: { a: seq(), b: z([batch, dim, L - 1]) }, options: { reverse: false } }), {
      field: 'b',
      expected: 'shape (batch=2, dim=4, L=8)',
      actual: '[2, 4, 7]',
    });
  });

  it('a batch mismatch between u and delta', () => {
    expectFailure(() => validateProblem(selective({ delta: z([1, dim, L]) })), { field: 'delta', expected: 'shape (batch=2, dim=4, L=8)', actual: '[1, 4, 8]' });
  });

  it('h0 of the wrong shape (linear-recurrence and selective-scan)', () => {
    expectFailure(() => validateProblem({ family: 'linear-recurrence', inputs: { a: seq(), b: seq(), h0: z([batch, dim, 1]) }, options: { reverse: false } }), {
      field: 'h0',
      expected: 'shape (batch=2, dim=4)',
      actual: '[2, 4, 1]',
    });
    expectFailure(() => validateProblem(selective({ h0: z([batch, dim]) })), { field: 'h0', expected: 'shape (batch=2, dim=4, N=3)', actual: '[2, 4]' });
  });

  describe('selective-scan seqIdx (batch, L): sequence ids, checked as ssd checks them', () => {
    const ids = (values: (i: number) => number, shape: readonly number[] = [batch, L]): Tensor =>
      tensor(Float32Array.from({ length: shape.reduce((p, s) => p * s, 1) }, (_, i) => values(i)), shape);
    it.each([
      { what: 'of rank 3', seqIdx: ids(() => 0, [batch, 1, L]), expected: 'shape (batch=2, L=8)', actual: '[2, 1, 8]' },
      { what: 'of the wrong length', seqIdx: ids(() => 0, [batch, L + 1]), expected: 'shape (batch=2, L=8)', actual: '[2, 9]' },
      { what: 'of the wrong batch', seqIdx: ids(() => 0, [1, L]), expected: 'shape (batch=2, L=8)', actual: '[1, 8]' },
    ])('a seqIdx $what', ({ seqIdx, expected, actual }) => {
      expectFailure(() => validateProblem(selective({ seqIdx })), { context: 'selective-scan', field: 'seqIdx', expected, actual });
    });
    it('names the first id that is not an integer ≥ 0, or that decreases', () => {
      const integers = 'sequence ids: integers 0 … 2^24 (exact in float32)';
      expectFailure(() => validateProblem(selective({ seqIdx: ids((i) => (i === 11 ? 1.5 : 0)) })), { field: 'seqIdx', expected: integers, actual: '1.5 at seqIdx[1, 3] (flat index 11)' });
      expectFailure(() => validateProblem(selective({ seqIdx: ids((i) => (i === 2 ? -1 : 0)) })), { field: 'seqIdx', expected: integers, actual: '-1 at seqIdx[0, 2] (flat index 2)' });
      expectFailure(() => validateProblem(selective({ seqIdx: ids((i) => (i === 12 ? Number.NaN : 0)) })), {
        field: 'seqIdx',
        expected: 'finite values (NaN and ±Inf are not valid inputs)',
        actual: 'NaN at seqIdx[1, 4] (flat index 12)',
      });
      expectFailure(() => validateProblem(selective({ seqIdx: ids((i) => (i % L === 5 ? 1 : i % L === 6 ? 0 : i % L > 6 ? 2 : 0)) })), {
        field: 'seqIdx',
        expected: 'sequence ids non-decreasing along L in every row',
        actual: '0 at seqIdx[0, 6] after 1 at seqIdx[0, 5]',
      });
    });
  });

  it('A whose first axis is not dim, or with N = 0', () => {
    expectFailure(() => validateProblem(selective({ A: z([dim + 1, N]) })), { field: 'A', expected: 'shape (dim=4, N) with N ≥ 1', actual: '[5, 3]' });
    expectFailure(() => validateProblem(selective({ A: z([dim, 0]) })), { field: 'A', expected: 'shape (dim=4, N) with N ≥ 1', actual: '[4, 0]' });
  });

  it('the brief example: B of shape [3, 2] against dim 4, N 2, L 8', () => {
    const error = expectFailure(
      () =>
        validateProblem({
          family: 'selective-scan',
          inputs: { u: z([1, 4, 8]), delta: z([1, 4, 8]), A: z([4, 2]), B: z([3, 2]), C: z([4, 2]) },
          options: { deltaSoftplus: false },
        }),
      { field: 'B', expected: /^shape /, actual: '[3, 2]' },
    );
    expect(error.message).toBe(
      'selective-scan: B: expected shape (dim=4, N=2), (batch=1, N=2, L=8) or (batch=1, G, N=2, L=8) with G dividing dim=4, got [3, 2]',
    );
  });

  const projectionExpected = 'shape (dim=4, N=3), (batch=2, N=3, L=8) or (batch=2, G, N=3, L=8) with G dividing dim=4';
  it.each([
    { what: 'N of B differs from A (time-invariant)', inputs: { B: z([dim, N + 1]) }, field: 'B', actual: '[4, 4]' },
    { what: 'N of C differs from A (time-varying)', inputs: { C: z([batch, N - 1, L]) }, field: 'C', actual: '[2, 2, 8]' },
    { what: 'G = 3 does not divide dim = 4', inputs: { B: z([batch, 3, N, L]) }, field: 'B', actual: '[2, 3, 3, 8]' },
    { what: 'G = 0', inputs: { C: z([batch, 0, N, L]) }, field: 'C', actual: '[2, 0, 3, 8]' },
    { what: 'grouped C with the wrong length', inputs: { C: z([batch, 2, N, L + 1]) }, field: 'C', actual: '[2, 2, 3, 9]' },
    { what: 'time-varying B with the wrong batch', inputs: { B: z([batch + 1, N, L]) }, field: 'B', actual: '[3, 3, 8]' },
    { what: 'B of rank 5', inputs: { B: z([1, batch, 2, N, L]) }, field: 'B', actual: '[1, 2, 2, 3, 8]' },
  ])('selective-scan projection: $what', ({ inputs, field, actual }) => {
    expectFailure(() => validateProblem(selective(inputs)), { context: 'selective-scan', field, expected: projectionExpected, actual });
  });

  it('D and deltaBias not of shape (dim), z not a sequence', () => {
    expectFailure(() => validateProblem(selective({ D: z([dim, 1]) })), { field: 'D', expected: 'shape (dim=4)', actual: '[4, 1]' });
    expectFailure(() => validateProblem(selective({ deltaBias: z([dim + 1]) })), { field: 'deltaBias', expected: 'shape (dim=4)', actual: '[5]' });
    expectFailure(() => validateProblem(selective({ z: z([batch, dim, L, 1]) })), { field: 'z', expected: 'shape (batch=2, dim=4, L=8)', actual: '[2, 4, 8, 1]' });
  });

  it('lti-ssm parameters whose N disagree', () => {
    expectFailure(
      () => validateProblem({ family: 'lti-ssm', inputs: { Abar: z([dim, N]), Bbar: z([dim, N]), C: z([dim, N + 2]), u: seq() }, options: {} }),
      { context: 'lti-ssm', field: 'C', expected: 'shape (dim=4, N=3)', actual: '[4, 5]' },
    );
  });

  it.each([
    { value: Number.NaN, shown: 'NaN' },
    { value: Number.POSITIVE_INFINITY, shown: 'Infinity' },
    { value: Number.NEGATIVE_INFINITY, shown: '-Infinity' },
  ])('a non-finite input ($shown) with its coordinates and flat index', ({ value, shown }) => {
    const a = z([1, 2, 8]);
    a.data[13] = value;
    expectFailure(() => validateProblem({ family: 'linear-recurrence', inputs: { a, b: z([1, 2, 8]) }, options: { reverse: false } }), {
      context: 'linear-recurrence',
      field: 'a',
      expected: 'finite values (NaN and ±Inf are not valid inputs)',
      actual: `${shown} at a[0, 1, 5] (flat index 13)`,
    });
  });

  it('a non-finite value in a parameter tensor (A)', () => {
    const A = z([dim, N]);
    A.data[7] = Number.NaN;
    expectFailure(() => validateProblem(selective({ A })), { field: 'A', expected: /^finite values/, actual: 'NaN at A[2, 1] (flat index 7)' });
  });
});

// ------------------------------------------------------------------ options

describe('options', () => {
  it('missing options', () => {
    expectFailure(() => validateProblem({ family: 'prefix-sum', inputs: { x: seq() } }), {
      context: 'prefix-sum',
      field: 'options',
      expected: 'an object with boolean keys exclusive, reverse',
      actual: 'undefined',
    });
  });

  it('a missing key', () => {
    expectFailure(() => validateProblem({ family: 'prefix-sum', inputs: { x: seq() }, options: { exclusive: true } }), {
      field: 'options.reverse',
      expected: 'a boolean',
      actual: 'no such key (options must set every key)',
    });
  });

  it('an unknown key, named', () => {
    expectFailure(() => validateProblem({ family: 'linear-recurrence', inputs: { a: seq(), b: seq() }, options: { reverse: false, exclusive: true } }), {
      field: 'options.exclusive',
      expected: 'no such option (linear-recurrence options: boolean keys reverse)',
      actual: "key 'exclusive'",
    });
    expectFailure(() => validateProblem({ ...validProblems['lti-ssm'], options: { reverse: false } }), {
      field: 'options.reverse',
      expected: 'no such option (lti-ssm options: no keys)',
      actual: "key 'reverse'",
    });
  });

  it('a non-boolean value', () => {
    expectFailure(() => validateProblem({ ...selective(), options: { deltaSoftplus: 1 } }), {
      field: 'options.deltaSoftplus',
      expected: 'a boolean',
      actual: 'number 1',
    });
  });

  it('validateOptions accepts the defaults of every family', () => {
    for (const family of FAMILY_NAMES) expect(validateOptions(family, DEFAULT_OPTIONS[family])).toEqual(DEFAULT_OPTIONS[family]);
  });
});

// ------------------------------------------------------------------ outputs

describe('validateOutputs', () => {
  const problem = validProblems['selective-scan time-invariant'] as Problem<'selective-scan'>;
  const good = () => ({
    y: { data: new Float32Array(batch * dim * L), shape: [batch, dim, L] },
    lastState: { data: new Float64Array(batch * dim * N), shape: [batch, dim, N] },
  });

  it('accepts Float32Array and Float64Array answers of the right shapes, NaN included', () => {
    const outputs = good();
    outputs.y.data[0] = Number.NaN;
    const checked = validateOutputs(problem, outputs);
    expect(checked.y.data).toBe(outputs.y.data);
    expect(checked.lastState.shape).toEqual([batch, dim, N]);
    for (const [name, p] of Object.entries(validProblems)) {
      if (name !== 'selective-scan time-invariant') expect(() => validateOutputs(p, answerOf(p))).not.toThrow();
    }
  });

  it('rejects a non-object answer', () => {
    expectFailure(() => validateOutputs(problem, undefined), { context: 'selective-scan outputs', field: 'outputs', expected: 'an object with tensors y, lastState', actual: 'undefined' });
  });

  it('rejects a missing output', () => {
    const { y } = good();
    expectFailure(() => validateOutputs(problem, { y }), { field: 'lastState', expected: 'a tensor of shape [2, 4, 3]', actual: 'undefined (missing)' });
  });

  it('rejects an unknown output', () => {
    expectFailure(() => validateOutputs(problem, { ...good(), last_state: good().lastState }), {
      field: 'last_state',
      expected: 'no such output (outputs: y, lastState)',
      actual: "key 'last_state'",
    });
  });

  it('rejects a wrong shape', () => {
    expectFailure(() => validateOutputs(problem, { ...good(), y: { data: new Float32Array(batch * dim * L), shape: [batch, dim * L] } }), {
      context: 'selective-scan outputs',
      field: 'y.shape',
      expected: '[2, 4, 8]',
      actual: '[2, 32]',
    });
  });

  it('rejects a wrong dtype', () => {
    expectFailure(() => validateOutputs(problem, { ...good(), y: { data: Array(batch * dim * L).fill(0), shape: [batch, dim, L] } }), {
      field: 'y.data',
      expected: 'a Float32Array or Float64Array',
      actual: 'a plain Array',
    });
    expectFailure(() => validateOutputs(problem, { ...good(), y: { data: new Int16Array(batch * dim * L), shape: [batch, dim, L] } }), {
      field: 'y.data',
      expected: 'a Float32Array or Float64Array',
      actual: 'Int16Array',
    });
  });

  it('rejects data shorter than its shape', () => {
    expectFailure(() => validateOutputs(problem, { ...good(), lastState: { data: new Float64Array(5), shape: [batch, dim, N] } }), {
      field: 'lastState',
      expected: 'data length 24 (shape [2, 4, 3])',
      actual: '5 elements',
    });
  });
});

/** A zero answer of the right shapes for a problem (valid by construction). */
function answerOf(problem: AnyProblem): Record<string, { data: Float64Array; shape: number[] }> {
  const [b, d, l] = (problem.inputs as unknown as Record<string, Tensor>)[problem.family === 'prefix-sum' ? 'x' : problem.family === 'linear-recurrence' ? 'a' : 'u'].shape;
  const make = (shape: number[]) => ({ data: new Float64Array(shape.reduce((p, s) => p * s, 1)), shape });
  switch (problem.family) {
    case 'prefix-sum':
    case 'lti-ssm':
      return { y: make([b, d, l]) };
    case 'linear-recurrence':
      return { h: make([b, d, l]), lastState: make([b, d]) };
    case 'selective-scan':
      return { y: make([b, d, l]), lastState: make([b, d, problem.inputs.A.shape[1]]) };
    case 'ssd': {
      const [batchSize, length, heads, headdim] = problem.inputs.x.shape;
      return { y: make([batchSize, length, heads, headdim]), finalStates: make([batchSize, heads, headdim, problem.inputs.B.shape[3]]) };
    }
    case 'mamba3-siso':
      throw new Error('answerOf: mamba3-siso problems are not in this file (test/reference/mamba3-siso.test.ts)');
  }
}

// ------------------------------------------------------------------ steps

describe('validateStepInputs', () => {
  const token = () => z([batch, dim]);
  const scanStep = (extra: Record<string, unknown> = {}) => ({
    u: token(),
    delta: token(),
    A: z([dim, N]),
    B: z([dim, N]),
    C: z([dim, N]),
    state: z([batch, dim, N]),
    ...extra,
  });

  it.each([
    { family: 'prefix-sum' as const, inputs: { x: token(), state: token() }, options: { exclusive: false, reverse: true } },
    { family: 'linear-recurrence' as const, inputs: { a: token(), b: token(), state: token() }, options: { reverse: false } },
    { family: 'selective-scan' as const, inputs: scanStep(), options: { deltaSoftplus: false } },
    { family: 'selective-scan' as const, inputs: scanStep({ B: z([batch, N, 1]), C: z([batch, 2, N, 1]), D: z([dim]), z: token(), deltaBias: z([dim]) }), options: { deltaSoftplus: true } },
    { family: 'lti-ssm' as const, inputs: { Abar: z([dim, N]), Bbar: z([dim, N]), C: z([dim, N]), u: token(), state: z([batch, dim, N]) }, options: {} },
  ])('accepts a valid $family step', ({ family, inputs, options }) => {
    expect(validateStepInputs(family, inputs, options)).toEqual(inputs);
  });

  it('rejects a missing state', () => {
    expectFailure(() => validateStepInputs('linear-recurrence', { a: token(), b: token() }, { reverse: false }), {
      context: 'linear-recurrence step',
      field: 'state',
      expected: 'a tensor { data: Float32Array, shape: number[] } (required input)',
      actual: 'undefined (missing)',
    });
  });

  it('rejects a token of the wrong rank and a state of the wrong shape', () => {
    expectFailure(() => validateStepInputs('prefix-sum', { x: seq(), state: token() }, { exclusive: false, reverse: false }), {
      field: 'x',
      expected: 'rank 2 (batch, dim)',
      actual: '[2, 4, 8]',
    });
    expectFailure(() => validateStepInputs('selective-scan', scanStep({ state: z([batch, dim]) }), { deltaSoftplus: false }), {
      context: 'selective-scan step',
      field: 'state',
      expected: 'shape (batch=2, dim=4, N=3)',
      actual: '[2, 4]',
    });
  });

  it('rejects a seqIdx in a step (resetting between sequences is the caller\'s)', () => {
    expectFailure(() => validateStepInputs('selective-scan', scanStep({ seqIdx: tensor(new Float32Array(batch), [batch, 1]) }), { deltaSoftplus: false }), {
      field: 'inputs.seqIdx',
      expected: 'no such input (selective-scan step inputs: u, delta, A, B, C, D, z, deltaBias, state)',
      actual: "key 'seqIdx'",
    });
  });

  it('rejects an h0 in a step (the state is the state) and a B in mamba step layout (batch, N)', () => {
    expectFailure(() => validateStepInputs('selective-scan', scanStep({ h0: z([batch, dim, N]) }), { deltaSoftplus: false }), {
      field: 'inputs.h0',
      expected: 'no such input (selective-scan step inputs: u, delta, A, B, C, D, z, deltaBias, state)',
      actual: "key 'h0'",
    });
    expectFailure(() => validateStepInputs('selective-scan', scanStep({ B: z([batch, N]) }), { deltaSoftplus: false }), {
      field: 'B',
      expected: 'shape (dim=4, N=3), (batch=2, N=3, L=1) or (batch=2, G, N=3, L=1) with G dividing dim=4',
      actual: '[2, 3]',
    });
  });

  it('rejects non-finite step values and bad step options', () => {
    const u = token();
    u.data[5] = Number.POSITIVE_INFINITY;
    expectFailure(() => validateStepInputs('selective-scan', scanStep({ u }), { deltaSoftplus: false }), {
      field: 'u',
      expected: /^finite values/,
      actual: 'Infinity at u[1, 1] (flat index 5)',
    });
    expectFailure(() => validateStepInputs('selective-scan', scanStep(), { deltaSoftplus: 'yes' }), {
      context: 'selective-scan step',
      field: 'options.deltaSoftplus',
      expected: 'a boolean',
      actual: '"yes"',
    });
  });

  it('rejects an unknown family', () => {
    expectFailure(() => validateStepInputs('scan' as 'prefix-sum', {}, {}), { context: 'step', field: 'family', expected: /^one of 'prefix-sum'/, actual: '"scan"' });
  });
});

describe('validateStepOutputs', () => {
  const inputs = { Abar: z([dim, N]), Bbar: z([dim, N]), C: z([dim, N]), u: z([batch, dim]), state: z([batch, dim, N]) };

  it('accepts { y (batch, dim), state (batch, dim, N) } and { y, state (batch, dim) } for scalar states', () => {
    expect(() =>
      validateStepOutputs('lti-ssm', inputs, { y: { data: new Float32Array(8), shape: [2, 4] }, state: { data: new Float64Array(24), shape: [2, 4, 3] } }),
    ).not.toThrow();
    expect(() =>
      validateStepOutputs('prefix-sum', { x: z([1, 3]), state: z([1, 3]) }, { y: { data: new Float32Array(3), shape: [1, 3] }, state: { data: new Float32Array(3), shape: [1, 3] } }),
    ).not.toThrow();
  });

  it('rejects a missing state and a wrong y shape', () => {
    expectFailure(() => validateStepOutputs('lti-ssm', inputs, { y: { data: new Float32Array(8), shape: [2, 4] } }), {
      context: 'lti-ssm step outputs',
      field: 'state',
      expected: 'a tensor of shape [2, 4, 3]',
      actual: 'undefined (missing)',
    });
    expectFailure(
      () => validateStepOutputs('lti-ssm', inputs, { y: { data: new Float32Array(8), shape: [2, 4, 1] }, state: { data: new Float32Array(24), shape: [2, 4, 3] } }),
      { field: 'y.shape', expected: '[2, 4]', actual: '[2, 4, 1]' },
    );
  });
});
