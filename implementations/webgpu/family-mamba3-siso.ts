/**
 * mamba3-siso (Mamba-3 SISO) on the GPU: the sequential-in-time kernel of wgsl-mamba3-siso.ts, one
 * workgroup per (batch, head, p) lane, one dispatch. The step is the same kernel over one token
 * starting from the four given states, as mamba_ssm's mamba3_siso_step computes it.
 */
import type { FamilyImplementation } from '../../spec/implementation.ts';
import type { Mamba3SisoInputs, Problem } from '../../spec/families.ts';
import { mamba3SisoSizes, mamba3SisoStepSizes, type Mamba3SisoSizes } from '../../spec/families/mamba3-siso/dimensions.ts';
import { capacityShortfall, float16RangeShortfall } from './capacity.ts';
import { moduleLabel } from './kernel-modules.ts';
import type { KernelRuntime } from './runtime.ts';
import { bytesPerElement, INFINITY_BITS } from './storage-type.ts';
import { MAMBA3_SISO_FLAGS, MAMBA3_SISO_PARAM_WORDS } from './wgsl-mamba3-siso.ts';

/** The four states in the order the kernel packs them (states and finalStates bindings). */
interface Mamba3SisoStates {
  readonly angle: Float32Array;
  readonly ssm: Float32Array;
  readonly key: Float32Array;
  readonly value: Float32Array;
}

/** Element counts of the four states of a problem. */
function stateCounts(sizes: Mamba3SisoSizes): Readonly<Record<keyof Mamba3SisoStates, number>> {
  const { batch, heads, headdim, stateSize, angles } = sizes;
  return { angle: batch * heads * angles, ssm: batch * heads * headdim * stateSize, key: batch * heads * stateSize, value: batch * heads * headdim };
}

/** Arrays packed one after the other, each `count` long (zeros where absent), as the kernel's packed bindings read them. */
function packed(parts: readonly { readonly data: Float32Array | undefined; readonly count: number }[]): Float32Array {
  const out = new Float32Array(parts.reduce((total, part) => total + part.count, 0));
  let offset = 0;
  for (const { data, count } of parts) {
    if (data !== undefined) out.set(data, offset);
    offset += count;
  }
  return out;
}

/** Lanes (workgroups) of a run: one per (batch, head, p), one per head when P = 0 (the angle and key states still run). */
function lanesOf(sizes: Mamba3SisoSizes): number {
  return sizes.batch * sizes.heads * Math.max(sizes.headdim, 1);
}

