/**
 * The ssd loop of sequential-f64 and sequential-f32, against facts that need no reference: without
 * seqIdx it is the selective scan of the reduction (spec/families/ssd/ssd.md), same operations in
 * the same order, so bit for bit; a packed row equals its sequences run alone; dtLimit clamps Δ
 * after softplus; D of shape (H) is D of shape (H, P) constant over p; a step is a run of one token.
 */
import { describe, expect, it } from 'vitest';
import type { Problem, SelectiveScanInputs } from '../../../spec/families.ts';
import { effectiveDt } from '../../../spec/families/ssd/discretization.ts';
import type { OutputTensor, Tensor } from '../../../spec/tensor.ts';
import implementations from '../../../implementations/sequential/index.ts';
import { ssdProblem } from '../ssd-problem.ts';

type Implementation = (typeof implementations)[number];
const runSsd = (implementation: Implementation, problem: Problem<'ssd'>) => implementation.families.ssd!.run(problem);

/** Elements as plain numbers (−0 read as 0). */
const numbers = (values: ArrayLike<number>): number[] => Array.from(values, (v) => v + 0);

/** A (batch, L, rest…) array with time moved last: (batch, rest…, L). */
function timeLast(data: ArrayLike<number>, batch: number, L: number): Float64Array {
  const inner = data.length / (batch * L);
  const out = new Float64Array(data.length);
  for (let b = 0; b < batch; b++) for (let t = 0; t < L; t++) for (let k = 0; k < inner; k++) out[(b * inner + k) * L + t] = data[(b * L + t) * inner + k];
  return out;
}

/** The selective-scan problem ssd reduces to without seqIdx and dtLimit (spec/families/ssd/ssd.md). */
function reduction(problem: Problem<'ssd'>): Problem<'selective-scan'> {
  const { x, dt, A, B, C, D, z, dtBias, initialStates } = problem.inputs;
  const [batch, L, H, P] = x.shape;
  const [G, N] = [B.shape[2], B.shape[3]];
  const dim = H * P;
  const f32 = (data: ArrayLike<number>, shape: number[]): Tensor => ({ data: Float32Array.from(data), shape });
  const perChannel = (values: Float32Array): Tensor => f32(Array.from({ length: dim }, (_, d) => values[Math.floor(d / P)]), [dim]);
  const delta = new Float32Array(batch * dim * L);
  for (let b = 0; b < batch; b++) for (let d = 0; d < dim; d++) for (let t = 0; t < L; t++) delta[(b * dim + d) * L + t] = dt.data[(b * L + t) * H + Math.floor(d / P)];
  const inputs: SelectiveScanInputs = {
    u: f32(timeLast(x.data, batch, L), [batch, dim, L]),
    delta: { data: delta, shape: [batch, dim, L] },
    A: f32(Array.from({ length: dim * N }, (_, i) => A.data[Math.floor(i / N / P)]), [dim, N]),
    B: f32(timeLast(B.data, batch, L), [batch, G, N, L]),
    C: f32(timeLast(C.data, batch, L), [batch, G, N, L]),
    ...(D === undefined ? {} : { D: D.shape.length === 2 ? f32(D.data, [dim]) : perChannel(D.data) }),
    ...(z === undefined ? {} : { z: f32(timeLast(z.data, batch, L), [batch, dim, L]) }),
    ...(dtBias === undefined ? {} : { deltaBias: perChannel(dtBias.data) }),
    ...(initialStates === undefined ? {} : { h0: f32(initialStates.data, [batch, dim, N]) }),
  };
  return { family: 'selective-scan', inputs, options: { deltaSoftplus: problem.options.dtSoftplus } };
}

/** Positions [start, end) of axis 1 of a (1, L, …) tensor. */
function slice(tensor: Tensor, start: number, end: number): Tensor {
  const inner = tensor.data.length / tensor.shape[1];
  return { data: tensor.data.slice(start * inner, end * inner), shape: [1, end - start, ...tensor.shape.slice(2)] };
}

/** Positions [start, end) of axis 1 of a (1, L, …) output, as numbers. */
function sliceOutput(output: OutputTensor, start: number, end: number): number[] {
  const inner = output.data.length / output.shape[1];
  return numbers(output.data.slice(start * inner, end * inner));
}

