#!/usr/bin/env node
// A chunked linear-recurrence testee for the chunk-size tests (test/protocol/chunk-sizes.test.ts):
// it declares chunkSizes [2, 5, 7] for linear-recurrence and none for prefix-sum, computes each
// run in chunks of the requested size (default 2), and writes every run's settings to stderr so a
// test can see what arrived. Mode (argv[2]) 'lose-carry-at-5' drops the carry between chunks of
// size 5 only: a bug that only the chunk-size property, which asks for every size, can see.
import { serve } from '../../../examples/testees/node/protocol.mjs';

const mode = process.argv[2] ?? 'correct';
const DEFAULT_CHUNK_SIZE = 2;

// Chunk by chunk: a local scan from zero state and the chunk's product of a, then the carry-in
// added through the product — the decomposition a parallel chunked kernel uses.
function linearRecurrence(options, { a, b, h0 }, chunkSize) {
  const [batch, dim, length] = a.shape;
  const h = new Float64Array(a.data.length);
  const lastState = new Float64Array(batch * dim);
  for (let channel = 0; channel < batch * dim; channel++) {
    const base = channel * length;
    const at = (step) => base + (options.reverse ? length - 1 - step : step);
    let carry = h0 === undefined ? 0 : h0.data[channel];
    for (let start = 0; start < length; start += chunkSize) {
      let local = 0;
      let product = 1;
      for (let step = start; step < Math.min(start + chunkSize, length); step++) {
        const t = at(step);
        local = a.data[t] * local + b.data[t];
        product *= a.data[t];
        h[t] = local + product * carry;
      }
      const last = h[at(Math.min(start + chunkSize, length) - 1)];
      carry = mode === 'lose-carry-at-5' && chunkSize === 5 ? local : last;
    }
    lastState[channel] = length === 0 ? carry : h[at(length - 1)];
  }
  return { h: { data: h, shape: [batch, dim, length] }, lastState: { data: lastState, shape: [batch, dim] } };
}

function prefixSum(options, { x }) {
  const [batch, dim, length] = x.shape;
  const y = new Float64Array(x.data.length);
  for (let channel = 0; channel < batch * dim; channel++) {
    let sum = 0;
    for (let step = 0; step < length; step++) {
      const t = channel * length + (options.reverse ? length - 1 - step : step);
      if (options.exclusive) y[t] = sum;
      sum += x.data[t];
      if (!options.exclusive) y[t] = sum;
    }
  }
  return { y: { data: y, shape: [batch, dim, length] } };
}

await serve(
  {
    name: `chunked-${mode}`,
    precision: 'float64',
    families: { 'linear-recurrence': { chunkSizes: [2, 5, 7] }, 'prefix-sum': {} },
  },
  {
    run(family, options, inputs, settings) {
      process.stderr.write(`run ${family} settings ${JSON.stringify(settings)}\n`);
      if (family === 'prefix-sum') return prefixSum(options, inputs);
      return linearRecurrence(options, inputs, settings.chunkSize ?? DEFAULT_CHUNK_SIZE);
    },
  },
);
