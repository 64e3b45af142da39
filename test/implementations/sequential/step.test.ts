/**
 * The one-token step of sequential-f64 and sequential-f32: hand-checked single steps, and the
 * step applied L times from the run's initial state giving exactly the run's outputs (same
 * arithmetic in the same order, so bit for bit), for every family, optional input and B/C layout.
 */
import { describe, expect, it } from 'vitest';
import type { FamilyName, InputsOf, OptionsOf, Problem, SelectiveScanInputs, StepInputsOf } from '../../../spec/families.ts';
import type { ScanImplementation } from '../../../spec/implementation.ts';
import type { Tensor } from '../../../spec/tensor.ts';
import { expectValues, implementations, run, sampled, step, t, tokenOf, uniform, values } from './helpers.ts';

/** Runs `problem` token by token through step and returns the stacked y (batch, dim, L) and the final state. */
async function stepThrough<F extends FamilyName>(
  implementation: ScanImplementation,
  problem: Problem<F>,
  tokenInputs: (t: number, state: Tensor) => StepInputsOf<F>,
  initialState: Tensor,
): Promise<{ y: number[]; state: number[] }> {
  const [batch, dim, L] = sequenceShape(problem.inputs);
  const y = new Array<number>(batch * dim * L).fill(Number.NaN);
  let state = initialState;
  for (let time = 0; time < L; time++) {
    const out = await step(implementation, problem.family, tokenInputs(time, state), problem.options as OptionsOf<F>);
    const token = values(out.y);
    for (let row = 0; row < batch * dim; row++) y[row * L + time] = token[row];
    // The next step reads the state as a float32 input, which is exact for the float32 loop only.
    state = { data: Float32Array.from(out.state.data), shape: out.state.shape };
  }
  return { y, state: Array.from(state.data, (v) => v + 0) };
}

function sequenceShape(inputs: InputsOf<FamilyName>): number[] {
  const first = 'x' in inputs ? inputs.x : 'a' in inputs ? inputs.a : 'u' in inputs ? inputs.u : inputs.V;
  return [...first.shape];
}

const zeros = (shape: number[]): Tensor => ({ data: new Float32Array(shape.reduce((p, s) => p * s, 1)), shape });

describe.each(implementations)('$name step', (implementation) => {
  describe('by hand', () => {
    it('prefix-sum: state + x, whatever exclusive and reverse say', async () => {
      for (const options of [
        { exclusive: false, reverse: false },
        { exclusive: true, reverse: true },
      ]) {
        const out = await step(implementation, 'prefix-sum', { x: t([2, -0.5], [1, 2]), state: t([1, 4], [1, 2]) }, options);
        expectValues(out.y, [3, 3.5]);
        expectValues(out.state, [3, 3.5]);
        expect(out.y.shape).toEqual([1, 2]);
      }
    });

    it('linear-recurrence: a·state + b, whatever reverse says', async () => {
      for (const reverse of [false, true]) {
        const out = await step(implementation, 'linear-recurrence', { a: t([0.5, -2], [2, 1]), b: t([1, 0.25], [2, 1]), state: t([4, 1], [2, 1]) }, { reverse });
        expectValues(out.y, [3, -1.75]);
        expectValues(out.state, [3, -1.75]);
      }
    });

    it('selective-scan: softplus, bias, B as (batch, N, 1), D and the gate apply', async () => {
      // δ' = softplus(23.5 + 0.5) = 24; Ā = exp(24·0) = 1; h = [1, 2] + 24·u·B = [1 + 48, 2 + 96];
      // y = C·h = 49 + 0.5·98 = 98, + D·u = 98 + 2 = 100, · silu(64) = 6400.
      const out = await step(
        implementation,
        'selective-scan',
        {
          u: t([2], [1, 1]),
          delta: t([23.5], [1, 1]),
          A: t([0, 0], [1, 2]),
          B: t([1, 2], [1, 2, 1]),
          C: t([1, 0.5], [1, 2, 1]),
          D: t([1], [1]),
          z: t([64], [1, 1]),
          deltaBias: t([0.5], [1]),
          state: t([1, 2], [1, 1, 2]),
        },
        { deltaSoftplus: true },
      );
      expectValues(out.y, [6400]);
      expectValues(out.state, [49, 98]);
      expect(out.state.shape).toEqual([1, 1, 2]);
    });

    it('lti-ssm: Abar·state + Bbar·u, then C and D', async () => {
      // h = [0.5·2 + 1·4, −1·1 + 2·4] = [5, 7]; y = 5 + 0.25·7 + 2·4 = 14.75.
      const out = await step(
        implementation,
        'lti-ssm',
        { Abar: t([0.5, -1], [1, 2]), Bbar: t([1, 2], [1, 2]), C: t([1, 0.25], [1, 2]), D: t([2], [1]), u: t([4], [1, 1]), state: t([2, 1], [1, 1, 2]) },
        {},
      );
      expectValues(out.y, [14.75]);
      expectValues(out.state, [5, 7]);
    });
  });
});

