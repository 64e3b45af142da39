/**
 * lti-ssm on the GPU: the recurrent form h_t = Abar ⊙ h_{t−1} + Bbar·u_t, y_t = Σ_n C_n h_{t,n} + D·u_t,
 * with the channel-scan kernel of wgsl-channel-scan.ts; the step is that kernel over one token
 * starting from the given state.
 */
import type { FamilyImplementation } from '../../spec/implementation.ts';
import type { LtiSsmInputs, Problem } from '../../spec/families.ts';
import type { Tensor } from '../../spec/tensor.ts';
import { dimensionsOf, outputShapes, stepDimensionsOf, type Dimensions } from '../../spec/shapes.ts';
import { capacityShortfall, float16RangeShortfall } from './capacity.ts';
import { moduleLabel } from './kernel-modules.ts';
import type { KernelRuntime } from './runtime.ts';
import { bytesPerElement, INFINITY_BITS } from './storage-type.ts';
import { CHANNEL_SCAN_FLAGS, CHANNEL_SCAN_PARAM_WORDS, PROJECTION_KIND } from './wgsl-channel-scan.ts';

/** The lti-ssm family of a WebGPU implementation. */
export function ltiSsmFamily(runtime: KernelRuntime): FamilyImplementation<'lti-ssm'> {
  const module = moduleLabel('lti-ssm scan', runtime.storage);

  async function scan(inputs: LtiSsmInputs, initialState: Tensor | undefined, dims: Dimensions) {
    const channels = dims.batch * dims.dim;
    if (channels === 0) return { y: new Float32Array(0), lastState: new Float32Array(0) };
    const { Abar, Bbar, C, D, u } = inputs;
    const flags = (D !== undefined ? CHANNEL_SCAN_FLAGS.D : 0) | (initialState !== undefined ? CHANNEL_SCAN_FLAGS.h0 : 0);
    const params = new Uint32Array(CHANNEL_SCAN_PARAM_WORDS);
    params.set([channels, dims.dim, dims.length, dims.stateSize, flags, INFINITY_BITS, PROJECTION_KIND.timeInvariant, 1, PROJECTION_KIND.timeInvariant, 1]);
    const out = await runtime.engine().run({
      module,
      params,
      inputs: { Abar: Abar.data, Bbar: Bbar.data, C: C.data, D: D?.data, u: u.data, h0: initialState?.data },
      scratchBytes: { yAccumulator: channels * dims.length * 4 },
      outputs: { y: channels * dims.length, lastState: channels * dims.stateSize },
      dispatches: [{ entryPoint: 'scanChannels', workgroups: channels }],
    });
    return { y: out.y, lastState: out.lastState };
  }

  return {
    decline(problem: Problem<'lti-ssm'>): string | undefined {
      const dims = dimensionsOf(problem);
      const element = bytesPerElement(runtime.storage);
      const sequence = dims.batch * dims.dim * dims.length;
      const { inputs } = problem;
      return (
        capacityShortfall(
          runtime.limits(),
          [
            { name: 'u', bytes: sequence * element },
            { name: 'y accumulator', bytes: sequence * 4 },
            { name: 'lastState', bytes: dims.batch * dims.dim * dims.stateSize * element },
          ],
          [dims.batch * dims.dim],
        ) ??
        float16RangeShortfall(runtime.storage, { Abar: inputs.Abar.data, Bbar: inputs.Bbar.data, C: inputs.C.data, D: inputs.D?.data, u: inputs.u.data })
      );
    },
    async run(problem: Problem<'lti-ssm'>) {
      const dims = dimensionsOf(problem);
      const out = await scan(problem.inputs, undefined, dims);
      return { y: { data: out.y, shape: outputShapes('lti-ssm', dims).y } };
    },
    async step(inputs) {
      const dims = stepDimensionsOf('lti-ssm', inputs);
      const { state, ...rest } = inputs;
      const out = await scan(rest, state, dims);
      return {
        y: { data: out.y, shape: [dims.batch, dims.dim] },
        state: { data: out.lastState, shape: [dims.batch, dims.dim, dims.stateSize] },
      };
    },
  };
}
