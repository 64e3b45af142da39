/**
 * The float64 discretization of ssd (spec/families/ssd/ssd.md): the effective step Δ of a head,
 * softplus then the dtLimit clamp, in one place for the reference, its tests and the tolerance
 * model. Softplus and the gate are selective-scan's (same PyTorch semantics).
 */
import { softplus } from '../selective-scan/discretization.ts';

export { silu, softplus } from '../selective-scan/discretization.ts';

/** The limits (lo, hi) of a dtLimit tensor's data, or no limit: (−∞, +∞). */
export function dtLimits(dtLimit: ArrayLike<number> | undefined): { readonly lo: number; readonly hi: number } {
  return dtLimit === undefined ? { lo: Number.NEGATIVE_INFINITY, hi: Number.POSITIVE_INFINITY } : { lo: dtLimit[0], hi: dtLimit[1] };
}

/** Δ = clamp(softplus(dt + bias), lo, hi), softplus only when dtSoftplus is set; float64. The clamp follows softplus, as in mamba_ssm's _chunk_cumsum_fwd. */
export function effectiveDt(dt: number, bias: number, dtSoftplus: boolean, lo: number, hi: number): number {
  const shifted = dt + bias;
  const delta = dtSoftplus ? softplus(shifted) : shifted;
  return Math.min(Math.max(delta, lo), hi);
}
