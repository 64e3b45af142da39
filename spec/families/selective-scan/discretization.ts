/**
 * The float64 discretization of the selective scan, as mamba_ssm's selective_scan_ref computes it
 * (in float64 here): the effective step Δ', the softplus that produces it, and the SiLU gate.
 * The normative formulas of the family, in one place: the reference, its tests and the tolerance
 * model use them.
 */

/** PyTorch's softplus with β = 1 and threshold 20: log1p(exp(x)), or x itself for x > 20. */
export function softplus(x: number): number {
  return x > 20 ? x : Math.log1p(Math.exp(x));
}

/** The SiLU gate z·σ(z) = z / (1 + exp(−z)), in float64 (−0 for z far below 0, never NaN for finite z). */
export function silu(z: number): number {
  return z / (1 + Math.exp(-z));
}

/** The effective step Δ' = Δ + bias, through softplus when deltaSoftplus is set; float64. */
export function effectiveDelta(delta: number, bias: number, deltaSoftplus: boolean): number {
  const shifted = delta + bias;
  return deltaSoftplus ? softplus(shifted) : shifted;
}
