/**
 * linear-recurrence on the GPU: the three-pass scan of (a, b) pairs under composition of affine
 * maps (wgsl-row-scan.ts), carries across workgroups starting from h0; a one-kernel step; a vjp
 * whose adjoint is the same scan run the other way (vjp-linear-recurrence.ts).
 */
import type { FamilyImplementation } from '../../spec/implementation.ts';
import type { Problem } from '../../spec/families.ts';
import { dimensionsOf, outputShapes, stepDimensionsOf } from '../../spec/shapes.ts';
import { capacityShortfall, float16RangeShortfall } from './capacity.ts';
import { fromFloat16Array, toFloat16Array } from '../../spec/float16.ts';
import { moduleLabel } from './kernel-modules.ts';
import type { KernelRuntime } from './runtime.ts';
import { bytesPerElement, INFINITY_BITS, type StorageType } from './storage-type.ts';
import { ROW_SCAN_FLAGS, ROW_SCAN_PARAM_WORDS, ROW_SCAN_TILE } from './wgsl-row-scan.ts';
import { runRowStep } from './family-row-step.ts';
import { adjointShortfall, linearRecurrenceVjp } from './vjp-linear-recurrence.ts';
import { ImplementationDeclinedError } from '../../spec/implementation.ts';
import type { Cotangents, GradientsOf } from '../../spec/gradients.ts';

/** The linear-recurrence family of a WebGPU implementation. */
export function linearRecurrenceFamily(runtime: KernelRuntime): FamilyImplementation<'linear-recurrence'> {
  const scanModule = moduleLabel('linear-recurrence scan', runtime.storage);
  const stepModule = moduleLabel('linear-recurrence step', runtime.storage);
  const adjointModule = moduleLabel('linear-recurrence adjoint', runtime.storage);
  return {
    decline(problem: Problem<'linear-recurrence'>): string | undefined {
      const { batch, dim, length } = dimensionsOf(problem);
      const rows = batch * dim;
      const tileWorkgroups = rows * Math.ceil(length / ROW_SCAN_TILE);
      const sequenceBytes = rows * length * bytesPerElement(runtime.storage);
      const { a, b, h0 } = problem.inputs;
      return (
        capacityShortfall(
          runtime.limits(),
          [
            { name: 'a', bytes: sequenceBytes },
            { name: 'b', bytes: sequenceBytes },
            { name: 'h', bytes: sequenceBytes },
            { name: 'tileTotals', bytes: tileWorkgroups * 8 },
          ],
          [tileWorkgroups, rows],
        ) ?? float16RangeShortfall(runtime.storage, { a: a.data, b: b.data, h0: h0?.data })
      );
    },
    async run(problem: Problem<'linear-recurrence'>) {
      const dims = dimensionsOf(problem);
      const shapes = outputShapes('linear-recurrence', dims);
      const rows = dims.batch * dims.dim;
      const { h0 } = problem.inputs;
      if (rows === 0 || dims.length === 0) {
        // No step is taken: the last state is the initial one (as stored), h is empty.
        const lastState = h0 === undefined ? new Float32Array(rows) : storedCopy(h0.data, runtime.storage);
        return { h: { data: new Float32Array(0), shape: shapes.h }, lastState: { data: lastState, shape: shapes.lastState } };
      }
      const out = await runForwardScan(runtime, scanModule, problem);
      return { h: { data: out.h, shape: shapes.h }, lastState: { data: out.lastState, shape: shapes.lastState } };
    },
    async vjp(problem: Problem<'linear-recurrence'>, cotangents: Cotangents<'linear-recurrence'>): Promise<GradientsOf<'linear-recurrence'>> {
      const reason = adjointShortfall(runtime, problem, cotangents);
      if (reason !== undefined) throw new ImplementationDeclinedError(reason);
      const dims = dimensionsOf(problem);
      const { h0 } = problem.inputs;
      if (dims.batch * dims.dim === 0 || dims.length === 0) {
        // No step is taken: lastState is h0 itself, so h0's gradient is lastState's cotangent.
        const none = { data: new Float32Array(0), shape: problem.inputs.a.shape };
        const h0Bar = h0 === undefined ? {} : { h0: { data: storedCopy(Float32Array.from(cotangents.lastState.data), runtime.storage), shape: h0.shape } };
        return { a: none, b: { ...none, shape: problem.inputs.b.shape }, ...h0Bar };
      }
      const forward = await runForwardScan(runtime, scanModule, problem);
      return linearRecurrenceVjp(runtime, adjointModule, problem, cotangents, forward.h);
    },
    step: (inputs) => runRowStep(runtime, stepModule, stepDimensionsOf('linear-recurrence', inputs), { a: inputs.a.data, b: inputs.b.data, state: inputs.state.data }),
  };
}

/** Runs the three-pass forward scan of a non-empty problem: every state h and the last one, as stored. */
export async function runForwardScan(runtime: KernelRuntime, module: string, problem: Problem<'linear-recurrence'>): Promise<Record<string, Float32Array>> {
  const { batch, dim, length } = dimensionsOf(problem);
  const rows = batch * dim;
  const { a, b, h0 } = problem.inputs;
  const tiles = Math.ceil(length / ROW_SCAN_TILE);
  const tileWorkgroups = rows * tiles;
  const flags = (problem.options.reverse ? ROW_SCAN_FLAGS.reverse : 0) | (h0 !== undefined ? ROW_SCAN_FLAGS.initialState : 0);
  const params = new Uint32Array(ROW_SCAN_PARAM_WORDS);
  params.set([rows, length, tiles, flags, tileWorkgroups, INFINITY_BITS]);
  return runtime.engine().run({
    module,
    params,
    inputs: { a: a.data, b: b.data, h0: h0?.data },
    scratchBytes: { tileTotals: tileWorkgroups * 8, carries: tileWorkgroups * 4 },
    outputs: { h: rows * length, lastState: rows },
    dispatches: [
      // With one tile per row the tile totals are never read: the carry-in is h0.
      { entryPoint: 'reduceTiles', workgroups: tiles > 1 ? tileWorkgroups : 0 },
      { entryPoint: 'scanTileTotals', workgroups: rows },
      { entryPoint: 'scanTiles', workgroups: tileWorkgroups },
    ],
  });
}

/** A float copy of a value as the storage type holds it. */
export function storedCopy(values: Float32Array, storage: StorageType): Float32Array {
  return storage === 'f16' ? fromFloat16Array(toFloat16Array(values), values.length) : Float32Array.from(values);
}
