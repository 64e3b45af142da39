/**
 * What the tfjs ssd (chunked matMul form) costs per chunk size on a Mamba-2-130m-like shape
 * (batch 1, L 2048, H 24, P 64, N 128, G 1), in state-steps per second (batch·L·H·P·N / time).
 * Usage: npx tsx bench/tfjs-ssd-cost.ts [cpu|wasm|webgpu ...] (default cpu wasm)
 */
import type { Problem } from '../spec/families.ts';
import type { ScanImplementation } from '../spec/implementation.ts';
import implementations from '../implementations/tfjs/index.ts';
import { SSD_CHUNK_SIZES } from '../implementations/tfjs/ssd.ts';
import { medianMs } from './median-time.ts';

const [BATCH, LENGTH, HEADS, HEADDIM, STATE] = [1, 2048, 24, 64, 128];

/** A deterministic ssd problem of the Mamba-2-130m-like shape, with dtSoftplus, dtBias and D as the model runs it. */
function problem(): Problem<'ssd'> {
  let seed = 12345;
  const next = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  const tensor = (shape: number[], scale = 1, offset = 0) => ({
    data: Float32Array.from({ length: shape.reduce((n, s) => n * s, 1) }, () => offset + scale * next()),
    shape,
  });
  return {
    family: 'ssd',
    inputs: {
      x: tensor([BATCH, LENGTH, HEADS, HEADDIM]),
      dt: tensor([BATCH, LENGTH, HEADS], 1, -3),
      A: tensor([HEADS], 0.5, -1),
      B: tensor([BATCH, LENGTH, 1, STATE]),
      C: tensor([BATCH, LENGTH, 1, STATE]),
      D: tensor([HEADS]),
      dtBias: tensor([HEADS], 0.25, 0.25),
    },
    options: { dtSoftplus: true },
  };
}

async function measure(implementation: ScanImplementation): Promise<void> {
  const family = implementation.families.ssd;
  if (family === undefined) return;
  await implementation.setup?.();
  try {
    const input = problem();
    for (const chunkSize of SSD_CHUNK_SIZES) {
      const ms = await medianMs(() => family.run(input, { chunkSize }), 3);
      const stateSteps = BATCH * LENGTH * HEADS * HEADDIM * STATE;
      console.log(`${implementation.name}  chunk ${chunkSize}  ${(ms / 1000).toFixed(2)} s  ${(stateSteps / (ms / 1000) / 1e6).toFixed(1)} M state-steps/s`);
    }
  } finally {
    await implementation.dispose?.();
  }
}

const wanted = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['cpu', 'wasm'];
for (const implementation of implementations.filter((i) => wanted.some((w) => i.name === `tfjs-${w}`))) {
  await measure(implementation);
}
