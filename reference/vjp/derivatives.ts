/**
 * The one-sided derivatives of the discretization, as PyTorch's autograd (and mamba_ssm's fused
 * backward kernels) take them at the points where the math is not differentiable.
 */

/** σ(x) = 1 / (1 + exp(−x)). */
export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** d softplus/dx with PyTorch's threshold 20: σ(x) for x ≤ 20, 1 above (softplus is x itself there). */
export function softplusDerivative(x: number): number {
  return x > 20 ? 1 : sigmoid(x);
}

/** d silu/dz = σ(z)·(1 + z·(1 − σ(z))); 0 where σ(z) underflows to 0, never NaN for finite z. */
export function siluDerivative(z: number): number {
  const s = sigmoid(z);
  return s * (1 + z * (1 - s));
}

/**
 * The condition scale of silu'(z) = σ + z·σ·(1 − σ): the same two terms in absolute value,
 * σ·(1 + |z|·(1 − σ)). silu' crosses 0 (near z ≈ −1.28) by cancellation between them, so its own
 * magnitude does not bound the rounding error of a computed silu'; this does.
 */
export function siluDerivativeScale(z: number): number {
  const s = sigmoid(z);
  return s * (1 + Math.abs(z) * (1 - s));
}

/** d clamp(v, lo, hi)/dv as torch.clamp's backward: 1 for lo ≤ v ≤ hi (the bounds included), else 0. */
export function clampDerivative(v: number, lo: number, hi: number): number {
  return v >= lo && v <= hi ? 1 : 0;
}
