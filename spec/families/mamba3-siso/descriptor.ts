/** mamba3-siso: Mamba-3's SISO recurrence, mamba_ssm's mamba3_siso_combined and mamba3_siso_step (spec/families/mamba3-siso/mamba3-siso.md). */
import type { FamilyDescriptor } from '../../family-descriptor.ts';

/** The mamba3-siso family. */
export const mamba3Siso: FamilyDescriptor<'mamba3-siso'> = {
  name: 'mamba3-siso',
  summary: 'θ_t = (θ_{t−1} + π·tanh(Angles_t)·DT_t) mod 2π; S_t = α_t·S_{t−1} + β_t·ṽ_{t−1}⊗k̃_{t−1} + γ_t·v_t⊗k̂_t (trapezoidal); y_t = (S_t·q̂_t + D·v_t)·silu(Z_t), q̂, k̂ rotated by θ_t',
  inputs: [
    { name: 'Q', role: 'projection', optional: false, additive: false, axes: ['batch', 'length', 'groups', 'state'] },
    { name: 'K', role: 'projection', optional: false, additive: false, axes: ['batch', 'length', 'groups', 'state'] },
    // Linear in V with the rest fixed: S is, D·v is, and the gate multiplies by Z's fixed silu.
    { name: 'V', role: 'sequence', optional: false, additive: true, axes: ['batch', 'length', 'heads', 'headdim'] },
    { name: 'ADT', role: 'sequence', optional: false, additive: false, axes: ['batch', 'heads', 'length'] },
    { name: 'DT', role: 'sequence', optional: false, additive: false, axes: ['batch', 'heads', 'length'] },
    { name: 'Trap', role: 'sequence', optional: false, additive: false, axes: ['batch', 'heads', 'length'] },
    { name: 'QBias', role: 'parameter', optional: false, additive: false, axes: ['heads', 'state'] },
    { name: 'KBias', role: 'parameter', optional: false, additive: false, axes: ['heads', 'state'] },
    { name: 'Angles', role: 'sequence', optional: false, additive: false, axes: ['batch', 'length', 'heads', 'angles'] },
    { name: 'D', role: 'parameter', optional: true, additive: false, axes: ['heads'] },
    { name: 'Z', role: 'sequence', optional: true, additive: false, axes: ['batch', 'length', 'heads', 'headdim'] },
    { name: 'angleState', role: 'state', optional: true, additive: false, axes: ['batch', 'heads', 'angles'] },
    // S and ṽ enter the outputs linearly together with V; k̃ multiplies ṽ, so it is not additive.
    { name: 'ssmState', role: 'state', optional: true, additive: true, axes: ['batch', 'heads', 'headdim', 'state'] },
    { name: 'kState', role: 'state', optional: true, additive: false, axes: ['batch', 'heads', 'state'] },
    { name: 'vState', role: 'state', optional: true, additive: true, axes: ['batch', 'heads', 'headdim'] },
  ],
  outputs: [
    { name: 'y', kind: 'sequence', axes: ['batch', 'length', 'heads', 'headdim'] },
    { name: 'finalAngleState', kind: 'state', axes: ['batch', 'heads', 'angles'], comparison: 'angle', linear: false },
    { name: 'finalSsmState', kind: 'state', axes: ['batch', 'heads', 'headdim', 'state'] },
    { name: 'finalKState', kind: 'state', axes: ['batch', 'heads', 'state'], linear: false },
    { name: 'finalVState', kind: 'state', axes: ['batch', 'heads', 'headdim'] },
  ],
  options: {},
  // The four states a run hands on and a step carries, under the step's names (mamba3_siso_step's Input_States).
  states: [
    { input: 'angleState', output: 'finalAngleState', step: 'angleState' },
    { input: 'ssmState', output: 'finalSsmState', step: 'ssmState' },
    { input: 'kState', output: 'finalKState', step: 'kState' },
    { input: 'vState', output: 'finalVState', step: 'vState' },
  ],
  dimensionsFrom: 'V',
  stateSizeFrom: 'Q',
  groupsFrom: 'Q',
  anglesFrom: 'Angles',
  readsOut: true,
  errorModels: ['componentwise'],
  reducesTo: { family: 'ssd', how: 'Angles = 0, Trap → +∞ (trap = 1), zero QBias, KBias, no kState, vState: ssd with x = V, dt = DT, A·dt = ADT, B = K, C = Q, initialStates = ssmState' },
};
