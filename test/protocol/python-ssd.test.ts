/**
 * The numpy example testee's ssd (Mamba-2), run and step, through the protocol's frames: the
 * handshake as the runner parses it, every optional input (dtLimit with ±Infinity, seqIdx as
 * float32) carried to Python, the answers compared with a float64 loop written here from
 * spec/families/ssd/ssd.md. It talks to TesteeProcess directly because the adapter's output
 * validation reads shapes with spec/shapes.ts, which does not know ssd's named axes yet; the
 * suite's own properties cover the testee once it does.
 */
import { afterAll, assert, beforeAll, describe, expect, it } from 'vitest';
import { BoundedCapture } from '../../protocol/bounded-capture.ts';
import { handshakeRequest, parseHandshake, type TesteeDescription } from '../../protocol/handshake.ts';
import { PROTOCOL_VERSION, type ProtocolMessage } from '../../protocol/messages.ts';
import { TesteeProcess } from '../../protocol/testee-process.ts';
import { dtLimits, effectiveDt, silu } from '../../spec/families/ssd/discretization.ts';
import { groupOfHead } from '../../spec/families/ssd/dimensions.ts';
import type { SsdInputs, SsdStepInputs } from '../../spec/families/ssd/types.ts';
import { tensor, type Float64Tensor, type OutputTensor, type Tensor } from '../../spec/tensor.ts';
import { expectClose, tensorSource, type HeadSizes } from './problems.ts';
import { itHasPython, PYTHON_EXAMPLE_TESTEE, pythonSkipNote, pythonUnavailable } from './harness.ts';

/** ssd by its recurrence in float64, one (b, h, p, n) at a time (spec/families/ssd/ssd.md#math). */
function ssdLoop(inputs: SsdInputs, dtSoftplus: boolean): { y: Float64Tensor; finalStates: Float64Tensor } {
  const { x, dt, A, B, C, D, z, dtBias, initialStates, seqIdx } = inputs;
  const [batch, L, H, P] = x.shape;
  const [G, N] = B.shape.slice(2);
  const { lo, hi } = dtLimits(inputs.dtLimit?.data);
  const y = new Float64Array(batch * L * H * P);
  const finalStates = new Float64Array(batch * H * P * N);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < H; h++) {
      const g = groupOfHead(h, H, G);
      for (let p = 0; p < P; p++) {
        const state = Array.from({ length: N }, (_, n) => initialStates?.data[((b * H + h) * P + p) * N + n] ?? 0);
        for (let t = 0; t < L; t++) {
          const delta = effectiveDt(dt.data[(b * L + t) * H + h], dtBias?.data[h] ?? 0, dtSoftplus, lo, hi);
          const reset = seqIdx !== undefined && t > 0 && seqIdx.data[b * L + t] !== seqIdx.data[b * L + t - 1];
          const xt = x.data[((b * L + t) * H + h) * P + p];
          let out = 0;
          for (let n = 0; n < N; n++) {
            const bc = ((b * L + t) * G + g) * N + n;
            state[n] = (reset ? 0 : Math.exp(delta * A.data[h]) * state[n]) + delta * B.data[bc] * xt;
            out += C.data[bc] * state[n];
          }
          if (D !== undefined) out += (D.shape.length === 1 ? D.data[h] : D.data[h * P + p]) * xt;
          const at = ((b * L + t) * H + h) * P + p;
          y[at] = z === undefined ? out : out * silu(z.data[at]);
        }
        for (let n = 0; n < N; n++) finalStates[((b * H + h) * P + p) * N + n] = state[n];
      }
    }
  }
  return { y: { data: y, shape: [batch, L, H, P] }, finalStates: { data: finalStates, shape: [batch, H, P, N] } };
}

/** An ssd problem with every optional input; softplus(dt + dtBias) lies in (0.37, 1.55), so a dtLimit of (0.5, 0.9) clamps on both sides. */
function ssdInputs(seed: string, { batch, L, H, P, G, N }: HeadSizes, seqIdx: readonly number[]): Required<SsdInputs> {
  const t = tensorSource(seed);
  return {
    x: t([batch, L, H, P]),
    dt: t([batch, L, H], -0.5, 1),
    A: t([H], -2, -0.1),
    B: t([batch, L, G, N]),
    C: t([batch, L, G, N]),
    D: t([H, P]),
    z: t([batch, L, H, P], -3, 3),
    dtBias: t([H], -0.3, 0.3),
    dtLimit: tensor([0.5, 0.9], [2]),
    initialStates: t([batch, H, P, N]),
    seqIdx: tensor(seqIdx, [batch, L]),
  };
}