/** The mamba3-siso family of a WebGPU implementation. */
export function mamba3SisoFamily(runtime: KernelRuntime): FamilyImplementation<'mamba3-siso'> {
  const module = moduleLabel('mamba3-siso scan', runtime.storage);

  async function scan(inputs: Mamba3SisoInputs, sizes: Mamba3SisoSizes): Promise<{ y: Float32Array; states: Mamba3SisoStates }> {
    const { batch, length, heads, headdim, groups, stateSize, angles } = sizes;
    const counts = stateCounts(sizes);
    const lanes = lanesOf(sizes);
    if (lanes === 0) {
      return { y: new Float32Array(0), states: { angle: new Float32Array(counts.angle), ssm: new Float32Array(counts.ssm), key: new Float32Array(counts.key), value: new Float32Array(counts.value) } };
    }
    const flags = (inputs.D !== undefined ? MAMBA3_SISO_FLAGS.D : 0) | (inputs.Z !== undefined ? MAMBA3_SISO_FLAGS.Z : 0);
    const params = new Uint32Array(MAMBA3_SISO_PARAM_WORDS);
    params.set([batch, length, heads, headdim, groups, stateSize, angles, flags, INFINITY_BITS, lanes, Math.max(headdim, 1)]);
    const steps = batch * heads * length;
    const totalStates = counts.angle + counts.ssm + counts.key + counts.value;
    const out = await runtime.engine().run({
      module,
      params,
      inputs: {
        Q: inputs.Q.data,
        K: inputs.K.data,
        V: inputs.V.data,
        gates: packed([
          { data: inputs.ADT.data, count: steps },
          { data: inputs.DT.data, count: steps },
          { data: inputs.Trap.data, count: steps },
        ]),
        Angles: inputs.Angles.data,
        headTerms: packed([
          { data: inputs.QBias.data, count: heads * stateSize },
          { data: inputs.KBias.data, count: heads * stateSize },
          { data: inputs.D?.data, count: inputs.D === undefined ? 0 : heads },
        ]),
        Z: inputs.Z?.data,
        states: packed([
          { data: inputs.angleState?.data, count: counts.angle },
          { data: inputs.ssmState?.data, count: counts.ssm },
          { data: inputs.kState?.data, count: counts.key },
          { data: inputs.vState?.data, count: counts.value },
        ]),
      },
      scratchBytes: { yAccumulator: batch * length * heads * headdim * 4 },
      outputs: { y: batch * length * heads * headdim, finalStates: totalStates },
      dispatches: [{ entryPoint: 'scanLanes', workgroups: lanes }],
    });
    const finals = out.finalStates;
    const ssmAt = counts.angle;
    const keyAt = ssmAt + counts.ssm;
    const valueAt = keyAt + counts.key;
    return {
      y: out.y,
      states: {
        angle: finals.slice(0, ssmAt),
        ssm: finals.slice(ssmAt, keyAt),
        key: finals.slice(keyAt, valueAt),
        value: finals.slice(valueAt, totalStates),
      },
    };
  }

  return {
    decline(problem: Problem<'mamba3-siso'>): string | undefined {
      const { inputs } = problem;
      const sizes = mamba3SisoSizes(inputs.V, inputs.Q, inputs.Angles);
      const element = bytesPerElement(runtime.storage);
      const counts = stateCounts(sizes);
      const sequence = sizes.batch * sizes.length * sizes.heads * sizes.headdim;
      const buffers = [
        { name: 'Q', bytes: inputs.Q.data.length * element },
        { name: 'V', bytes: sequence * element },
        { name: 'ADT, DT and Trap', bytes: 3 * sizes.batch * sizes.heads * sizes.length * element },
        { name: 'Angles', bytes: inputs.Angles.data.length * element },
        { name: 'states', bytes: (counts.angle + counts.ssm + counts.key + counts.value) * element },
        { name: 'y accumulator', bytes: sequence * 4 },
      ];
      return (
        capacityShortfall(runtime.limits(), buffers, [lanesOf(sizes)]) ??
        float16RangeShortfall(runtime.storage, {
          Q: inputs.Q.data,
          K: inputs.K.data,
          V: inputs.V.data,
          ADT: inputs.ADT.data,
          DT: inputs.DT.data,
          Trap: inputs.Trap.data,
          QBias: inputs.QBias.data,
          KBias: inputs.KBias.data,
          Angles: inputs.Angles.data,
          D: inputs.D?.data,
          Z: inputs.Z?.data,
          angleState: inputs.angleState?.data,
          ssmState: inputs.ssmState?.data,
          kState: inputs.kState?.data,
          vState: inputs.vState?.data,
        })
      );
    },
    async run(problem: Problem<'mamba3-siso'>) {
      const { inputs } = problem;
      const sizes = mamba3SisoSizes(inputs.V, inputs.Q, inputs.Angles);
      const { batch, length, heads, headdim, stateSize, angles } = sizes;
      const out = await scan(inputs, sizes);
      return {
        y: { data: out.y, shape: [batch, length, heads, headdim] },
        finalAngleState: { data: out.states.angle, shape: [batch, heads, angles] },
        finalSsmState: { data: out.states.ssm, shape: [batch, heads, headdim, stateSize] },
        finalKState: { data: out.states.key, shape: [batch, heads, stateSize] },
        finalVState: { data: out.states.value, shape: [batch, heads, headdim] },
      };
    },
    async step(inputs) {
      const sizes = mamba3SisoStepSizes(inputs.V, inputs.Q, inputs.Angles);
      const { batch, heads, headdim, stateSize, angles } = sizes;
      // One token: a step's layouts are the run's with L = 1 ((batch, G, N) is (batch, 1, G, N), (batch, H) is (batch, H, 1)).
      const out = await scan(inputs, sizes);
      return {
        y: { data: out.y, shape: [batch, heads, headdim] },
        angleState: { data: out.states.angle, shape: [batch, heads, angles] },
        ssmState: { data: out.states.ssm, shape: [batch, heads, headdim, stateSize] },
        kState: { data: out.states.key, shape: [batch, heads, stateSize] },
        vState: { data: out.states.value, shape: [batch, heads, headdim] },
      };
    },
  };
}
