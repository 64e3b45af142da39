/**
 * selective-scan on the GPU: one workgroup per (batch, dim) channel, one invocation per state,
 * discretization, contraction with C, D and the gate in the shader (wgsl-channel-scan.ts). The
 * step is the same kernel over one time step, starting from the given state. seqIdx reaches the
 * kernel as reset flags appended to delta (resetFlags). The vjp recomputes the states and runs the
 * adjoint with linear-recurrence's row scans over the state rows (vjp-selective-scan.ts).
 */
import type { FamilyImplementation } from '../../spec/implementation.ts';
import type { Problem, SelectiveScanInputs, SelectiveScanOptions } from '../../spec/families.ts';
import { dimensionsOf, outputShapes, projectionLayout, stepDimensionsOf, type Dimensions, type ProjectionLayout } from '../../spec/shapes.ts';
import { capacityShortfall, float16RangeShortfall } from './capacity.ts';
import { moduleLabel } from './kernel-modules.ts';
import type { KernelRuntime } from './runtime.ts';
import { bytesPerElement, INFINITY_BITS } from './storage-type.ts';
import { CHANNEL_SCAN_FLAGS, CHANNEL_SCAN_PARAM_WORDS, PROJECTION_KIND } from './wgsl-channel-scan.ts';
import { selectiveScanVjp } from './vjp-selective-scan.ts';

/** The selective-scan family of a WebGPU implementation. */
export function selectiveScanFamily(runtime: KernelRuntime): FamilyImplementation<'selective-scan'> {
  const module = moduleLabel('selective-scan scan', runtime.storage);
  const vjpModules = {
    prepare: moduleLabel('selective-scan adjoint inputs', runtime.storage),
    gradients: moduleLabel('selective-scan gradients', runtime.storage),
    rowScan: moduleLabel('linear-recurrence scan', runtime.storage),
    rowAdjoint: moduleLabel('linear-recurrence adjoint', runtime.storage),
  };

  async function scan(inputs: SelectiveScanInputs, options: SelectiveScanOptions, dims: Dimensions) {
    const channels = dims.batch * dims.dim;
    if (channels === 0) return { y: new Float32Array(0), lastState: new Float32Array(0) };
    const { u, delta, A, B, C, D, z, deltaBias, h0, seqIdx } = inputs;
    const params = new Uint32Array(CHANNEL_SCAN_PARAM_WORDS);
    params.set(selectiveScanParamWords(inputs, options, dims));
    const out = await runtime.engine().run({
      module,
      params,
      inputs: { u: u.data, delta: seqIdx === undefined ? delta.data : withResetFlags(delta.data, seqIdx.data, dims.batch, dims.length), A: A.data, B: B.data, C: C.data, D: D?.data, z: z?.data, deltaBias: deltaBias?.data, h0: h0?.data },
      scratchBytes: { yAccumulator: channels * dims.length * 4 },
      outputs: { y: channels * dims.length, lastState: channels * dims.stateSize },
      dispatches: [{ entryPoint: 'scanChannels', workgroups: channels }],
    });
    return { y: out.y, lastState: out.lastState };
  }

  return {
    decline(problem: Problem<'selective-scan'>): string | undefined {
      const dims = dimensionsOf(problem);
      const element = bytesPerElement(runtime.storage);
      const sequence = dims.batch * dims.dim * dims.length;
      const { inputs } = problem;
      const buffers = [
        { name: 'u', bytes: sequence * element },
        { name: inputs.seqIdx === undefined ? 'delta' : 'delta and reset flags', bytes: (sequence + (inputs.seqIdx === undefined ? 0 : dims.batch * dims.length)) * element },
        { name: 'y accumulator', bytes: sequence * 4 },
        { name: 'B', bytes: inputs.B.data.length * element },
        { name: 'C', bytes: inputs.C.data.length * element },
        { name: 'lastState', bytes: dims.batch * dims.dim * dims.stateSize * element },
      ];
      return (
        capacityShortfall(runtime.limits(), buffers, [dims.batch * dims.dim]) ??
        float16RangeShortfall(runtime.storage, storedInputs(inputs))
      );
    },
    async run(problem: Problem<'selective-scan'>) {
      const dims = dimensionsOf(problem);
      const shapes = outputShapes('selective-scan', dims);
      const out = await scan(problem.inputs, problem.options, dims);
      return { y: { data: out.y, shape: shapes.y }, lastState: { data: out.lastState, shape: shapes.lastState } };
    },
    vjp: (problem, cotangents) => selectiveScanVjp(runtime, vjpModules, problem, cotangents),
    async step(inputs, options) {
      const dims = stepDimensionsOf('selective-scan', inputs);
      // A step is the scan over one token: (batch, dim) is (batch, dim, 1) in memory, B and C already use L = 1.
      const { state, ...rest } = inputs;
      const out = await scan({ ...rest, h0: state }, options, dims);
      return {
        y: { data: out.y, shape: [dims.batch, dims.dim] },
        state: { data: out.lastState, shape: [dims.batch, dims.dim, dims.stateSize] },
      };
    },
  };
}