// The float32 loop's state is exactly a float32 input, so stepping must reproduce the run bit for bit.
describe('sequential-f32 step applied L times equals run (bit for bit)', () => {
  const implementation = byPrecision('float32');
  const L = 5;
  const [batch, dim, N] = [2, 4, 3];
  const next = uniform(12345, -1, 1);
  const seq = () => sampled([batch, dim, L], next);

  it('prefix-sum', async () => {
    const x = seq();
    const problem: Problem<'prefix-sum'> = { family: 'prefix-sum', inputs: { x }, options: { exclusive: false, reverse: false } };
    const ran = await run(implementation, problem);
    const stepped = await stepThrough(implementation, problem, (time, state) => ({ x: tokenOf(x, time, false), state }), zeros([batch, dim]));
    expect(stepped.y).toEqual(values(ran.y));
  });

  it.each([{ withH0: false }, { withH0: true }])('linear-recurrence, h0 given: $withH0', async ({ withH0 }) => {
    const a = seq();
    const b = seq();
    const h0 = sampled([batch, dim], next);
    const problem: Problem<'linear-recurrence'> = { family: 'linear-recurrence', inputs: withH0 ? { a, b, h0 } : { a, b }, options: { reverse: false } };
    const ran = await run(implementation, problem);
    const stepped = await stepThrough(
      implementation,
      problem,
      (time, state) => ({ a: tokenOf(a, time, false), b: tokenOf(b, time, false), state }),
      withH0 ? h0 : zeros([batch, dim]),
    );
    expect(stepped.y).toEqual(values(ran.h));
    expect(stepped.state).toEqual(values(ran.lastState));
  });

  const layouts = {
    'time-invariant': [dim, N],
    'time-varying': [batch, N, L],
    'grouped G = 2': [batch, 2, N, L],
    'grouped G = dim': [batch, dim, N, L],
    'grouped G = 1': [batch, 1, N, L],
  } as const;
  const cases = Object.keys(layouts).flatMap((bLayout) =>
    [false, true].map((full) => ({ bLayout: bLayout as keyof typeof layouts, cLayout: (full ? 'grouped G = 2' : bLayout) as keyof typeof layouts, full })),
  );
  it.each(cases)('selective-scan, B $bLayout, C $cLayout, all optional inputs and softplus: $full', async ({ bLayout, cLayout, full }) => {
    const positive = uniform(777, 0.01, 0.5);
    const inputs: SelectiveScanInputs = {
      u: seq(),
      delta: sampled([batch, dim, L], positive),
      A: sampled([dim, N], uniform(9, -2, -0.1)),
      B: sampled(layouts[bLayout], next),
      C: sampled(layouts[cLayout], next),
      ...(full
        ? { D: sampled([dim], next), z: seq(), deltaBias: sampled([dim], next), h0: sampled([batch, dim, N], next) }
        : {}),
    };
    const problem: Problem<'selective-scan'> = { family: 'selective-scan', inputs, options: { deltaSoftplus: full } };
    const ran = await run(implementation, problem);
    const timeAxis = (x: Tensor) => x.shape.length > 2;
    const stepped = await stepThrough(
      implementation,
      problem,
      (time, state) => ({
        u: tokenOf(inputs.u, time, false),
        delta: tokenOf(inputs.delta, time, false),
        A: inputs.A,
        B: timeAxis(inputs.B) ? tokenOf(inputs.B, time, true) : inputs.B,
        C: timeAxis(inputs.C) ? tokenOf(inputs.C, time, true) : inputs.C,
        ...(inputs.D ? { D: inputs.D } : {}),
        ...(inputs.z ? { z: tokenOf(inputs.z, time, false) } : {}),
        ...(inputs.deltaBias ? { deltaBias: inputs.deltaBias } : {}),
        state,
      }),
      inputs.h0 ?? zeros([batch, dim, N]),
    );
    expect(stepped.y).toEqual(values(ran.y));
    expect(stepped.state).toEqual(values(ran.lastState));
  });

  it.each([{ withD: false }, { withD: true }])('lti-ssm, D given: $withD', async ({ withD }) => {
    const params = { Abar: sampled([dim, N], uniform(5, -0.9, 0.9)), Bbar: sampled([dim, N], next), C: sampled([dim, N], next) };
    const D = sampled([dim], next);
    const u = seq();
    const problem: Problem<'lti-ssm'> = { family: 'lti-ssm', inputs: { ...params, u, ...(withD ? { D } : {}) }, options: {} };
    const ran = await run(implementation, problem);
    const stepped = await stepThrough(
      implementation,
      problem,
      (time, state) => ({ ...params, ...(withD ? { D } : {}), u: tokenOf(u, time, false), state }),
      zeros([batch, dim, N]),
    );
    expect(stepped.y).toEqual(values(ran.y));
  });
});

