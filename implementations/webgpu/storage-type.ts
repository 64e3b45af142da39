/** The element type of the kernels' input and output buffers, and the WGSL that reads and writes it. */

/** Storage element type: float32, or float16 (WGSL `enable f16;`) with float32 arithmetic. */
export type StorageType = 'f32' | 'f16';

/** Bytes per stored element. */
export function bytesPerElement(storage: StorageType): number {
  return storage === 'f16' ? 2 : 4;
}

/**
 * WGSL prelude for a storage type: the `enable` directive, and `toStorage` which rounds an f32
 * result into the buffer. For f16 it sends magnitudes that round past 65504 to ±Inf explicitly,
 * because WGSL leaves an out-of-range f32 → f16 conversion indeterminate; the Inf pattern comes
 * from a runtime bitcast (`infinityBits`) since WGSL constant expressions cannot hold Inf.
 */
export function storagePrelude(storage: StorageType): string {
  if (storage === 'f32') {
    return /* wgsl */ `
alias Stored = f32;
fn toStorage(v: f32, infinityBits: u32) -> f32 { return v; }
`;
  }
  return /* wgsl */ `
enable f16;
alias Stored = f16;
fn toStorage(v: f32, infinityBits: u32) -> f16 {
  if (abs(v) >= 65520.0) {
    let infinity = bitcast<vec2<f16>>(infinityBits).x;
    return select(-infinity, infinity, v > 0.0);
  }
  return f16(v);
}
`;
}

/** The bit pattern the kernels bitcast to +Inf (two f16 infinities; unused by f32 kernels). */
export const INFINITY_BITS = 0x7c007c00;

/**
 * The storage bindings of a kernel module, binding i + 1 for names[i] (binding 0 is its uniform
 * params): arrays of Stored, but for the one float32 scratch buffer `float32Buffer`, read_write
 * where `written` holds the name.
 */
export function storageBindings<Name extends string>(names: readonly Name[], written: ReadonlySet<Name>, float32Buffer: Name): string {
  return names
    .map((name, i) => `@group(0) @binding(${i + 1}) var<storage, ${written.has(name) ? 'read_write' : 'read'}> ${name}: array<${name === float32Buffer ? 'f32' : 'Stored'}>;`)
    .join('\n');
}
