/**
 * The chunked WGSL ssd of implementations/webgpu against a float64 sequential loop written here:
 * every chunk size on lengths around them (ragged tails), seqIdx with sequences of length 1,
 * groups 1, 2 and H, both shapes of D, z, dtBias, dtLimit, initialStates, L = 0, batch = 0, the
 * step, float16 storage; and a kernel that ignores seqIdx failing. Without an adapter the tests
 * skip with the reason, unless REQUIRE_WEBGPU=1, when the availability test fails instead.
 */
import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import type { Problem, SsdInputs, SsdOptions, SsdStepInputs } from '../../../spec/families.ts';
import { effectiveDt, dtLimits, silu } from '../../../spec/families/ssd/discretization.ts';
import { groupOfHead, type SsdSizes } from '../../../spec/families/ssd/dimensions.ts';
import { ImplementationDeclinedError } from '../../../spec/implementation.ts';
import { float16Bits, float16Value } from '../../../spec/float16.ts';
import { UNIT_ROUNDOFF } from '../../../spec/precision.ts';
import type { Tensor } from '../../../spec/tensor.ts';
import { sequenceLabels, SSD_CHUNK_SIZES, ssdFamily } from '../../../implementations/webgpu/family-ssd.ts';
import { createWebGpuImplementation, type WebGpuScanImplementation } from '../../../implementations/webgpu/webgpu-implementation.ts';
import { setUpAll, skipNote, itIsAvailable } from './adapter.ts';

const f32 = createWebGpuImplementation({ storage: 'f32', name: 'webgpu-f32 (ssd test)' });
const f16 = createWebGpuImplementation({ storage: 'f16', name: 'webgpu-f16 (ssd test)' });
const [f32Unavailable, f16Unavailable] = await setUpAll(f32, f16);

interface Case extends SsdSizes {
  readonly dtSoftplus: boolean;
  readonly D?: 'head' | 'channel';
  readonly z?: boolean;
  readonly dtBias?: boolean;
  readonly dtLimit?: readonly [number, number];
  readonly initialStates?: boolean;
  /** Sequences per row: each row is cut at this many random places (one more sequence each). */
  readonly cuts?: number;
}

/** A seeded ssd problem; A < 0 and Δ ≤ ~1.4 keep the decays in (0, 1) as in trained models. */
function problemOf(spec: Case): Problem<'ssd'> {
  const random = seedrandom(JSON.stringify(spec));
  const uniform = (lo: number, hi: number) => lo + (hi - lo) * random();
  const { batch, length: L, heads: H, headdim: P, groups: G, stateSize: N } = spec;
  const tensor = (shape: number[], lo: number, hi: number): Tensor => ({
    data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => uniform(lo, hi)),
    shape,
  });
  const inputs: { -readonly [K in keyof SsdInputs]: SsdInputs[K] } = {
    x: tensor([batch, L, H, P], -1, 1),
    dt: spec.dtSoftplus ? tensor([batch, L, H], -3, 0.5) : tensor([batch, L, H], 0.01, 0.6),
    A: tensor([H], -1.5, -0.1),
    B: tensor([batch, L, G, N], -1, 1),
    C: tensor([batch, L, G, N], -1, 1),
  };
  if (spec.D !== undefined) inputs.D = spec.D === 'head' ? tensor([H], -1, 1) : tensor([H, P], -1, 1);
  if (spec.z) inputs.z = tensor([batch, L, H, P], -2, 2);
  if (spec.dtBias) inputs.dtBias = tensor([H], -0.5, 0.5);
  if (spec.dtLimit !== undefined) inputs.dtLimit = { data: Float32Array.from(spec.dtLimit), shape: [2] };
  if (spec.initialStates) inputs.initialStates = tensor([batch, H, P, N], -1, 1);
  if (spec.cuts !== undefined) {
    const seqIdx = new Float32Array(batch * L);
    for (let b = 0; b < batch; b++) {
      // Cuts at random steps, plus t = 1 and t = L − 1 so sequences of length 1 occur at both ends.
      const cuts = new Set([1, L - 1, ...Array.from({ length: spec.cuts }, () => Math.floor(uniform(1, L)))]);
      let value = Math.floor(uniform(0, 3));
      for (let t = 0; t < L; t++) {
        if (t > 0 && cuts.has(t)) value += 1 + Math.floor(uniform(0, 3));
        seqIdx[b * L + t] = value;
      }
    }
    inputs.seqIdx = { data: seqIdx, shape: [batch, L] };
  }
  return { family: 'ssd', inputs, options: { dtSoftplus: spec.dtSoftplus } };
}

