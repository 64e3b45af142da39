/**
 * Ad-hoc speed check of the double-double recurrence against a plain float64 loop (not a test:
 * speed targets live in benchmarks). Run: npx tsx reference/benchmark-double-double.ts
 */
import { DoubleDouble, mulAdd, toNumber } from './double-double.ts';
import { advance, RecurrenceState } from './recurrence-state.ts';

const steps = 10_000_000;
const a = new Float64Array(1024);
const b = new Float64Array(1024);
for (let i = 0; i < a.length; i++) {
  a[i] = 0.999 + 0.001 * Math.random();
  b[i] = Math.random() - 0.5;
}

/** Steps per second of `body`, best of three runs. */
function rate(body: () => number): number {
  let best = 0;
  for (let run = 0; run < 3; run++) {
    const start = performance.now();
    const sink = body();
    const seconds = (performance.now() - start) / 1000;
    if (!Number.isFinite(sink)) throw new Error('diverged');
    best = Math.max(best, steps / seconds);
  }
  return best;
}

const float64 = rate(() => {
  let h = 0;
  for (let t = 0; t < steps; t++) h = a[t & 1023] * h + b[t & 1023];
  return h;
});
const doubleDouble = rate(() => {
  const h = new DoubleDouble();
  for (let t = 0; t < steps; t++) mulAdd(h, a[t & 1023], b[t & 1023]);
  return toNumber(h);
});
const withScales = rate(() => {
  const state = new RecurrenceState();
  for (let t = 0; t < steps; t++) advance(state, a[t & 1023], b[t & 1023]);
  return toNumber(state.value) + toNumber(state.depthScale);
});

const format = (r: number): string => `${(r / 1e6).toFixed(0)} M steps/s`;
console.log(`float64 loop:                      ${format(float64)}`);
console.log(`double-double mulAdd:              ${format(doubleDouble)} (${(float64 / doubleDouble).toFixed(1)}x slower)`);
console.log(`reference step (value, S and W):   ${format(withScales)} (${(float64 / withScales).toFixed(1)}x slower)`);
