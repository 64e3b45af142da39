/** prefix-sum on the GPU: the three-pass reduce-then-scan of wgsl-row-scan.ts, a one-kernel step, and a vjp that is the same scan run the other way. */
import type { FamilyImplementation } from '../../spec/implementation.ts';
import type { Problem } from '../../spec/families.ts';
import { dimensionsOf, outputShapes, stepDimensionsOf } from '../../spec/shapes.ts';
import { capacityShortfall, float16RangeShortfall } from './capacity.ts';
import { moduleLabel } from './kernel-modules.ts';
import type { KernelRuntime } from './runtime.ts';
import { bytesPerElement, INFINITY_BITS } from './storage-type.ts';
import { ROW_SCAN_FLAGS, ROW_SCAN_PARAM_WORDS, ROW_SCAN_TILE } from './wgsl-row-scan.ts';
import { runRowStep } from './family-row-step.ts';
import { ImplementationDeclinedError } from '../../spec/implementation.ts';
import type { Cotangents, GradientsOf } from '../../spec/gradients.ts';
import type { OutputTensor } from '../../spec/tensor.ts';

/** The prefix-sum family of a WebGPU implementation. */
export function prefixSumFamily(runtime: KernelRuntime): FamilyImplementation<'prefix-sum'> {
  const scanModule = moduleLabel('prefix-sum scan', runtime.storage);
  const stepModule = moduleLabel('prefix-sum step', runtime.storage);
  const run = async (problem: Problem<'prefix-sum'>): Promise<{ y: OutputTensor }> => {
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
  };
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
    run,
    async vjp(problem: Problem<'prefix-sum'>, cotangents: Cotangents<'prefix-sum'>): Promise<GradientsOf<'prefix-sum'>> {
      const yBar = cotangents.y.data instanceof Float32Array ? cotangents.y.data : Float32Array.from(cotangents.y.data);
      const reason = float16RangeShortfall(runtime.storage, { 'cotangent y': yBar });
      if (reason !== undefined) throw new ImplementationDeclinedError(reason);
      // x̄_s sums ȳ_t over the t whose y_t includes x_s: the same scan, same exclusivity, run the other way.
      const { y } = await run({ family: 'prefix-sum', inputs: { x: { data: yBar, shape: problem.inputs.x.shape } }, options: { ...problem.options, reverse: !problem.options.reverse } });
      return { x: { data: y.data, shape: problem.inputs.x.shape } };
    },
    step: (inputs) => runRowStep(runtime, stepModule, stepDimensionsOf('prefix-sum', inputs), { x: inputs.x.data, state: inputs.state.data }),
  };
}