/** Outputs of the float64 sequential recurrence, and the same recurrence on absolute values (the scale errors are measured against). */
interface Sequential {
  readonly y: Float64Array;
  readonly finalStates: Float64Array;
  readonly yScale: Float64Array;
  readonly finalScale: Float64Array;
}

/** The ssd recurrence of spec/families/ssd/ssd.md, one step at a time in float64. */
function sequential(inputs: SsdInputs, options: SsdOptions): Sequential {
  const [batch, L, H, P] = inputs.x.shape;
  const [, , G, N] = inputs.B.shape;
  const { lo, hi } = dtLimits(inputs.dtLimit?.data);
  const y = new Float64Array(batch * L * H * P);
  const yScale = new Float64Array(y.length);
  const finalStates = new Float64Array(batch * H * P * N);
  const finalScale = new Float64Array(finalStates.length);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < H; h++) {
      const g = groupOfHead(h, H, G);
      for (let p = 0; p < P; p++) {
        const base = ((b * H + h) * P + p) * N;
        const state = Float64Array.from({ length: N }, (_, n) => inputs.initialStates?.data[base + n] ?? 0);
        const scale = state.map(Math.abs);
        for (let t = 0; t < L; t++) {
          const reset = t > 0 && inputs.seqIdx !== undefined && inputs.seqIdx.data[b * L + t] !== inputs.seqIdx.data[b * L + t - 1];
          const delta = effectiveDt(inputs.dt.data[(b * L + t) * H + h], inputs.dtBias?.data[h] ?? 0, options.dtSoftplus, lo, hi);
          const decay = reset ? 0 : Math.exp(delta * inputs.A.data[h]);
          const xi = ((b * L + t) * H + h) * P + p;
          const x = inputs.x.data[xi];
          let out = 0;
          let outScale = 0;
          for (let n = 0; n < N; n++) {
            const bc = ((b * L + t) * G + g) * N + n;
            const drive = delta * inputs.B.data[bc] * x;
            state[n] = decay * state[n] + drive;
            scale[n] = decay * scale[n] + Math.abs(drive);
            out += inputs.C.data[bc] * state[n];
            outScale += Math.abs(inputs.C.data[bc]) * scale[n];
          }
          if (inputs.D !== undefined) {
            const skip = inputs.D.data[inputs.D.shape.length === 2 ? h * P + p : h];
            out += skip * x;
            outScale += Math.abs(skip * x);
          }
          if (inputs.z !== undefined) {
            const gate = silu(inputs.z.data[xi]);
            out *= gate;
            outScale *= Math.abs(gate);
          }
          y[xi] = out;
          yScale[xi] = outScale;
        }
        finalStates.set(state, base);
        finalScale.set(scale, base);
      }
    }
  }
  return { y, finalStates, yScale, finalScale };
}

/**
 * Largest |got − exact| / (tolerance · scale + tiny) over y and finalStates; ≤ 1 passes. NaN and
 * ±Inf give Infinity. The scale is the recurrence on absolute values (a componentwise condition
 * scale); the tolerance covers float32 dot products of length ≤ Q + N and exp of differences of
 * cumulative sums of at most Q terms.
 */
function worstRatio(got: { y: Float32Array; finalStates: Float32Array }, exact: Sequential, tolerance: number): number {
  let worst = 0;
  const pairs: [Float32Array, Float64Array, Float64Array][] = [
    [got.y, exact.y, exact.yScale],
    [got.finalStates, exact.finalStates, exact.finalScale],
  ];
  for (const [value, reference, scale] of pairs) {
    expect(value.length).toBe(reference.length);
    for (let i = 0; i < value.length; i++) {
      const ratio = Math.abs(value[i] - reference[i]) / (tolerance * scale[i] + 2 ** -120);
      if (!Number.isFinite(ratio)) return Number.POSITIVE_INFINITY;
      worst = Math.max(worst, ratio);
    }
  }
  return worst;
}

