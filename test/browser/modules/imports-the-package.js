// A module for the browser page written as for Node: it imports defineImplementation and
// ImplementationDeclinedError from 'scan-conformance' by name, which the page's import map points
// at the page's own bundle. A float32 linear recurrence in plain JavaScript (no GPU) that declines
// reverse problems by throwing the imported error: the suite must count those as declined, which it
// does only if the class is the page's own.
import { defineImplementation, ImplementationDeclinedError } from 'scan-conformance';

export default defineImplementation({
  name: 'browser/imports-the-package',
  precision: 'float32',
  families: {
    'linear-recurrence': {
      async run({ inputs: { a, b, h0 }, options: { reverse } }) {
        if (reverse) throw new ImplementationDeclinedError('this kernel scans forward only');
        const [batch, dim, L] = a.shape;
        const h = new Float32Array(batch * dim * L);
        const lastState = new Float32Array(batch * dim);
        for (let row = 0; row < batch * dim; row++) {
          let state = h0?.data[row] ?? 0;
          for (let t = row * L; t < (row + 1) * L; t++) {
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
