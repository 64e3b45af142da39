/** Seeded float32 test inputs for the reference tests: uniform sources shaped into the regimes the tests need. */
import seedrandom from 'seedrandom';
import { tensor, type Tensor } from '../../spec/tensor.ts';

/** A uniform [0, 1) source from a seed. */
export type Random = () => number;

/** A seeded uniform source. */
export function seeded(seed: string): Random {
  return seedrandom(seed);
}

/** A float32 with magnitude in [lo, hi) (log-uniform when the range spans decades), random sign unless positive. */
export function float32(random: Random, lo: number, hi: number, positive = false): number {
  const magnitude = hi / lo > 16 ? lo * (hi / lo) ** random() : lo + (hi - lo) * random();
  return Math.fround(positive || random() < 0.5 ? magnitude : -magnitude);
}

/** A float32 tensor of the given shape filled by `value`. */
export function filled(shape: readonly number[], value: (index: number) => number): Tensor {
  const count = shape.reduce((p, s) => p * s, 1);
  return tensor(Float32Array.from({ length: count }, (_, i) => value(i)), shape);
}