/** Leaves out the named optional inputs. */
function without(inputs: Required<SsdInputs>, ...names: (keyof SsdInputs)[]): SsdInputs {
  return Object.fromEntries(Object.entries(inputs).filter(([name]) => !names.includes(name as keyof SsdInputs))) as unknown as SsdInputs;
}

const SIZES: HeadSizes = { batch: 2, L: 11, H: 4, P: 3, G: 2, N: 5 };
// Row 0: sequences of lengths 3, 1, 4, 3, not starting at 0; row 1: one sequence.
const SEQ_IDX = [2, 2, 2, 3, 5, 5, 5, 5, 6, 6, 6, ...Array<number>(11).fill(4)];
const FULL = ssdInputs('py-ssd', SIZES, SEQ_IDX);

/** The cases: every optional input, each of them absent, both shapes of D, G ∈ {1, 2, H}, infinite limits, L ∈ {0, 1}. */
const CASES: readonly { readonly name: string; readonly inputs: SsdInputs; readonly dtSoftplus: boolean }[] = [
  { name: 'every optional input, D (H, P), G = 2', inputs: FULL, dtSoftplus: true },
  { name: 'without softplus (negative Δ below a −∞ limit)', inputs: { ...FULL, dtLimit: tensor([-Infinity, 0.6], [2]) }, dtSoftplus: false },
  { name: 'dtLimit (0.5, +∞), D (H), no z', inputs: { ...without(FULL, 'z'), dtLimit: tensor([0.5, Infinity], [2]), D: tensor([0.5, -1, 2, 0.25], [4]) }, dtSoftplus: true },
  { name: 'no optional input', inputs: without(FULL, 'D', 'z', 'dtBias', 'dtLimit', 'initialStates', 'seqIdx'), dtSoftplus: true },
  { name: 'G = 1', inputs: ssdInputs('py-ssd-g1', { ...SIZES, G: 1 }, SEQ_IDX), dtSoftplus: true },
  { name: 'G = H', inputs: ssdInputs('py-ssd-gh', { ...SIZES, G: 4 }, SEQ_IDX), dtSoftplus: true },
  { name: 'L = 1', inputs: ssdInputs('py-ssd-l1', { ...SIZES, L: 1 }, [7, 0]), dtSoftplus: true },
  { name: 'L = 0', inputs: ssdInputs('py-ssd-l0', { ...SIZES, L: 0 }, []), dtSoftplus: true },
];

const missingPython = pythonUnavailable();
const skip = missingPython !== undefined;
const skipNote = pythonSkipNote(missingPython);

