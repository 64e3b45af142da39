/** prefix-sum on the GPU: the three-pass reduce-then-scan of wgsl-row-scan.ts, and a one-kernel step. */
import type { FamilyImplementation } from '../../spec/implementation.ts';
import type { Problem } from '../../spec/families.ts';
import { dimensionsOf, outputShapes, stepDimensionsOf } from '../../spec/shapes.ts';
import { capacityShortfall, float16RangeShortfall } from './capacity.ts';
import { moduleLabel } from './kernel-modules.ts';
import type { KernelRuntime } from './runtime.ts';
import { bytesPerElement, INFINITY_BITS } from './storage-type.ts';
import { ROW_SCAN_FLAGS, ROW_SCAN_PARAM_WORDS, ROW_SCAN_TILE } from './wgsl-row-scan.ts';
import { runRowStep } from './family-row-step.ts';

/** The prefix-sum family of a WebGPU implementation. */
export function prefixSumFamily(runtime: KernelRuntime): FamilyImplementation<'prefix-sum'> {
  const scanModule = moduleLabel('prefix-sum scan', runtime.storage);
  const stepModule = moduleLabel('prefix-sum step', runtime.storage);
  return {
    decline(problem: Problem<'prefix-sum'>): string | undefined {
      const { batch, dim, length } = dimensionsOf(problem);
      const rows = batch * dim;
      const tileWorkgroups = rows * Math.ceil(length / ROW_SCAN_TILE);
      const element = bytesPerElement(runtime.storage);
      return (
        capacityShortfall(
          runtime.limits(),
          [
            { name: 'x', bytes: rows * length * element },
            { name: 'y', bytes: rows * length * element },
            { name: 'tileTotals', bytes: tileWorkgroups * 4 },
          ],
          [tileWorkgroups, rows],
        ) ?? float16RangeShortfall(runtime.storage, { x: problem.inputs.x.data })
      );
    },
    async run(problem: Problem<'prefix-sum'>) {
      const dims = dimensionsOf(problem);
      const shapes = outputShapes('prefix-sum', dims);
      const rows = dims.batch * dims.dim;
      const length = dims.length;
      if (rows * length === 0) return { y: { data: new Float32Array(0), shape: shapes.y } };
      const tiles = Math.ceil(length / ROW_SCAN_TILE);
      const tileWorkgroups = rows * tiles;
      const flags = (problem.options.reverse ? ROW_SCAN_FLAGS.reverse : 0) | (problem.options.exclusive ? ROW_SCAN_FLAGS.exclusive : 0);
      const params = new Uint32Array(ROW_SCAN_PARAM_WORDS);
      params.set([rows, length, tiles, flags, tileWorkgroups, INFINITY_BITS]);
      const out = await runtime.engine().run({
        module: scanModule,
        params,
        inputs: { x: problem.inputs.x.data },
        scratchBytes: { tileTotals: tileWorkgroups * 4, carries: tileWorkgroups * 4 },
        outputs: { y: rows * length },
        dispatches: [
          // With one tile per row the tile totals are never read: the carry-in is the row's initial state.
          { entryPoint: 'reduceTiles', workgroups: tiles > 1 ? tileWorkgroups : 0 },
          { entryPoint: 'scanTileTotals', workgroups: rows },
          { entryPoint: 'scanTiles', workgroups: tileWorkgroups },
        ],
      });
      return { y: { data: out.y, shape: shapes.y } };
    },
    step: (inputs) => runRowStep(runtime, stepModule, stepDimensionsOf('prefix-sum', inputs), { x: inputs.x.data, state: inputs.state.data }),
  };
}

