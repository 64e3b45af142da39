/** A seeded source of float32 test tensors, free of the reference so that tests with their own float64 loop need nothing else. */
import seedrandom from 'seedrandom';
import type { Tensor } from '../../../spec/tensor.ts';

/** A seeded source of float32 tensors with values uniform in [lo, hi). */
export function tensorSource(seed: string): (shape: readonly number[], lo?: number, hi?: number) => Tensor {
  const random = seedrandom(seed);
  return (shape, lo = -1, hi = 1) => ({
    data: Float32Array.from({ length: shape.reduce((n, s) => n * s, 1) }, () => lo + (hi - lo) * random()),
    shape: [...shape],
  });
}