/**
 * delta followed by the reset flags of seqIdx (batch, L): 1 at (b, t ≥ 1) where the id changes,
 * else 0, exact in any storage type whatever the ids are.
 */
export function withResetFlags(delta: Float32Array, seqIdx: Float32Array, batch: number, length: number): Float32Array {
  const out = new Float32Array(delta.length + batch * length);
  out.set(delta);
  for (let b = 0; b < batch; b++) {
    for (let t = 1; t < length; t++) if (seqIdx[b * length + t] !== seqIdx[b * length + t - 1]) out[delta.length + b * length + t] = 1;
  }
  return out;
}

/** The inputs the kernels store, by name, as the float16 range check reads them */
export function storedInputs(inputs: SelectiveScanInputs): Record<string, Float32Array | undefined> {
  return {
    u: inputs.u.data,
    delta: inputs.delta.data,
    A: inputs.A.data,
    B: inputs.B.data,
    C: inputs.C.data,
    D: inputs.D?.data,
    z: inputs.z?.data,
    deltaBias: inputs.deltaBias?.data,
    h0: inputs.h0?.data,
  };
}

/**
 * The first ten params words every selective-scan module reads (CHANNEL_SCAN_PARAM_FIELDS): sizes,
 * the flags of the inputs present and of softplus, the Inf bits, and B's and C's layouts.
 */
export function selectiveScanParamWords(inputs: SelectiveScanInputs, options: SelectiveScanOptions, dims: Dimensions): number[] {
  const { B, C, D, z, deltaBias, h0, seqIdx } = inputs;
  const flags =
    (D !== undefined ? CHANNEL_SCAN_FLAGS.D : 0) |
    (z !== undefined ? CHANNEL_SCAN_FLAGS.z : 0) |
    (deltaBias !== undefined ? CHANNEL_SCAN_FLAGS.deltaBias : 0) |
    (h0 !== undefined ? CHANNEL_SCAN_FLAGS.h0 : 0) |
    (options.deltaSoftplus ? CHANNEL_SCAN_FLAGS.deltaSoftplus : 0) |
    (seqIdx !== undefined ? CHANNEL_SCAN_FLAGS.resets : 0);
  const [bKind, bGroups] = projectionParams(projectionLayout(B.shape));
  const [cKind, cGroups] = projectionParams(projectionLayout(C.shape));
  return [dims.batch * dims.dim, dims.dim, dims.length, dims.stateSize, flags, INFINITY_BITS, bKind, bGroups, cKind, cGroups];
}

/** The params' (kind, groups) words of a B or C layout. */
export function projectionParams(layout: ProjectionLayout): [number, number] {
  switch (layout.kind) {
    case 'time-invariant':
      return [PROJECTION_KIND.timeInvariant, 1];
    case 'time-varying':
      return [PROJECTION_KIND.perTime, 1];
    case 'grouped':
      return [PROJECTION_KIND.perTime, layout.groups];
  }
}
