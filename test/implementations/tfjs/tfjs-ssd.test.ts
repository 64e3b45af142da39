/**
 * The tfjs ssd (Mamba-2's chunked matrix form) on the cpu and wasm backends against a float64
 * sequential loop written here from spec/families/ssd/ssd.md: seqIdx resets (inside a chunk, on a
 * chunk start, sequences of length 1), groups, both shapes of D, z, dtBias, dtLimit, initialStates,
 * ragged tails under two chunk sizes, L = 0, batch = 0 and the one-token step.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SsdInputs, SsdOptions, SsdOutputs, SsdStepInputs } from '../../../spec/families.ts';
import { groupOfHead } from '../../../spec/families/ssd/dimensions.ts';
import { dtLimits, effectiveDt, silu } from '../../../spec/families/ssd/discretization.ts';
import { ImplementationUnavailableError, type FamilyImplementation, type ScanImplementation } from '../../../spec/implementation.ts';
import type { Tensor } from '../../../spec/tensor.ts';
import implementations from '../../../implementations/tfjs/index.ts';
import { SSD_CHUNK_SIZES } from '../../../implementations/tfjs/ssd.ts';
import { tensorSource } from './tensor-source.ts';

const U = 2 ** -24;

/** The recurrence in float64, and per output its scale: the same loop on absolute values (the sum the rounding errors are relative to). */
function sequentialSsd(inputs: SsdInputs, options: SsdOptions): { y: Float64Array; finalStates: Float64Array; yScale: Float64Array; stateScale: Float64Array } {
  const [batch, L, H, P] = inputs.x.shape;
  const [, , G, N] = inputs.B.shape;
  const { lo, hi } = dtLimits(inputs.dtLimit?.data);
  const y = new Float64Array(batch * L * H * P);
  const yScale = new Float64Array(y.length);
  const finalStates = new Float64Array(batch * H * P * N);
  const stateScale = new Float64Array(finalStates.length);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < H; h++) {
      const g = groupOfHead(h, H, G);
      for (let p = 0; p < P; p++) {
        const state = new Float64Array(N);
        const absState = new Float64Array(N);
        for (let n = 0; n < N; n++) {
          state[n] = inputs.initialStates?.data[((b * H + h) * P + p) * N + n] ?? 0;
          absState[n] = Math.abs(state[n]);
        }
        for (let t = 0; t < L; t++) {
          const reset = inputs.seqIdx !== undefined && t > 0 && inputs.seqIdx.data[b * L + t] !== inputs.seqIdx.data[b * L + t - 1];
          const delta = effectiveDt(inputs.dt.data[(b * L + t) * H + h], inputs.dtBias?.data[h] ?? 0, options.dtSoftplus, lo, hi);
          const decay = reset ? 0 : Math.exp(delta * inputs.A.data[h]);
          const xi = (b * L + t) * H * P + h * P + p;
          const x = inputs.x.data[xi];
          let out = 0;
          let outScale = 0;
          for (let n = 0; n < N; n++) {
            const bc = ((b * L + t) * G + g) * N + n;
            state[n] = decay * state[n] + delta * inputs.B.data[bc] * x;
            absState[n] = decay * absState[n] + Math.abs(delta * inputs.B.data[bc] * x);
            out += inputs.C.data[bc] * state[n];
            outScale += Math.abs(inputs.C.data[bc]) * absState[n];
          }
          if (inputs.D !== undefined) {
            const skip = (inputs.D.shape.length === 1 ? inputs.D.data[h] : inputs.D.data[h * P + p]) * x;
            out += skip;
            outScale += Math.abs(skip);
          }
          const gate = inputs.z === undefined ? 1 : silu(inputs.z.data[xi]);
          y[xi] = out * gate;
          yScale[xi] = outScale * Math.abs(gate);
        }
        for (let n = 0; n < N; n++) {
          finalStates[((b * H + h) * P + p) * N + n] = state[n];
          stateScale[((b * H + h) * P + p) * N + n] = absState[n];
        }
      }
    }
  }
  return { y, finalStates, yScale, stateScale };
}

