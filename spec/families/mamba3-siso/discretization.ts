/**
 * The float64 gate of mamba3-siso's trapezoid, λ = sigmoid(Trap), in one place: the reference and
 * the tolerance model use it.
 */

/** σ(x) = 1 / (1 + e^−x) in float64, without overflow for x ≪ 0. */
export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}
