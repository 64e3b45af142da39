/** The sizes of a mamba3-siso problem, read from its tensors' shapes (spec/families/mamba3-siso/mamba3-siso.md). */
import type { SsdSizes } from '../ssd/dimensions.ts';

export { groupOfHead as qkHeadOfHead } from '../ssd/dimensions.ts';

/** Sizes of a mamba3-siso problem or step: ssd's, where G counts the Q/K heads of N channels, and A angles. */
export interface Mamba3SisoSizes extends SsdSizes {
  readonly angles: number;
}

/** The sizes of a validated run: V (batch, L, H, P), Q (batch, L, G, N), Angles (batch, L, H, A). */
export function mamba3SisoSizes(V: { readonly shape: readonly number[] }, Q: { readonly shape: readonly number[] }, Angles: { readonly shape: readonly number[] }): Mamba3SisoSizes {
  const [batch, length, heads, headdim] = V.shape;
  return { batch, length, heads, headdim, groups: Q.shape[2], stateSize: Q.shape[3], angles: Angles.shape[3] };
}

/** The sizes of a validated step: V (batch, H, P), Q (batch, G, N), Angles (batch, H, A); length 1. */
export function mamba3SisoStepSizes(V: { readonly shape: readonly number[] }, Q: { readonly shape: readonly number[] }, Angles: { readonly shape: readonly number[] }): Mamba3SisoSizes {
  const [batch, heads, headdim] = V.shape;
  return { batch, length: 1, heads, headdim, groups: Q.shape[1], stateSize: Q.shape[2], angles: Angles.shape[2] };
}
