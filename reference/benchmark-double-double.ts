/**
 * Ad-hoc speed check of the double-double recurrence against a plain float64 loop (not a test:
 * speed targets live in benchmarks). The loops are interleaved and each keeps its best of five
 * runs, so that load from other processes distorts the ratios less.
 * Run: npx tsx reference/benchmark-double-double.ts
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

const loops: Record<string, () => number> = {
  'float64 loop h = a·h + b': () => {
    let h = 0;
    for (let t = 0; t < steps; t++) h = a[t & 1023] * h + b[t & 1023];
    return h;
  },
  'double-double mulAdd': () => {
    const h = new DoubleDouble();
    for (let t = 0; t < steps; t++) mulAdd(h, a[t & 1023], b[t & 1023]);
    return toNumber(h);
  },
  'reference step (h, S and W)': () => {
    const state = new RecurrenceState();
    for (let t = 0; t < steps; t++) advance(state, a[t & 1023], b[t & 1023]);
    return toNumber(state.value) + state.depthScale;
  },
};

const best: Record<string, number> = {};
for (let run = 0; run < 5; run++) {
  for (const [name, body] of Object.entries(loops)) {
    const start = performance.now();
    const sink = body();
    const rate = steps / ((performance.now() - start) / 1000);
    if (!Number.isFinite(sink)) throw new Error(`${name} diverged`);
    best[name] = Math.max(best[name] ?? 0, rate);
  }
}
const baseline = best['float64 loop h = a·h + b'];
for (const [name, rate] of Object.entries(best)) {
  console.log(`${name.padEnd(30)} ${(rate / 1e6).toFixed(0).padStart(4)} M steps/s  (${(baseline / rate).toFixed(1)}× the float64 time)`);
}