/** The worst |got − exact| / (u·scale) over one output; NaN or a length mismatch is Infinity. */
function worstUlpsOfScale(got: ArrayLike<number>, exact: Float64Array, scale: Float64Array): number {
  if (got.length !== exact.length) return Number.POSITIVE_INFINITY;
  let worst = 0;
  for (let i = 0; i < exact.length; i++) {
    const error = Math.abs(got[i] - exact[i]);
    const ratio = error === 0 ? 0 : error / (U * scale[i]);
    if (!(ratio <= worst)) worst = Number.isNaN(ratio) ? Number.POSITIVE_INFINITY : ratio;
  }
  return worst;
}

/**
 * The allowance in u·scale: twice the number of terms the chunked form adds up for one output
 * (Q inside a chunk, N in the read-out, one per chunk in the state passing) plus 8 roundings of the
 * discretization (softplus, exp of a segment sum, the gate). Measured worst: 3.3 (cpu and wasm).
 * A dropped reset, a wrong group, a lost tail or a misplaced clamp is off by O(1)·scale, ~10⁷ u.
 */
function allowance(chunkSize: number, length: number, stateSize: number): number {
  const Q = Math.max(1, Math.min(chunkSize, length));
  return 2 * (Q + stateSize + Math.ceil(length / Q) + 8);
}

interface SsdCase {
  readonly label: string;
  readonly inputs: SsdInputs;
  readonly options: SsdOptions;
}

/**
 * seqIdx rows (batch 2, length L): row 0 resets inside the first chunk, exactly on the chunk start
 * 16 and on the last step (a sequence of length 1); row 1 has a length-1 sequence at the start
 * and a reset on the chunk start 48.
 */
function packedRows(L: number): Tensor {
  const row0 = Array.from({ length: L }, (_, t) => (t < 5 ? 0 : t < 16 ? 1 : t < L - 1 ? 2 : 3));
  const row1 = Array.from({ length: L }, (_, t) => (t < 1 ? 4 : t < 30 ? 5 : t < 48 ? 6 : 9));
  return { data: Float32Array.from([...row0, ...row1]), shape: [2, L] };
}

function ssdCases(): SsdCase[] {
  const t = tensorSource('tfjs-ssd');
  const cases: SsdCase[] = [];
  const H = 4;
  const P = 3;
  const N = 5;
  for (const [L, G, full] of [
    [53, 2, true],
    [53, 1, false],
    [37, 4, true],
    [16, 2, false],
    [1, 1, true],
  ] as const) {
    const batch = 2;
    cases.push({
      label: `L=${L} G=${G} ${full ? 'seqIdx, initialStates, D (H, P), z, dtBias, dtLimit, softplus' : 'plain, D (H)'}`,
      inputs: {
        x: t([batch, L, H, P]),
        dt: full ? t([batch, L, H], -3, 1) : t([batch, L, H], 0, 0.5),
        A: t([H], -2, -0.1),
        B: t([batch, L, G, N]),
        C: t([batch, L, G, N]),
        ...(full
          ? {
              D: t([H, P]),
              z: t([batch, L, H, P], -4, 4),
              dtBias: t([H], -0.5, 0.5),
              dtLimit: { data: Float32Array.from([0.05, 1.25]), shape: [2] },
              initialStates: t([batch, H, P, N]),
              seqIdx: L >= 16 ? packedRows(L) : undefined,
            }
          : { D: t([H]) }),
      },
      options: { dtSoftplus: full },
    });
  }
  // A one-sided limit (+∞ above) without softplus: a negative dt + dtBias is clamped up to lo.
  cases.push({
    label: 'L=21 G=2 dtLimit (0.1, +Infinity), no softplus, seqIdx without initialStates',
    inputs: {
      x: t([2, 21, 2, 2]),
      dt: t([2, 21, 2], -0.5, 0.8),
      A: t([2], -1, -0.2),
      B: t([2, 21, 2, 3]),
      C: t([2, 21, 2, 3]),
      dtLimit: { data: Float32Array.from([0.1, Number.POSITIVE_INFINITY]), shape: [2] },
      seqIdx: { data: Float32Array.from({ length: 42 }, (_, i) => (i < 21 ? Math.floor(i / 7) : 0)), shape: [2, 21] },
    },
    options: { dtSoftplus: false },
  });
  return cases;
}

