/** The one-token step of the scalar-state families (prefix-sum, linear-recurrence) on the GPU. */
import type { StepOutputs } from '../../spec/families.ts';
import type { Dimensions } from '../../spec/shapes.ts';
import type { KernelRuntime } from './runtime.ts';
import { INFINITY_BITS } from './storage-type.ts';
import { ROW_STEP_PARAM_WORDS, ROW_STEP_WORKGROUP } from './wgsl-row-step.ts';

/** Runs the row-step kernel `module` on (batch, dim) inputs (x, or a and b, plus state); one invocation per channel. */
export async function runRowStep(
  runtime: KernelRuntime,
  module: string,
  dims: Dimensions,
  inputs: Readonly<Record<string, Float32Array>>,
): Promise<StepOutputs> {
  const channels = dims.batch * dims.dim;
  const shape = [dims.batch, dims.dim];
  if (channels === 0) return { y: { data: new Float32Array(0), shape }, state: { data: new Float32Array(0), shape } };
  const params = new Uint32Array(ROW_STEP_PARAM_WORDS);
  params.set([channels, INFINITY_BITS]);
  const out = await runtime.engine().run({
    module,
    params,
    inputs,
    outputs: { y: channels, stateOut: channels },
    dispatches: [{ entryPoint: 'stepRows', workgroups: Math.ceil(channels / ROW_STEP_WORKGROUP) }],
  });
  return { y: { data: out.y, shape }, state: { data: out.stateOut, shape } };
}
