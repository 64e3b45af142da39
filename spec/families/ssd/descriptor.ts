/** ssd: Mamba-2's state-space duality, mamba_ssm's mamba_chunk_scan_combined (spec/families/ssd/ssd.md). */
import type { FamilyDescriptor } from '../../family-descriptor.ts';

/** The ssd family. */
export const ssd: FamilyDescriptor<'ssd'> = {
  name: 'ssd',
  summary: "h_t = exp(Δ_t·A_h)·h_{t−1} + Δ_t·B_t·x_t per head, y_t = (C_t·h_t + D·x_t)·silu(z_t); reset where seqIdx changes",
  inputs: [
    { name: 'x', role: 'sequence', optional: false, additive: true, axes: ['batch', 'length', 'heads', 'headdim'] },
    { name: 'dt', role: 'sequence', optional: false, additive: false, axes: ['batch', 'length', 'heads'] },
    { name: 'A', role: 'parameter', optional: false, additive: false, axes: ['heads'] },
    { name: 'B', role: 'projection', optional: false, additive: false, axes: ['batch', 'length', 'groups', 'state'] },
    { name: 'C', role: 'projection', optional: false, additive: false, axes: ['batch', 'length', 'groups', 'state'] },
    { name: 'D', role: 'parameter', optional: true, additive: false, axes: ['heads'], alternateAxes: ['heads', 'headdim'] },
    { name: 'z', role: 'sequence', optional: true, additive: false, axes: ['batch', 'length', 'heads', 'headdim'] },
    { name: 'dtBias', role: 'parameter', optional: true, additive: false, axes: ['heads'] },
    { name: 'dtLimit', role: 'parameter', optional: true, additive: false, axes: ['limits'] },
    { name: 'initialStates', role: 'state', optional: true, additive: true, axes: ['batch', 'heads', 'headdim', 'state'] },
    { name: 'seqIdx', role: 'segments', optional: true, additive: false, axes: ['batch', 'length'] },
  ],
  outputs: [
    { name: 'y', kind: 'sequence', axes: ['batch', 'length', 'heads', 'headdim'] },
    { name: 'finalStates', kind: 'state', axes: ['batch', 'heads', 'headdim', 'state'] },
  ],
  options: {
    dtSoftplus: { default: false, inStep: true, description: 'Δ = softplus(dt + dtBias) before the dtLimit clamp, PyTorch\'s threshold 20' },
  },
  // An identity step is Δ = 0, x = 0: softplus is never 0, and a dtLimit may keep Δ from 0 too (the regimes refuse that).
  identityStepNeeds: { dtSoftplus: false },
  dimensionsFrom: 'x',
  stateSizeFrom: 'B',
  groupsFrom: 'B',
  readsOut: true,
  errorModels: ['componentwise'],
  reducesTo: { family: 'selective-scan', how: 'dim = H·P channels, Δ of channel (h, p) = dt of head h, A(dim, N) = A_h repeated, grouped B and C, time moved last' },
};