describe('the numpy example testee computes ssd', () => {
  itHasPython(missingPython);

  it('the cases are sensitive to each optional input and to the clamp on both sides', () => {
    const base = ssdLoop(FULL, true);
    const differs = (inputs: SsdInputs): boolean => {
      const other = ssdLoop(inputs, true);
      return [...base.y.data].some((v, i) => Math.abs(v - other.y.data[i]) > 1e-3) || [...base.finalStates.data].some((v, i) => Math.abs(v - other.finalStates.data[i]) > 1e-3);
    };
    for (const name of ['D', 'z', 'dtBias', 'dtLimit', 'initialStates', 'seqIdx'] as const) expect(differs(without(FULL, name)), name).toBe(true);
    expect(differs({ ...FULL, dtLimit: tensor([0.5, Infinity], [2]) }), 'the upper limit').toBe(true);
    expect(differs({ ...FULL, dtLimit: tensor([0, 0.9], [2]) }), 'the lower limit').toBe(true);
  });

  for (const precision of ['float64', 'float32'] as const) {
    describe(`in ${precision}`, () => {
      const stderr = new BoundedCapture(65_536);
      let testee: TesteeProcess | undefined;
      let description: TesteeDescription | undefined;
      let nextId = 1;
      // float32 loops accumulate about L·u; float64 ones about L·2^-53: both far inside these bounds.
      const rtol = precision === 'float64' ? 1e-12 : 1e-5;
      const dtype = precision === 'float64' ? 'F64' : 'F32';

      beforeAll(async () => {
        if (skip) return;
        const argv = ['python3', PYTHON_EXAMPLE_TESTEE, ...(precision === 'float32' ? ['--float32'] : [])];
        testee = new TesteeProcess({ argv, stderr, maxFrameBytes: 1 << 24, graceMs: 2_000 });
        description = parseHandshake(await testee.request(handshakeRequest(), { ms: 30_000, option: 'startTimeoutMs' }, 'handshake'));
      });
      afterAll(async () => {
        await testee?.stop({ metadata: { protocol: PROTOCOL_VERSION, id: String(nextId++), kind: 'shutdown' }, tensors: {} });
      });

      /** One request; the answer's tensors, which must be a result in the testee's own dtype. */
      async function ask(kind: 'run' | 'step', dtSoftplus: boolean, inputs: object): Promise<Record<string, OutputTensor>> {
        const id = String(nextId++);
        const tensors = Object.fromEntries(Object.entries(inputs).filter(([, v]) => v !== undefined)) as Record<string, Tensor>;
        const request: ProtocolMessage = { metadata: { protocol: PROTOCOL_VERSION, id, kind, family: 'ssd', options: JSON.stringify({ dtSoftplus }) }, tensors };
        const answer = await (testee as TesteeProcess).request(request, { ms: 30_000, option: 'requestTimeoutMs' }, `${kind} ${id}`);
        if (answer.metadata.kind !== 'result') assert.fail(`${kind} ${id}: expected a result, got ${answer.metadata.kind}: ${answer.metadata.message ?? answer.metadata.reason}\n${stderr.text()}`);
        expect(answer.metadata.id).toBe(id);
        for (const [name, t] of Object.entries(answer.tensors)) expect(t.dtype, name).toBe(dtype);
        return answer.tensors as Record<string, OutputTensor>;
      }

      it.skipIf(skip)(`declares ssd with its step, chunk sizes 64 and 256, and every optional input${skipNote}`, () => {
        expect(description?.families.ssd).toEqual({ step: true, vjp: true, varlen: true, options: {}, chunkSizes: [64, 256] });
      });

      for (const { name, inputs, dtSoftplus } of CASES) {
        it.skipIf(skip)(`run: ${name}${skipNote}`, async () => {
          const got = await ask('run', dtSoftplus, inputs);
          expect(Object.keys(got).sort()).toEqual(['finalStates', 'y']);
          const expected = ssdLoop(inputs, dtSoftplus);
          expectClose('y', got.y, expected.y, rtol);
          expectClose('finalStates', got.finalStates, expected.finalStates, rtol);
        });
      }

      const stepLimits = [
        { label: '(0.5, 0.9)', dtLimit: tensor([0.5, 0.9], [2]) },
        { label: '(−∞, 0.3)', dtLimit: tensor([-Infinity, 0.3], [2]) },
        { label: 'absent', dtLimit: undefined },
      ];
      for (const { label, dtLimit } of stepLimits) {
        it.skipIf(skip)(`step equals a run of length 1 from its state, dtLimit ${label}${skipNote}`, async () => {
          const run = ssdInputs(`py-ssd-step-${label}`, { ...SIZES, L: 1 }, [0, 0]);
          const token = (t: Tensor): Tensor => tensor(t.data, [t.shape[0], ...t.shape.slice(2)]);
          const step: SsdStepInputs = {
            x: token(run.x), dt: token(run.dt), A: run.A, B: token(run.B), C: token(run.C), D: run.D, z: token(run.z),
            dtBias: run.dtBias, ...(dtLimit === undefined ? {} : { dtLimit }), state: run.initialStates,
          };
          const got = await ask('step', true, step);
          expect(Object.keys(got).sort()).toEqual(['state', 'y']);
          const expected = ssdLoop({ ...without(run, 'seqIdx', 'dtLimit'), ...(dtLimit === undefined ? {} : { dtLimit }) }, true);
          expectClose('y', got.y, { data: expected.y.data, shape: step.x.shape }, rtol);
          expectClose('state', got.state, expected.finalStates, rtol);
        });
      }
    });
  }
});
