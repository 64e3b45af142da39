/** Scratch and output storage of a kernel (float32 kernels store in Float32Array, float64 in Float64Array), and inputs read in place. */
export type ScanArray = Float32Array | Float64Array;
