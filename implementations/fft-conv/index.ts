/** FFT-convolution implementations for time-invariant SSMs: fft-conv-f64 and fft-conv-f32. */
import { createFftConv } from './fft-conv.ts';

export default [createFftConv('float64'), createFftConv('float32')];
