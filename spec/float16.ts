/**
 * The one codec of the 16-bit formats: float32 ↔ IEEE binary16 bit patterns (float16 kernels'
 * storage buffers, F16 safetensors) and bfloat16 patterns to numbers. Rounding is to nearest, ties
 * to even, with gradual underflow, so the input rounding an f16 kernel adds is exactly the one
 * spec/precision.ts promises.
 */

/** Smallest magnitude that rounds to ±Infinity in float16 (65504 + half an ulp). */
export const FLOAT16_OVERFLOW_THRESHOLD = 65520;

const scratch = new DataView(new ArrayBuffer(4));

/** The float16 bit pattern nearest to a float32 value (ties to even). */
export function float16Bits(value: number): number {
  scratch.setFloat32(0, value);
  const bits = scratch.getUint32(0);
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0);
  const unbiased = exponent - 127;
  if (unbiased > 15) return sign | 0x7c00;
  if (unbiased >= -14) {
    // Normal range: keep 10 mantissa bits, round the 13 dropped ones; a carry may bump the exponent.
    const half = ((unbiased + 15) << 10) | (mantissa >>> 13);
    return sign | roundDropped(half, mantissa & 0x1fff, 13);
  }
  if (unbiased < -25) return sign;
  // Subnormal: the implicit 1 becomes explicit and shifts right with the rest.
  const full = mantissa | 0x800000;
  const shift = -unbiased - 14 + 13;
  return sign | roundDropped(full >>> shift, full & ((1 << shift) - 1), shift);
}

/** The float32 value of a float16 bit pattern (exact). */
export function float16Value(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : Number.NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** Rounds float32 values to float16 bit patterns, padded to an even count (buffers are 4-byte sized). */
export function toFloat16Array(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length + (values.length % 2));
  for (let i = 0; i < values.length; i++) out[i] = float16Bits(values[i]);
  return out;
}

/** Widens float16 bit patterns to float32 values (exact). */
export function fromFloat16Array(bits: Uint16Array, count: number = bits.length): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = float16Value(bits[i]);
  return out;
}

function roundDropped(kept: number, dropped: number, droppedBits: number): number {
  const halfway = 1 << (droppedBits - 1);
  if (dropped > halfway || (dropped === halfway && (kept & 1) === 1)) return kept + 1;
  return kept;
}

/** The number a bfloat16 bit pattern stands for (the high half of a float32). */
export function bfloat16Value(bits: number): number {
  scratch.setUint32(0, (bits & 0xffff) << 16);
  return scratch.getFloat32(0);
}
