/** A mamba3-siso kernel's five arrays, shaped as the family's run and step outputs (spec/families/mamba3-siso/mamba3-siso.md). */
import type { StepOutputs } from '../../families.ts';
import type { Mamba3SisoSizes } from './dimensions.ts';
import type { Mamba3SisoOutputs } from './types.ts';

/** What a kernel computes, each array row-major: y like V, then the four final states. */
export interface Mamba3SisoArrays {
  readonly y: Float32Array | Float64Array;
  readonly angle: Float32Array | Float64Array;
  readonly ssm: Float32Array | Float64Array;
  readonly k: Float32Array | Float64Array;
  readonly v: Float32Array | Float64Array;
}

/** The run's outputs: y (batch, L, H, P) and the final states (batch, H, A), (batch, H, P, N), (batch, H, N), (batch, H, P). */
export function mamba3SisoRunOutputs(out: Mamba3SisoArrays, sizes: Mamba3SisoSizes): Mamba3SisoOutputs {
  const { batch, length, heads: H, headdim: P, stateSize: N, angles: A } = sizes;
  return {
    y: { data: out.y, shape: [batch, length, H, P] },
    finalAngleState: { data: out.angle, shape: [batch, H, A] },
    finalSsmState: { data: out.ssm, shape: [batch, H, P, N] },
    finalKState: { data: out.k, shape: [batch, H, N] },
    finalVState: { data: out.v, shape: [batch, H, P] },
  };
}

/** The step's outputs: y (batch, H, P) and the four states under their step names, shaped as the run's final states. */
export function mamba3SisoStepOutputs(out: Mamba3SisoArrays, sizes: Mamba3SisoSizes): StepOutputs {
  const { finalAngleState, finalSsmState, finalKState, finalVState } = mamba3SisoRunOutputs(out, sizes);
  return {
    y: { data: out.y, shape: [sizes.batch, sizes.heads, sizes.headdim] },
    angleState: finalAngleState,
    ssmState: finalSsmState,
    kState: finalKState,
    vState: finalVState,
  };
}
