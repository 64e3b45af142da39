/**
 * linear-recurrence's backward pass on the GPU (spec/gradients.md). The adjoint
 * λ_t = ȳ_t + a_{t+1}·λ_{t+1}, started from the last state's cotangent, is a linear recurrence
 * itself, so it runs as the three-pass row scan in the opposite direction (the 'linear-recurrence
 * adjoint' module of wgsl-row-scan.ts), which also writes b̄ = λ, ā = λ·h_prev and h̄0 = a_first·λ_first
 * from the recomputed forward states.
 */
import type { Problem } from '../../spec/families.ts';
import type { Cotangents, GradientsOf } from '../../spec/gradients.ts';
import { dimensionsOf } from '../../spec/shapes.ts';
import { capacityShortfall, float16RangeShortfall } from './capacity.ts';
import type { KernelRuntime } from './runtime.ts';
import { bytesPerElement, INFINITY_BITS } from './storage-type.ts';
import { ROW_SCAN_FLAGS, ROW_SCAN_PARAM_WORDS, ROW_SCAN_TILE } from './wgsl-row-scan.ts';

/** Why the backward pass of a problem does not fit the device or float16 storage; undefined when it fits. */
export function adjointShortfall(runtime: KernelRuntime, problem: Problem<'linear-recurrence'>, cotangents: Cotangents<'linear-recurrence'>): string | undefined {
  const { batch, dim, length } = dimensionsOf(problem);
  const rows = batch * dim;
  const tileWorkgroups = rows * Math.ceil(length / ROW_SCAN_TILE);
  const sequenceBytes = rows * length * bytesPerElement(runtime.storage);
  return (
    capacityShortfall(
      runtime.limits(),
      ['a', 'h', 'hBar', 'aBar', 'bBar'].map((name) => ({ name, bytes: sequenceBytes })).concat([{ name: 'tileTotals', bytes: tileWorkgroups * 8 }]),
      [tileWorkgroups, rows],
    ) ?? float16RangeShortfall(runtime.storage, { 'cotangent h': asFloat32(cotangents.h.data), 'cotangent lastState': asFloat32(cotangents.lastState.data) })
  );
}

/** The gradients of a, b (and h0 when present) of a non-empty problem, given its forward states h as stored. */
export async function linearRecurrenceVjp(
  runtime: KernelRuntime,
  module: string,
  problem: Problem<'linear-recurrence'>,
  cotangents: Cotangents<'linear-recurrence'>,
  h: Float32Array,
): Promise<GradientsOf<'linear-recurrence'>> {
  const { batch, dim, length } = dimensionsOf(problem);
  const rows = batch * dim;
  const { a, b, h0 } = problem.inputs;
  const tiles = Math.ceil(length / ROW_SCAN_TILE);
  const tileWorkgroups = rows * tiles;
  // The adjoint runs against the forward's direction; INITIAL_STATE tells it the forward had h0.
  const flags = (problem.options.reverse ? 0 : ROW_SCAN_FLAGS.reverse) | (h0 !== undefined ? ROW_SCAN_FLAGS.initialState : 0);
  const params = new Uint32Array(ROW_SCAN_PARAM_WORDS);
  params.set([rows, length, tiles, flags, tileWorkgroups, INFINITY_BITS]);
  const out = await runtime.engine().run({
    module,
    params,
    inputs: { a: a.data, hBar: asFloat32(cotangents.h.data), lastStateBar: asFloat32(cotangents.lastState.data), h0: h0?.data, h },
    scratchBytes: { tileTotals: tileWorkgroups * 8, carries: tileWorkgroups * 4 },
    outputs: { aBar: rows * length, bBar: rows * length, ...(h0 !== undefined ? { h0Bar: rows } : {}) },
    dispatches: [
      { entryPoint: 'reduceTiles', workgroups: tiles > 1 ? tileWorkgroups : 0 },
      { entryPoint: 'scanTileTotals', workgroups: rows },
      { entryPoint: 'scanTiles', workgroups: tileWorkgroups },
    ],
  });
  const gradients = { a: { data: out.aBar, shape: a.shape }, b: { data: out.bBar, shape: b.shape } };
  return h0 === undefined ? gradients : { ...gradients, h0: { data: out.h0Bar, shape: h0.shape } };
}

/** Float32 values of a cotangent (float64 ones rounded), as the kernels upload them. */
export function asFloat32(values: Float32Array | Float64Array): Float32Array {
  return values instanceof Float32Array ? values : Float32Array.from(values);
}
