/**
 * A correct float32 prefix sum that declines reverse problems by throwing an
 * ImplementationDeclinedError of its own: the class of that name from another copy of the package,
 * as a module gets when it resolves an install of its own. Its declines must count as declines.
 */
class ImplementationDeclinedError extends Error {
  override readonly name = 'ImplementationDeclinedError';
}

export default {
  name: 'test/declines-with-its-own-class',
  precision: 'float32',
  families: {
    'prefix-sum': {
      async run({ inputs: { x }, options: { exclusive, reverse } }: { inputs: { x: { data: Float32Array; shape: number[] } }; options: { exclusive: boolean; reverse: boolean } }) {
        if (reverse) throw new ImplementationDeclinedError('this kernel sums forward only');
        const [batch, dim, L] = x.shape;
        const y = new Float32Array(batch * dim * L);
        for (let row = 0; row < batch * dim; row++) {
          let sum = 0;
          for (let t = row * L; t < (row + 1) * L; t++) {
            if (exclusive) y[t] = sum;
            sum = Math.fround(sum + x.data[t]);
            if (!exclusive) y[t] = sum;
          }
        }
        return { y: { data: y, shape: [batch, dim, L] } };
      },
    },
  },
};
