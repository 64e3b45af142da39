/**
 * Measures what tfjs-webgpu's bound on tfjs's buffer pool (webgpuBackend.poolLimitBytes) costs and
 * saves, the numbers behind its 1 GiB: (1) time per run of one selective scan, (2, 16, 4096) with
 * N = 16, run again and again, with the pool kept to its limit against one emptied after every run
 * (blocks alternated in one process); (2) memory held after 400 tf.cumsum of random shapes (the
 * deep mode's kind of traffic) with the limit against tfjs's own pool, which frees nothing, each in
 * a child process of its own, read from /proc/self/status.
 * Usage: npx tsx bench/tfjs-webgpu-pool.ts   (needs a WebGPU adapter; Linux for the memory part)
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import implementations from '../implementations/tfjs/index.ts';
import { pooledBytes, webgpuBackend, webgpuBufferPool } from '../implementations/tfjs/backends/webgpu.ts';
import type { Problem } from '../spec/families.ts';

/** A deterministic uniform in [0, 1). */
function uniform(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 16807) % 2147483647) / 2147483647;
}

/** The repeated problem: a selective scan of batch 2, dim 16, length 4096, N = 16. */
function scanProblem(): Problem<'selective-scan'> {
  const next = uniform(7);
  const values = (count: number, scale: number, offset = 0) => Float32Array.from({ length: count }, () => offset + scale * next());
  const [batch, dim, length, N] = [2, 16, 4096, 16];
  return {
    family: 'selective-scan',
    inputs: {
      u: { data: values(batch * dim * length, 1, -0.5), shape: [batch, dim, length] },
      delta: { data: values(batch * dim * length, 0.1), shape: [batch, dim, length] },
      A: { data: values(dim * N, -1), shape: [dim, N] },
      B: { data: values(batch * N * length, 1, -0.5), shape: [batch, N, length] },
      C: { data: values(batch * N * length, 1, -0.5), shape: [batch, N, length] },
    },
    options: { deltaSoftplus: false },
  };
}

/** GB of a /proc/self/status field given in kB. */
function statusGb(field: string): number {
  return (Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) * 1024) / 1e9;
}

/** Part (2) in this process: 400 cumsums of random shapes; prints one JSON line. */
async function cumsumTraffic(limited: boolean): Promise<void> {
  await webgpuBackend.setup();
  await tf.setBackend('webgpu');
  const next = uniform(1);
  for (let i = 0; i < 400; i++) {
    const shape = [1 + Math.floor(next() * 16), 1 + Math.floor(next() * 16), 1 + Math.floor(next() * 4096)];
    const x = tf.randomNormal(shape, 0, 1, 'float32', 3);
    const y = tf.tidy(() => tf.cumsum(tf.mul(x, 2), 2));
    await y.data();
    x.dispose();
    y.dispose();
    if (limited) webgpuBackend.releasePooledMemory!();
  }
  const pool = webgpuBufferPool();
  console.log(JSON.stringify({ peakGb: statusGb('VmHWM'), sharedGb: statusGb('RssShmem'), pooledGb: pool === undefined ? null : pooledBytes(pool) / 1e9 }));
  process.exit(0);
}

async function main(): Promise<void> {
  const webgpu = implementations.find((i) => i.name === 'tfjs-webgpu')!;
  await webgpu.setup!();
  const run = webgpu.families['selective-scan']!.run;
  const problem = scanProblem();
  const limit = webgpuBackend.poolLimitBytes;
  await run(problem);
  console.log(`one run leaves ${(pooledBytes(webgpuBufferPool()!) / 1e6).toFixed(0)} MB of buffers in the pool`);
  const times: Record<'limit' | 'none', number[]> = { limit: [], none: [] };
  for (let block = 0; block < 4; block++) {
    const mode = block % 2 === 0 ? 'limit' : 'none';
    webgpuBackend.poolLimitBytes = mode === 'limit' ? limit : 0;
    await run(problem);
    const started = performance.now();
    for (let i = 0; i < 5; i++) await run(problem);
    times[mode].push((performance.now() - started) / 5);
  }
  webgpuBackend.poolLimitBytes = limit;
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  console.log(`repeated selective scan, ms per run: pool kept to ${limit / 2 ** 30} GiB ${times.limit.map((t) => t.toFixed(0)).join(', ')}; emptied after every run ${times.none.map((t) => t.toFixed(0)).join(', ')}; ratio ${(mean(times.none) / mean(times.limit)).toFixed(2)}`);
  for (const mode of ['tfjs', 'limit'] as const) {
    const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--traffic', mode], { encoding: 'utf8', env: process.env });
    const line = child.stdout.split('\n').find((l) => l.startsWith('{'));
    console.log(`400 cumsums of random shapes, ${mode === 'tfjs' ? "tfjs's pool alone" : 'pool kept to the limit'}: ${line ?? `no result (exit ${child.status}): ${child.stderr.slice(-300)}`}`);
  }
  process.exit(0);
}

const traffic = process.argv.indexOf('--traffic');
if (traffic >= 0) await cumsumTraffic(process.argv[traffic + 1] === 'limit');
else await main();