describe.each(implementations)('$name ssd', (implementation) => {
  it('without seqIdx is the selective scan of the reduction, bit for bit (G = 1, 2, H; D both shapes; z; dtBias; initialStates)', async () => {
    const variants = [
      { groups: 1, D: 'head' as const, z: true, dtBias: true, initialStates: true },
      { groups: 2, D: 'channel' as const, dtSoftplus: false },
      { groups: 4, initialStates: true, z: true },
    ];
    for (const [k, variant] of variants.entries()) {
      const problem = ssdProblem({ batch: 2, length: 9, heads: 4, headdim: 5, stateSize: 5, seed: k + 1, ...variant });
      const ssd = await runSsd(implementation, problem);
      const scan = await implementation.families['selective-scan']!.run(reduction(problem));
      expect(numbers(timeLast(ssd.y.data, 2, 9)), `variant ${k}`).toEqual(numbers(scan.y.data));
      expect(numbers(ssd.finalStates.data), `variant ${k}`).toEqual(numbers(scan.lastState.data));
      expect(ssd.y.shape).toEqual([2, 9, 4, 5]);
      expect(ssd.finalStates.shape).toEqual([2, 4, 5, 5]);
    }
  });

  it('a packed row equals its sequences run alone, the first from initialStates, the others from zero (lengths 1, 3, 1, 4, 1)', async () => {
    const lengths = [1, 3, 1, 4, 1];
    const spec = { batch: 1, length: 10, heads: 2, headdim: 6, groups: 1, stateSize: 4, D: 'head' as const, z: true, initialStates: true };
    const packed = ssdProblem({ ...spec, sequences: [lengths] });
    const whole = await runSsd(implementation, packed);
    let start = 0;
    for (const [k, length] of lengths.entries()) {
      const { seqIdx, initialStates, x, dt, B, C, z, ...rest } = packed.inputs;
      void seqIdx;
      const end = start + length;
      const alone = await runSsd(implementation, {
        ...packed,
        inputs: { ...rest, x: slice(x, start, end), dt: slice(dt, start, end), B: slice(B, start, end), C: slice(C, start, end), z: slice(z!, start, end), ...(k === 0 ? { initialStates } : {}) },
      });
      expect(sliceOutput(whole.y, start, end), `sequence ${k}`).toEqual(numbers(alone.y.data));
      if (k === lengths.length - 1) expect(numbers(whole.finalStates.data)).toEqual(numbers(alone.finalStates.data));
      start = end;
    }
  });

  it('dtLimit clamps Δ after softplus: one token, H = P = N = 1', async () => {
    for (const [dt, lo, hi] of [
      [-3, 0.1, 0.2],
      [0.5, 0.1, 0.2],
      [-1, 0.1, 0.5],
      [30, Number.NEGATIVE_INFINITY, 25],
    ]) {
      const f32 = (v: number, shape: number[]): Tensor => ({ data: Float32Array.of(v), shape });
      const problem: Problem<'ssd'> = {
        family: 'ssd',
        inputs: { x: f32(3, [1, 1, 1, 1]), dt: f32(dt, [1, 1, 1]), A: f32(-1, [1]), B: f32(2, [1, 1, 1, 1]), C: f32(0.5, [1, 1, 1, 1]), dtLimit: { data: Float32Array.of(lo, hi), shape: [2] } },
        options: { dtSoftplus: true },
      };
      // y = C·(B·(Δ·x)) with Δ from the spec's float64 discretization; float32 rounds Δ and each product.
      // The limits are read from a float32 tensor.
      const delta = effectiveDt(Math.fround(dt), 0, true, Math.fround(lo), Math.fround(hi));
      const expected = implementation.precision === 'float64' ? 0.5 * (2 * (delta * 3)) : Math.fround(0.5 * Math.fround(2 * Math.fround(Math.fround(delta) * 3)));
      const out = await runSsd(implementation, problem);
      expect(Math.abs(out.y.data[0] - expected), `dt ${dt}, limit (${lo}, ${hi}): got ${out.y.data[0]}, expected ${expected}`).toBeLessThanOrEqual(Math.abs(expected) * (implementation.precision === 'float64' ? 1e-15 : 4e-7));
    }
  });

  it('D of shape (H) is D of shape (H, P) constant over p', async () => {
    const problem = ssdProblem({ batch: 1, length: 5, heads: 3, headdim: 2, groups: 3, stateSize: 2, D: 'head' });
    const D = problem.inputs.D!;
    const perChannel = { data: Float32Array.from({ length: 6 }, (_, i) => D.data[Math.floor(i / 2)]), shape: [3, 2] };
    const a = await runSsd(implementation, problem);
    const b = await runSsd(implementation, { ...problem, inputs: { ...problem.inputs, D: perChannel } });
    expect(numbers(a.y.data)).toEqual(numbers(b.y.data));
    const none = await runSsd(implementation, { ...problem, inputs: { ...problem.inputs, D: undefined } });
    expect(numbers(none.y.data)).not.toEqual(numbers(a.y.data));
  });

  it('a step is a run of one token from the step state, bit for bit', async () => {
    const problem = ssdProblem({ batch: 2, length: 1, heads: 4, headdim: 6, groups: 2, stateSize: 3, D: 'channel', z: true, dtBias: true, dtLimit: [0.05, 0.3], initialStates: true });
    const { x, dt, A, B, C, D, z, dtBias, dtLimit, initialStates } = problem.inputs;
    const drop = (tensor: Tensor): Tensor => ({ data: tensor.data, shape: [tensor.shape[0], ...tensor.shape.slice(2)] });
    const stepped = await implementation.families.ssd!.step!(
      { x: drop(x), dt: drop(dt), A, B: drop(B), C: drop(C), D, z: drop(z!), dtBias, dtLimit, state: initialStates! },
      problem.options,
    );
    const ran = await runSsd(implementation, problem);
    expect(stepped.y.shape).toEqual([2, 4, 6]);
    expect(stepped.state.shape).toEqual([2, 4, 6, 3]);
    expect(numbers(stepped.y.data)).toEqual(numbers(ran.y.data));
    expect(numbers(stepped.state.data)).toEqual(numbers(ran.finalStates.data));
  });

  it('L = 0: y is empty and finalStates is initialStates', async () => {
    const problem = ssdProblem({ batch: 1, length: 0, heads: 2, headdim: 2, groups: 1, stateSize: 2, initialStates: true });
    const out = await runSsd(implementation, problem);
    expect(out.y.shape).toEqual([1, 0, 2, 2]);
    expect(numbers(out.finalStates.data)).toEqual(numbers(problem.inputs.initialStates!.data));
  });
});