// The float64 loop's state, fed back as a float32 input, is rounded; on dyadic data it is exact.
describe('sequential-f64 step applied L times equals run (dyadic data)', () => {
  const implementation = byPrecision('float64');
  it('prefix-sum and lti-ssm on exactly representable values', async () => {
    const x = t([1, 2, 4, -0.5, 0.25, 8], [1, 2, 3]);
    const sums: Problem<'prefix-sum'> = { family: 'prefix-sum', inputs: { x }, options: { exclusive: false, reverse: false } };
    const summed = await run(implementation, sums);
    const sumStepped = await stepThrough(implementation, sums, (time, state) => ({ x: tokenOf(x, time, false), state }), t([0, 0], [1, 2]));
    expect(sumStepped.y).toEqual(values(summed.y));

    const params = { Abar: t([0.5, -1], [1, 2]), Bbar: t([1, 2], [1, 2]), C: t([1, 0.25], [1, 2]), D: t([2], [1]) };
    const u = t([1, 2, 4, -1], [1, 1, 4]);
    const lti: Problem<'lti-ssm'> = { family: 'lti-ssm', inputs: { ...params, u }, options: {} };
    const ran = await run(implementation, lti);
    const stepped = await stepThrough(implementation, lti, (time, state) => ({ ...params, u: tokenOf(u, time, false), state }), t([0, 0], [1, 1, 2]));
    expect(stepped.y).toEqual(values(ran.y));
  });

  it('linear-recurrence and selective-scan on exactly representable values', async () => {
    const a = t([0.5, 2, -1, 0.25], [1, 1, 4]);
    const b = t([1, 0.25, 3, -8], [1, 1, 4]);
    const problem: Problem<'linear-recurrence'> = { family: 'linear-recurrence', inputs: { a, b, h0: t([4], [1, 1]) }, options: { reverse: false } };
    const ran = await run(implementation, problem);
    const stepped = await stepThrough(implementation, problem, (time, state) => ({ a: tokenOf(a, time, false), b: tokenOf(b, time, false), state }), t([4], [1, 1]));
    expect(stepped.y).toEqual(values(ran.h));
    expect(stepped.state).toEqual(values(ran.lastState));

    const inputs: SelectiveScanInputs = {
      u: t([1, 2, 4, -1], [1, 1, 4]),
      delta: t([0.5, 0.25, 1, 2], [1, 1, 4]),
      A: t([0, -800], [1, 2]),
      B: t([1, 2, 4, 8, 0.5, 0.25, 1, 2], [1, 2, 4]),
      C: t([1, 0.5], [1, 2]),
      D: t([2], [1]),
    };
    const scan: Problem<'selective-scan'> = { family: 'selective-scan', inputs, options: { deltaSoftplus: false } };
    const scanned = await run(implementation, scan);
    const scanStepped = await stepThrough(
      implementation,
      scan,
      (time, state) => ({
        u: tokenOf(inputs.u, time, false),
        delta: tokenOf(inputs.delta, time, false),
        A: inputs.A,
        B: tokenOf(inputs.B, time, true),
        C: inputs.C,
        D: inputs.D,
        state,
      }),
      t([0, 0], [1, 1, 2]),
    );
    expect(scanStepped.y).toEqual(values(scanned.y));
    expect(scanStepped.state).toEqual(values(scanned.lastState));
  });
});

function byPrecision(precision: 'float32' | 'float64'): ScanImplementation {
  const found = implementations.find((i) => i.precision === precision);
  if (found === undefined) throw new Error(`no sequential implementation in ${precision}`);
  return found;
}
