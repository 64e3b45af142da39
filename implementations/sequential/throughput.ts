/**
 * Measures the sequential loops against hand-written ones, to show that specialise.ts leaves no
 * per-element call penalty. Run: npx tsx implementations/sequential/throughput.ts
 * Not a test (speed is never asserted); the numbers it printed are quoted in specialise.ts.
 */
import { tensor } from '../../spec/tensor.ts';
import type { Problem } from '../../spec/families.ts';
import implementations from './index.ts';
import { linearRecurrenceRows } from './kernels.ts';
import { specialise } from './specialise.ts';

const L = 1 << 20;
const reps = 10;

/** Steps per second of `fn`, each call doing L steps, after a warm-up. */
async function stepsPerSecond(fn: () => unknown): Promise<number> {
  for (let k = 0; k < 3; k++) await fn();
  const start = performance.now();
  for (let k = 0; k < reps; k++) await fn();
  return (reps * L) / ((performance.now() - start) / 1000);
}

/** The hand-written float64 linear recurrence, for comparison. */
function plainF64(a: Float32Array, b: Float32Array, h: Float64Array): void {
  let state = 0;
  for (let i = 0; i < a.length; i++) {
    state = a[i] * state + b[i];
    h[i] = state;
  }
}

/** The hand-written float32 linear recurrence, for comparison. */
function plainF32(a: Float32Array, b: Float32Array, h: Float32Array): void {
  let state = 0;
  for (let i = 0; i < a.length; i++) {
    state = Math.fround(Math.fround(a[i] * state) + b[i]);
    h[i] = state;
  }
}

const a = new Float32Array(L).map(() => 0.5 + Math.random() / 2);
const b = new Float32Array(L).map(() => Math.random() * 2 - 1);
const problem: Problem<'linear-recurrence'> = {
  family: 'linear-recurrence',
  inputs: { a: tensor(a, [1, 1, L]), b: tensor(b, [1, 1, L]) },
  options: { reverse: false },
};
const mega = (x: number): string => `${(x / 1e6).toFixed(0).padStart(4)} M steps/s`;
const h64 = new Float64Array(L);
const h32 = new Float32Array(L);
const last = new Float64Array(1);
const identity = (x: number): number => x;
const f64 = specialise(linearRecurrenceRows, identity);
const f32 = specialise(linearRecurrenceRows, Math.fround);
console.log(`linear-recurrence, L = 2^20, one channel, ${reps} runs after warm-up`);
console.log(`  hand-written f64 loop                ${mega(await stepsPerSecond(() => plainF64(a, b, h64)))}`);
console.log(`  specialised kernel, identity         ${mega(await stepsPerSecond(() => f64(a, b, h64, 1, L, null, last, false)))}`);
console.log(`  hand-written f32 loop                ${mega(await stepsPerSecond(() => plainF32(a, b, h32)))}`);
console.log(`  specialised kernel, Math.fround      ${mega(await stepsPerSecond(() => f32(a, b, h32, 1, L, null, last, false)))}`);
console.log(`  shared kernel, both roundings        ${mega(await stepsPerSecond(() => (linearRecurrenceRows(identity, a, b, h64, 1, L, null, last, false), linearRecurrenceRows(Math.fround, a, b, h32, 1, L, null, last, false))) * 2)}`);
for (const implementation of implementations) {
  const run = implementation.families['linear-recurrence']!.run;
  console.log(`  ${(implementation.name + '.run (allocates h)').padEnd(36)} ${mega(await stepsPerSecond(() => run(problem)))}`);
}

// The selective scan: one (channel, token, state) triple counted as one step.
const [dim, N, tokens] = [16, 16, 4096];
const next = (lo: number, hi: number) => () => lo + Math.random() * (hi - lo);
const fill = (shape: number[], draw: () => number) => tensor(new Float32Array(shape.reduce((p, s) => p * s, 1)).map(draw), shape);
const scan: Problem<'selective-scan'> = {
  family: 'selective-scan',
  inputs: {
    u: fill([1, dim, tokens], next(-1, 1)),
    delta: fill([1, dim, tokens], next(-3, 0)),
    A: fill([dim, N], next(-2, -0.1)),
    B: fill([1, N, tokens], next(-1, 1)),
    C: fill([1, N, tokens], next(-1, 1)),
    D: fill([dim], next(-1, 1)),
    z: fill([1, dim, tokens], next(-1, 1)),
  },
  options: { deltaSoftplus: true },
};
console.log(`selective-scan, dim ${dim}, N ${N}, L ${tokens}, softplus and gate (steps = dim·N·L)`);
for (const implementation of implementations) {
  const run = implementation.families['selective-scan']!.run;
  const perSecond = (await stepsPerSecond(() => run(scan))) * ((dim * N * tokens) / L);
  console.log(`  ${implementation.name.padEnd(36)} ${mega(perSecond)}`);
}
