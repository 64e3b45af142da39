#!/usr/bin/env node
// An example testee in plain Node: prefix-sum and linear-recurrence, sequential, in float64 (every
// JavaScript number operation is a correctly rounded float64 operation, so 'float64' is honest).
//
//   scan-conformance check --command "node examples/testees/node/testee.mjs"
//
// Layout (spec/protocol.md): tensors are row-major (batch, dim, L), time contiguous, so channel
// (b, d) of a sequence tensor occupies [(b·dim + d)·L, (b·dim + d + 1)·L).
import { serve } from './protocol.mjs';

function prefixSum(options, { x }) {
  const [batch, dim, length] = x.shape;
  const y = new Float64Array(x.data.length);
  for (let channel = 0; channel < batch * dim; channel++) {
    const base = channel * length;
    let sum = 0;
    for (let step = 0; step < length; step++) {
      const t = base + (options.reverse ? length - 1 - step : step);
      if (options.exclusive) {
        y[t] = sum;
        sum += x.data[t];
      } else {
        sum += x.data[t];
        y[t] = sum;
      }
    }
  }
  return { y: { data: y, shape: [batch, dim, length] } };
}

function linearRecurrence(options, { a, b, h0 }) {
  const [batch, dim, length] = a.shape;
  const h = new Float64Array(a.data.length);
  const lastState = new Float64Array(batch * dim);
  for (let channel = 0; channel < batch * dim; channel++) {
    const base = channel * length;
    let state = h0 === undefined ? 0 : h0.data[channel];
    for (let step = 0; step < length; step++) {
      const t = base + (options.reverse ? length - 1 - step : step);
      state = a.data[t] * state + b.data[t];
      h[t] = state;
    }
    lastState[channel] = state;
  }
  return { h: { data: h, shape: [batch, dim, length] }, lastState: { data: lastState, shape: [batch, dim] } };
}

function prefixSumStep({ x, state }) {
  const next = new Float64Array(state.data.length);
  for (let i = 0; i < next.length; i++) next[i] = state.data[i] + x.data[i];
  return { y: { data: next, shape: state.shape }, state: { data: next.slice(), shape: state.shape } };
}

function linearRecurrenceStep({ a, b, state }) {
  const next = new Float64Array(state.data.length);
  for (let i = 0; i < next.length; i++) next[i] = a.data[i] * state.data[i] + b.data[i];
  return { y: { data: next, shape: state.shape }, state: { data: next.slice(), shape: state.shape } };
}

await serve(
  {
    name: 'node-example-f64',
    precision: 'float64',
    description: 'example testee in plain Node (examples/testees/node/testee.mjs): sequential loops in float64',
    families: { 'prefix-sum': { step: true }, 'linear-recurrence': { step: true } },
    environment: { node: process.version },
  },
  {
    run(family, options, inputs) {
      if (family === 'prefix-sum') return prefixSum(options, inputs);
      if (family === 'linear-recurrence') return linearRecurrence(options, inputs);
      throw new Error(`family ${family} is not implemented by this testee`);
    },
    step(family, _options, inputs) {
      if (family === 'prefix-sum') return prefixSumStep(inputs);
      if (family === 'linear-recurrence') return linearRecurrenceStep(inputs);
      throw new Error(`family ${family} has no step in this testee`);
    },
  },
);