const cpu = implementations.find((i) => i.name === 'tfjs-cpu') as ScanImplementation;
const wasm = implementations.find((i) => i.name === 'tfjs-wasm') as ScanImplementation;

beforeAll(async () => {
  await cpu.setup?.();
  await wasm.setup?.();
});
afterAll(async () => {
  await cpu.dispose?.();
  await wasm.dispose?.();
});

function ssdOf(implementation: ScanImplementation): FamilyImplementation<'ssd'> {
  const family = implementation.families.ssd;
  if (family === undefined) throw new Error(`${implementation.name} has no ssd`);
  return family;
}

/**
 * What a backend is checked on: the chunk sizes and which of ssdCases. Every case and two sizes on
 * cpu and wasm; on webgpu (lavapipe compiles a pipeline per new shape, ~1 s each) the two cases
 * with seqIdx and every optional input, under one size that leaves a ragged tail.
 */
interface Coverage {
  readonly chunkSizes: readonly number[];
  readonly caseIndices?: readonly number[];
}

/** The checks every backend passes. */
function checksOf(implementation: ScanImplementation, coverage: Coverage): void {
  const casesOf = (): SsdCase[] => ssdCases().filter((_, i) => coverage.caseIndices?.includes(i) ?? true);
  const ssd = ssdOf(implementation);

  it('declares its chunk sizes, one of which (48) divides none of the lengths here', () => {
    expect(ssd.chunkSizes).toEqual(SSD_CHUNK_SIZES);
    expect(SSD_CHUNK_SIZES).toContain(48);
  });

  for (const chunkSize of coverage.chunkSizes) {
    it(`every case under chunk size ${chunkSize}`, async () => {
      const before = tf.memory().numTensors;
      let compared = 0;
      for (const { label, inputs, options } of casesOf()) {
        expect(ssd.decline?.({ family: 'ssd', inputs, options }), label).toBeUndefined();
        const got: SsdOutputs = await ssd.run({ family: 'ssd', inputs, options }, { chunkSize });
        const exact = sequentialSsd(inputs, options);
        expect(got.y.shape, label).toEqual(inputs.x.shape);
        expect(got.finalStates.shape, label).toEqual([inputs.x.shape[0], inputs.x.shape[2], inputs.x.shape[3], inputs.B.shape[3]]);
        const bound = allowance(chunkSize, inputs.x.shape[1], inputs.B.shape[3]);
        expect(worstUlpsOfScale(got.y.data, exact.y, exact.yScale), `${label}: y`).toBeLessThanOrEqual(bound);
        expect(worstUlpsOfScale(got.finalStates.data, exact.finalStates, exact.stateScale), `${label}: finalStates`).toBeLessThanOrEqual(bound);
        compared++;
      }
      expect(compared).toBe(casesOf().length);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('uses its default chunk size without settings and rejects a chunk size that is not a positive integer, naming the field', async () => {
    const { inputs, options } = ssdCases()[0];
    const got = await ssd.run({ family: 'ssd', inputs, options });
    const exact = sequentialSsd(inputs, options);
    expect(worstUlpsOfScale(got.y.data, exact.y, exact.yScale)).toBeLessThanOrEqual(allowance(64, 53, 5));
    await expect(ssd.run({ family: 'ssd', inputs, options }, { chunkSize: 0 })).rejects.toThrow(/settings\.chunkSize: expected a positive integer.*got 0/);
  });

  it('returns initialStates at L = 0 and empty outputs at batch = 0 without asking tfjs', async () => {
    const t = tensorSource('tfjs-ssd-empty');
    const initialStates = t([2, 3, 2, 4]);
    const before = tf.memory().numTensors;
    const empty = await ssd.run({
      family: 'ssd',
      inputs: { x: t([2, 0, 3, 2]), dt: t([2, 0, 3]), A: t([3]), B: t([2, 0, 1, 4]), C: t([2, 0, 1, 4]), initialStates },
      options: { dtSoftplus: true },
    });
    expect(empty.y.shape).toEqual([2, 0, 3, 2]);
    expect(Array.from(empty.finalStates.data)).toEqual(Array.from(initialStates.data));
    const noBatch = await ssd.run({
      family: 'ssd',
      inputs: { x: t([0, 5, 3, 2]), dt: t([0, 5, 3]), A: t([3]), B: t([0, 5, 3, 4]), C: t([0, 5, 3, 4]) },
      options: { dtSoftplus: false },
    });
    expect(noBatch.y.shape).toEqual([0, 5, 3, 2]);
    expect(noBatch.finalStates.shape).toEqual([0, 3, 2, 4]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('one-token step equals the float64 loop at L = 1 from the given state', async () => {
    const t = tensorSource('tfjs-ssd-step');
    const before = tf.memory().numTensors;
    for (const [G, withD] of [[2, [4, 3]], [1, [4]], [4, undefined]] as const) {
      const inputs: SsdStepInputs = {
        x: t([2, 4, 3]),
        dt: t([2, 4], -2, 1),
        A: t([4], -2, -0.1),
        B: t([2, G, 5]),
        C: t([2, G, 5]),
        ...(withD === undefined ? {} : { D: t(withD) }),
        z: t([2, 4, 3], -3, 3),
        dtBias: t([4]),
        dtLimit: { data: Float32Array.from([0.01, 2]), shape: [2] },
        state: t([2, 4, 3, 5]),
      };
      const options = { dtSoftplus: true };
      const got = await ssd.step!(inputs, options);
      const asSequence = (x: Tensor): Tensor => ({ data: x.data, shape: [x.shape[0], 1, ...x.shape.slice(1)] });
      const exact = sequentialSsd(
        { ...inputs, x: asSequence(inputs.x), dt: asSequence(inputs.dt), B: asSequence(inputs.B), C: asSequence(inputs.C), z: asSequence(inputs.z!), initialStates: inputs.state },
        options,
      );
      expect(got.y.shape).toEqual([2, 4, 3]);
      expect(got.state.shape).toEqual([2, 4, 3, 5]);
      expect(worstUlpsOfScale(got.y.data, exact.y, exact.yScale), `step G=${G} y`).toBeLessThanOrEqual(allowance(1, 1, 5));
      expect(worstUlpsOfScale(got.state.data, exact.finalStates, exact.stateScale), `step G=${G} state`).toBeLessThanOrEqual(allowance(1, 1, 5));
    }
    expect(tf.memory().numTensors).toBe(before);
  });
}

describe.each([
  ['tfjs-cpu', cpu],
  ['tfjs-wasm', wasm],
])('%s ssd against a float64 sequential loop', (_, implementation) => checksOf(implementation, { chunkSizes: [16, 48] }));

const webgpu = implementations.find((i) => i.name === 'tfjs-webgpu') as ScanImplementation;
/** Why the webgpu checks cannot run here, or undefined when they can; other set-up errors are not a reason to skip. */
const webgpuUnavailable = await webgpu.setup!().then(
  () => undefined,
  (error: unknown) => {
    if (error instanceof ImplementationUnavailableError) return error.message;
    throw error;
  },
);
const skipWebgpu = webgpuUnavailable !== undefined && process.env.REQUIRE_WEBGPU !== '1';

describe.skipIf(skipWebgpu)(
  `tfjs-webgpu ssd against a float64 sequential loop${skipWebgpu ? ` (skipped: ${webgpuUnavailable}; set REQUIRE_WEBGPU=1 to make this a failure)` : ''}`,
  () => {
    // With REQUIRE_WEBGPU=1 and no adapter this throws: every check fails with the reason.
    beforeAll(() => webgpu.setup!());
    afterAll(() => webgpu.dispose?.());
    checksOf(webgpu, { chunkSizes: [16], caseIndices: [0, 2] });
  },
);
