/**
 * Measures the accuracy of the tf ops the selective scan's discretization rests on, per backend,
 * in ulps of float32 against float64 Math: the numbers behind activations.ts.
 * Usage: npx tsx bench/tfjs-accuracy.ts [cpu|wasm|webgpu ...]
 */
import * as tf from '@tensorflow/tfjs-core';
import { softplus as referenceSoftplus } from '../reference/index.ts';
import type { TfjsBackend } from '../implementations/tfjs/backend.ts';
import { accurateLog1p, silu, softplus } from '../implementations/tfjs/activations.ts';
import { cpuBackend } from '../implementations/tfjs/backends/cpu.ts';
import { wasmBackend } from '../implementations/tfjs/backends/wasm.ts';
import { webgpuBackend } from '../implementations/tfjs/backends/webgpu.ts';
import { withBackend } from '../implementations/tfjs/exclusive-backend.ts';

const ULP = 2 ** -24;

/** n points spaced evenly on [lo, hi], rounded to float32. */
function grid(lo: number, hi: number, n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
}

/** n points log-spaced on [10^lo, 10^hi], rounded to float32. */
function logGrid(lo: number, hi: number, n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => 10 ** (lo + ((hi - lo) * i) / (n - 1)));
}

const CASES: readonly { name: string; x: Float32Array; op: (t: tf.Tensor) => tf.Tensor; exact: (x: number) => number }[] = [
  { name: 'tf.exp on [-40, 40]', x: grid(-40, 40, 20001), op: tf.exp, exact: Math.exp },
  { name: 'tf.log near 1', x: Float32Array.from(logGrid(-7, 0, 20001), (y) => 1 + y), op: tf.log, exact: Math.log },
  { name: 'tf.log1p on [1e-12, 1]', x: logGrid(-12, 0, 20001), op: tf.log1p, exact: Math.log1p },
  { name: 'accurateLog1p on [1e-12, 1]', x: logGrid(-12, 0, 20001), op: accurateLog1p, exact: Math.log1p },
  { name: 'tf.softplus on [-40, 40]', x: grid(-40, 40, 20001), op: tf.softplus, exact: referenceSoftplus },
  { name: 'softplus (ours) on [-40, 40]', x: grid(-40, 40, 20001), op: softplus, exact: referenceSoftplus },
  { name: 'silu (ours) on [-40, 40]', x: grid(-40, 40, 20001), op: silu, exact: (z) => z / (1 + Math.exp(-z)) },
];

async function measure(backend: TfjsBackend): Promise<void> {
  await backend.setup();
  try {
    for (const { name, x, op, exact } of CASES) {
      const got = await withBackend(backend.backendName, async () => {
        const result = tf.tidy(() => op(tf.tensor1d(x)));
        const values = await result.data();
        result.dispose();
        return values;
      });
      let worst = 0;
      let at = Number.NaN;
      for (let i = 0; i < x.length; i++) {
        const expected = exact(x[i]);
        if (expected === 0 || !Number.isFinite(expected)) continue;
        const error = Math.abs(got[i] - expected) / Math.abs(expected) / ULP;
        if (!(error <= worst)) [worst, at] = [error, x[i]];
      }
      console.log(`${backend.backendName.padEnd(7)} ${name.padEnd(30)} max ${worst.toPrecision(3)} ulp at x = ${at.toPrecision(4)}`);
    }
  } finally {
    await backend.dispose();
  }
}

const wanted = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['cpu', 'wasm', 'webgpu'];
for (const backend of [cpuBackend, wasmBackend, webgpuBackend].filter((b) => wanted.includes(b.backendName))) {
  await measure(backend);
}
