// A complete plug-in: a float32 linear recurrence, checked by the whole suite with
//   npx scan-conformance check --impl ./examples/my-implementation.ts
import { defineImplementation } from 'scan-conformance';

export default defineImplementation({
  name: 'my-linear-recurrence',
  precision: 'float32', // the arithmetic it computes in: sets the unit roundoff of its tolerance
  families: {
    'linear-recurrence': {
      async run({ inputs: { a, b, h0 }, options: { reverse } }) {
        const [batch, dim, L] = a.shape;
        const h = new Float32Array(batch * dim * L);
        const lastState = new Float32Array(batch * dim);
        for (let row = 0; row < batch * dim; row++) {
          let state = h0?.data[row] ?? 0;
          for (let i = 0; i < L; i++) {
            const t = row * L + (reverse ? L - 1 - i : i);
            state = Math.fround(Math.fround(a.data[t] * state) + b.data[t]);
            h[t] = state;
          }
          lastState[row] = state;
        }
        return { h: { data: h, shape: [batch, dim, L] }, lastState: { data: lastState, shape: [batch, dim] } };
      },
    },
  },
});