const F32_TOLERANCE = 512 * UNIT_ROUNDOFF.float32;
// float16 storage rounds every input (relative 2^-11) and the outputs; arithmetic stays float32.
const F16_TOLERANCE = 16 * UNIT_ROUNDOFF.float16;

async function runSsd(implementation: WebGpuScanImplementation, problem: Problem<'ssd'>, chunkSize?: number) {
  const out = await implementation.families.ssd!.run(problem, chunkSize === undefined ? undefined : { chunkSize });
  return { y: out.y.data as Float32Array, finalStates: out.finalStates.data as Float32Array, shapes: [out.y.shape, out.finalStates.shape] };
}

/** float16 rounding of every input the f16 kernels read, so the loop sees what they see. */
function roundedToFloat16(problem: Problem<'ssd'>): Problem<'ssd'> {
  const round = (t: Tensor | undefined): Tensor | undefined => (t === undefined ? undefined : { data: Float32Array.from(t.data, (v) => float16Value(float16Bits(v))), shape: t.shape });
  const { dtLimit, seqIdx, ...rest } = problem.inputs;
  const rounded = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, round(v)])) as unknown as SsdInputs;
  return { ...problem, inputs: { ...rounded, ...(dtLimit === undefined ? {} : { dtLimit }), ...(seqIdx === undefined ? {} : { seqIdx }) } };
}

const BASE: Case = { batch: 2, length: 70, heads: 4, headdim: 3, groups: 2, stateSize: 5, dtSoftplus: true };

describe('WebGPU adapter for ssd', () => {
  itIsAvailable(f32Unavailable);
});

describe('sequence labels of seqIdx (host side, no GPU)', () => {
  it('start at 0 per row and step by one where seqIdx changes, whatever its values', () => {
    const seqIdx = Float32Array.from([5, 5, 9, 9, 10, 0, 3, 3, 3, 7]);
    expect([...sequenceLabels(seqIdx, 2, 5)]).toEqual([0, 0, 1, 1, 2, 0, 1, 1, 1, 2]);
  });
});

/** An ssd problem of the given length and heads (P = N = G = 1) with empty data: only its shape is read. */
function shapeOnly(length: number, heads: number): Problem<'ssd'> {
  const empty = (...shape: number[]): Tensor => ({ data: new Float32Array(0), shape });
  return {
    family: 'ssd',
    inputs: { x: empty(1, length, heads, 1), dt: empty(1, length, heads), A: empty(heads), B: empty(1, length, 1, 1), C: empty(1, length, 1, 1) },
    options: { dtSoftplus: true },
  };
}

describe('capacity per chunk size (host side, no GPU)', () => {
  it('decline() checks the default chunk size; run() declines a chunk size whose workspace does not fit', async () => {
    // 1 MiB bindings: 8 heads × 256 steps fit with chunks of 64 (0.5 MiB of matrices), not with 256 (2 MiB).
    const family = ssdFamily({
      storage: 'f32',
      engine: () => {
        throw new Error('no engine in this test');
      },
      limits: () => ({ maxStorageBufferBindingSize: 1 << 20, maxComputeWorkgroupsPerDimension: 65_535 }),
    });
    const problem = shapeOnly(256, 8);
    expect(family.decline!(problem)).toBeUndefined();
    await expect(family.run(problem, { chunkSize: 256 })).rejects.toThrow(ImplementationDeclinedError);
    await expect(family.run(problem, { chunkSize: 256 })).rejects.toThrow(/chunk size 256: buffer workspace needs \d+ bytes/);
    await expect(family.run(problem, { chunkSize: 64 })).rejects.toThrow(/no engine in this test/);
  });
});

