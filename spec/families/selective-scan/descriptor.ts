/** selective-scan: mamba_ssm's selective_scan_ref for real A (spec/families/selective-scan/selective-scan.md). */
import type { FamilyDescriptor } from '../../family-descriptor.ts';

/** The selective-scan family. */
export const selectiveScan: FamilyDescriptor<'selective-scan'> = {
  name: 'selective-scan',
  summary: "h_t = exp(Δ'·A) ⊙ h_{t−1} + Δ'·B_t·u_t, y_t = (C_t·h_t + D·u_t)·silu(z_t); reset where seqIdx changes",
  inputs: [
    { name: 'u', role: 'sequence', optional: false, additive: true },
    { name: 'delta', role: 'sequence', optional: false, additive: false },
    { name: 'A', role: 'parameter', optional: false, additive: false, perState: true },
    { name: 'B', role: 'projection', optional: false, additive: false },
    { name: 'C', role: 'projection', optional: false, additive: false },
    { name: 'D', role: 'parameter', optional: true, additive: false },
    { name: 'z', role: 'sequence', optional: true, additive: false },
    { name: 'deltaBias', role: 'parameter', optional: true, additive: false },
    { name: 'h0', role: 'state', optional: true, additive: true },
    { name: 'seqIdx', role: 'segments', optional: true, additive: false, axes: ['batch', 'length'] },
  ],
  outputs: [
    { name: 'y', kind: 'sequence' },
    { name: 'lastState', kind: 'state' },
  ],
  options: {
    deltaSoftplus: { default: false, inStep: true, description: "Δ' = softplus(Δ + deltaBias), PyTorch's threshold 20" },
  },
  // An identity step is Δ' = 0, u = 0: with softplus Δ' is never 0.
  identityStepNeeds: { deltaSoftplus: false },
  dimensionsFrom: 'u',
  stateSizeFrom: 'A',
  readsOut: true,
  // Time-invariant B and C with a constant Δ make it a convolution, which an FFT may compute.
  errorModels: ['componentwise', 'normwise'],
  convolutionWhenConstant: ['delta'],
  reducesTo: { family: 'lti-ssm', how: "constant Δ and time-invariant B, C: Ā = exp(Δ'·A), B̄ = Δ'·B" },
};
