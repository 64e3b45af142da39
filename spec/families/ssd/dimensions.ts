/** The sizes of an ssd problem, read from its tensors' shapes (spec/families/ssd/ssd.md). */

/** Sizes of an ssd problem or step: H heads of P channels, G groups, N states, L steps. */
export interface SsdSizes {
  readonly batch: number;
  readonly length: number;
  readonly heads: number;
  readonly headdim: number;
  readonly groups: number;
  readonly stateSize: number;
}

/** The sizes of a validated run: x (batch, L, H, P), B (batch, L, G, N). */
export function ssdSizes(x: { readonly shape: readonly number[] }, B: { readonly shape: readonly number[] }): SsdSizes {
  const [batch, length, heads, headdim] = x.shape;
  return { batch, length, heads, headdim, groups: B.shape[2], stateSize: B.shape[3] };
}

/** The sizes of a validated step: x (batch, H, P), B (batch, G, N); length 1. */
export function ssdStepSizes(x: { readonly shape: readonly number[] }, B: { readonly shape: readonly number[] }): SsdSizes {
  const [batch, heads, headdim] = x.shape;
  return { batch, length: 1, heads, headdim, groups: B.shape[1], stateSize: B.shape[2] };
}

/** The group head h reads: ⌊h / (H/G)⌋, as mamba_ssm repeats B and C over heads. */
export function groupOfHead(h: number, heads: number, groups: number): number {
  return Math.floor(h / (heads / groups));
}