describe.skipIf(f32Unavailable !== undefined)(`webgpu-f32 ssd against a float64 sequential loop${skipNote(f32Unavailable)}`, () => {
  it('declares its chunk sizes (one dividing few lengths) and compiles the five entry points', () => {
    expect(f32.families.ssd!.chunkSizes).toEqual(SSD_CHUNK_SIZES);
    expect(SSD_CHUNK_SIZES).toContain(48);
    const kernel = f32.kernels().find((k) => k.label === 'ssd scan (f32)');
    expect(kernel?.entryPoints).toEqual(['chunkCumsum', 'chunkWeights', 'chunkStates', 'passStates', 'chunkOutputs']);
  });

  it('every chunk size, lengths around it, seqIdx, groups 1, 2 and H, all optional inputs', async () => {
    const cases: Case[] = [];
    for (const [i, chunkSize] of SSD_CHUNK_SIZES.entries()) {
      for (const length of [chunkSize - 1, chunkSize + 1, 2 * chunkSize + 3]) {
        cases.push({
          ...BASE,
          batch: 1 + (i % 2),
          length,
          groups: [1, 2, 4][(i + length) % 3],
          dtSoftplus: i % 2 === 0,
          D: i % 2 === 0 ? 'head' : 'channel',
          z: length % 2 === 1,
          dtBias: i !== 1,
          dtLimit: ([[0.05, 0.7], [0, Infinity], [-Infinity, 0.4]] as const)[i % 3],
          initialStates: length !== chunkSize + 1,
          cuts: (i + length) % 4 === 0 ? undefined : 1 + (length % 5),
        });
      }
    }
    const before = f32.gpuStats();
    for (const [i, spec] of cases.entries()) {
      const chunkSize = SSD_CHUNK_SIZES[Math.floor(i / 3)];
      const problem = problemOf(spec);
      const got = await runSsd(f32, problem, chunkSize);
      expect(worstRatio(got, sequential(problem.inputs, problem.options), F32_TOLERANCE), `chunk ${chunkSize} ${JSON.stringify(spec)}`).toBeLessThanOrEqual(1);
    }
    expect(f32.gpuStats().dispatches - before.dispatches).toBe(5 * cases.length);
  });

  it('the same problem under every chunk size and the default', async () => {
    const problem = problemOf({ ...BASE, length: 301, heads: 6, groups: 3, D: 'channel', z: true, dtBias: true, initialStates: true, cuts: 6 });
    const exact = sequential(problem.inputs, problem.options);
    for (const chunkSize of [undefined, ...SSD_CHUNK_SIZES]) {
      expect(worstRatio(await runSsd(f32, problem, chunkSize), exact, F32_TOLERANCE), `chunk ${chunkSize}`).toBeLessThanOrEqual(1);
    }
  });

  it('a reset on the first step of a chunk and on the step after it', async () => {
    const problem = problemOf({ ...BASE, length: 50, initialStates: true });
    const seqIdx = new Float32Array(2 * 50);
    for (let t = 0; t < 50; t++) {
      seqIdx[t] = t < 16 ? 0 : 1;
      seqIdx[50 + t] = t < 17 ? 2 : t < 33 ? 3 : 4;
    }
    const packed: Problem<'ssd'> = { ...problem, inputs: { ...problem.inputs, seqIdx: { data: seqIdx, shape: [2, 50] } } };
    expect(worstRatio(await runSsd(f32, packed, 16), sequential(packed.inputs, packed.options), F32_TOLERANCE)).toBeLessThanOrEqual(1);
  });

  it('L = 0 gives initialStates (or zeros) as finalStates; batch = 0 gives empty outputs', async () => {
    const withInitial = problemOf({ ...BASE, length: 0, initialStates: true });
    const empty = await runSsd(f32, withInitial);
    expect(empty.shapes).toEqual([[2, 0, 4, 3], [2, 4, 3, 5]]);
    expect([...empty.finalStates]).toEqual([...withInitial.inputs.initialStates!.data]);
    const zeros = await runSsd(f32, problemOf({ ...BASE, length: 0 }));
    expect(zeros.finalStates.length).toBe(2 * 4 * 3 * 5);
    expect(zeros.finalStates.every((v) => v === 0)).toBe(true);
    const none = await runSsd(f32, problemOf({ ...BASE, batch: 0, length: 9 }));
    expect(none.shapes).toEqual([[0, 9, 4, 3], [0, 4, 3, 5]]);
    expect(none.y.length + none.finalStates.length).toBe(0);
  });

  it('step: one token from the given state equals the loop over L = 1', async () => {
    for (const [i, groups] of [1, 2, 4].entries()) {
      const problem = problemOf({ ...BASE, length: 1, groups, D: i === 1 ? 'channel' : 'head', z: i !== 2, dtBias: true, dtLimit: [0.1, 0.9], initialStates: true });
      const { x, dt, A, B, C, D, z, dtBias, dtLimit, initialStates } = problem.inputs;
      const drop = (t: Tensor) => ({ data: t.data, shape: [t.shape[0], ...t.shape.slice(2)] });
      const stepInputs: SsdStepInputs = {
        x: drop(x), dt: drop(dt), A, B: drop(B), C: drop(C), D, z: z && drop(z), dtBias, dtLimit, state: initialStates!,
      };
      const got = await f32.families.ssd!.step!(stepInputs, problem.options);
      expect(got.y.shape).toEqual([2, 4, 3]);
      expect(got.state.shape).toEqual([2, 4, 3, 5]);
      const ratio = worstRatio({ y: got.y.data as Float32Array, finalStates: got.state.data as Float32Array }, sequential(problem.inputs, problem.options), F32_TOLERANCE);
      expect(ratio, `groups ${groups}`).toBeLessThanOrEqual(1);
    }
  });

  it('rejects a chunk size it does not declare, naming the field', async () => {
    await expect(f32.families.ssd!.run(problemOf(BASE), { chunkSize: 32 })).rejects.toThrow(/settings\.chunkSize: expected one of 16, 48, 64, 100, 256, got 32/);
  });

  it('declines a problem whose workspace exceeds maxStorageBufferBindingSize, reading only its shape', () => {
    expect(f32.families.ssd!.decline!(shapeOnly(65536, 64))).toMatch(/buffer workspace needs \d+ bytes, beyond the device's maxStorageBufferBindingSize/);
    expect(f32.families.ssd!.decline!(problemOf(BASE))).toBeUndefined();
  });

  it('fails a kernel that ignores seqIdx (the comparison can fail)', async () => {
    const ignoring = createWebGpuImplementation({
      storage: 'f32',
      name: 'webgpu-f32-ignores-seqIdx',
      transformShader: (label, wgsl) => (label.startsWith('ssd') ? wgsl.replace('if (!flag(FLAG_SEQIDX)) { return 0.0; }', 'return 0.0;') : wgsl),
    });
    await ignoring.setup();
    try {
      const problem = problemOf({ ...BASE, cuts: 3 });
      const exact = sequential(problem.inputs, problem.options);
      expect(worstRatio(await runSsd(f32, problem), exact, F32_TOLERANCE)).toBeLessThanOrEqual(1);
      expect(worstRatio(await runSsd(ignoring, problem), exact, F32_TOLERANCE)).toBeGreaterThan(1);
    } finally {
      await ignoring.dispose();
    }
  });
});

describe.skipIf(f16Unavailable !== undefined)(`webgpu-f16 ssd (float16 storage, float32 arithmetic)${skipNote(f16Unavailable)}`, () => {
  it('matches the loop on float16-rounded inputs, with seqIdx values float16 cannot hold', async () => {
    for (const chunkSize of [16, 100]) {
      const problem = problemOf({ ...BASE, length: 130, D: 'head', z: true, dtBias: true, dtLimit: [0.05, 2], initialStates: true, cuts: 4 });
      // Values beyond 2048 are not integers in float16: the kernel must compare sequences, not values.
      const seqIdx = { data: Float32Array.from(problem.inputs.seqIdx!.data, (v) => 4097 + 2 * v), shape: problem.inputs.seqIdx!.shape };
      const packed = roundedToFloat16({ ...problem, inputs: { ...problem.inputs, seqIdx } });
      const got = await runSsd(f16, packed, chunkSize);
      expect(worstRatio(got, sequential(packed.inputs, packed.options), F16_TOLERANCE), `chunk ${chunkSize}`).toBeLessThanOrEqual(1);
    }
  });
});
