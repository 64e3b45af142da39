/**
 * The numpy example testee's mamba3-siso (Mamba-3 SISO), run and step, through the runner's
 * adapter: the handshake's capabilities, every optional input (D, Z and each of the four input
 * states on its own) carried to Python, the five outputs (four of them states, one an angle)
 * carried back and compared with the double-double reference, the angle by circular distance.
 */
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { reference, referenceStep } from '../../reference/index.ts';
import { referenceVjp } from '../../reference/vjp/index.ts';
import type { Cotangents } from '../../spec/gradients.ts';
import type { ProcessImplementation } from '../../protocol/process-implementation.ts';
import type { Mamba3SisoInputs, Mamba3SisoStepInputs } from '../../spec/families/mamba3-siso/types.ts';
import type { FamilyImplementation } from '../../spec/implementation.ts';
import type { AnyProblem, Problem } from '../../spec/families.ts';
import { tensor, type Float64Tensor, type OutputTensor, type Tensor } from '../../spec/tensor.ts';
import { caseArbitrary } from '../../suite/arbitraries.ts';
import { circularDistance, compareWithReference, type ExpectedOutputs } from '../../suite/compare.ts';
import { AdapterPool, itHasPython, PYTHON_EXAMPLE_TESTEE, pythonSkipNote, pythonUnavailable } from './harness.ts';
import { expectClose, tensorSource, type HeadSizes } from './problems.ts';

interface Sizes extends HeadSizes {
  readonly A: number;
}

/** A mamba3-siso problem with every optional input; input angle states on both sides of [0, 2π). */
function mamba3Inputs(seed: string, { batch, L, H, P, G, N, A }: Sizes): Required<Mamba3SisoInputs> {
  const t = tensorSource(seed);
  const DT = t([batch, H, L], 0.05, 1);
  const rate = t([batch, H, L], 1, 8);
  return {
    Q: t([batch, L, G, N]),
    K: t([batch, L, G, N]),
    V: t([batch, L, H, P]),
    ADT: tensor(DT.data.map((dt, i) => -rate.data[i] * dt), DT.shape),
    DT,
    Trap: t([batch, H, L], -3, 3),
    QBias: t([H, N]),
    KBias: t([H, N]),
    Angles: t([batch, L, H, A], -3, 3),
    D: t([H]),
    Z: t([batch, L, H, P], -2, 2),
    angleState: t([batch, H, A], -1, 7.5),
    ssmState: t([batch, H, P, N]),
    kState: t([batch, H, N]),
    vState: t([batch, H, P]),
  };
}

type OptionalName = 'D' | 'Z' | 'angleState' | 'ssmState' | 'kState' | 'vState';
const OPTIONAL: readonly OptionalName[] = ['D', 'Z', 'angleState', 'ssmState', 'kState', 'vState'];

/** Leaves out the named optional inputs. */
function without(inputs: Required<Mamba3SisoInputs>, ...names: OptionalName[]): Mamba3SisoInputs {
  return Object.fromEntries(Object.entries(inputs).filter(([name]) => !names.includes(name as OptionalName))) as unknown as Mamba3SisoInputs;
}

const problem = (inputs: Mamba3SisoInputs): Problem<'mamba3-siso'> => ({ family: 'mamba3-siso', inputs, options: {} });

// A < N/2: the last pair of q and k is not rotated.
const SIZES: Sizes = { batch: 2, L: 9, H: 4, P: 3, G: 2, N: 6, A: 2 };
const FULL = mamba3Inputs('py-m3', SIZES);
/** Angle states a hair below 2π and small positive turns (DT = 10⁻³): the first step wraps every angle to just above 0. */
function wrapInputs(): Mamba3SisoInputs {
  const base = mamba3Inputs('py-m3-wrap', { ...SIZES, L: 3 });
  const DT = tensor(base.DT.data.map(() => 1e-3), base.DT.shape);
  return {
    ...without(base, 'D', 'Z', 'kState', 'vState'),
    DT,
    ADT: tensor(DT.data.map((dt) => -2 * dt), DT.shape),
    angleState: tensor(base.angleState.data.map(() => 2 * Math.PI - 1e-6), base.angleState.shape),
    Angles: tensor(base.Angles.data.map((a) => 0.1 + Math.abs(a)), base.Angles.shape),
  };
}
const WRAP = wrapInputs();

/** The cases: every optional input, none, each input state alone, G ∈ {1, H}, A = N/2, a wrap past 2π, L ∈ {0, 1}. */
const CASES: readonly { readonly name: string; readonly inputs: Mamba3SisoInputs }[] = [
  { name: 'every optional input, G = 2, A < N/2', inputs: FULL },
  { name: 'no optional input', inputs: without(FULL, ...OPTIONAL) },
  ...OPTIONAL.slice(2).map((state) => ({ name: `${state} alone`, inputs: without(FULL, ...OPTIONAL.filter((name) => name !== state)) })),
  { name: 'G = 1', inputs: mamba3Inputs('py-m3-g1', { ...SIZES, G: 1 }) },
  { name: 'G = H, A = N/2', inputs: mamba3Inputs('py-m3-gh', { ...SIZES, G: 4, A: 3 }) },
  { name: 'the angle state wraps past 2π', inputs: WRAP },
  { name: 'L = 1', inputs: mamba3Inputs('py-m3-l1', { ...SIZES, L: 1 }) },
  { name: 'L = 0', inputs: mamba3Inputs('py-m3-l0', { ...SIZES, L: 0 }) },
];

/** One token of FULL's shapes as a step's inputs (time dropped: axis 1 of Q, K, V, Z, Angles, axis 2 of ADT, DT, Trap). */
function stepInputs(seed: string, withOptional: boolean): Mamba3SisoStepInputs {
  const run = mamba3Inputs(seed, { ...SIZES, L: 1 });
  const token = (x: Tensor): Tensor => tensor(x.data, [x.shape[0], ...x.shape.slice(2)]);
  const perHead = (x: Tensor): Tensor => tensor(x.data, x.shape.slice(0, 2));
  return {
    Q: token(run.Q), K: token(run.K), V: token(run.V), ADT: perHead(run.ADT), DT: perHead(run.DT), Trap: perHead(run.Trap),
    QBias: run.QBias, KBias: run.KBias, Angles: token(run.Angles),
    ...(withOptional ? { D: run.D, Z: token(run.Z) } : {}),
    angleState: run.angleState, ssmState: run.ssmState, kState: run.kState, vState: run.vState,
  };
}

/** Seeded cotangents of y and the four final states, shaped as the reference's outputs. */
function mamba3Cotangents(seed: string, inputs: Mamba3SisoInputs): Cotangents<'mamba3-siso'> {
  const t = tensorSource(seed);
  const outputs = reference(problem(inputs)).outputs as unknown as Record<string, Float64Tensor>;
  return Object.fromEntries(Object.entries(outputs).map(([name, out]) => [name, t(out.shape)])) as unknown as Cotangents<'mamba3-siso'>;
}

const missingPython = pythonUnavailable();
const skip = missingPython !== undefined;
const skipNote = pythonSkipNote(missingPython);
const pool = new AdapterPool();
afterAll(() => pool.disposeAll());

describe('the numpy example testee computes mamba3-siso', () => {
  itHasPython(missingPython);

  it('the cases are sensitive to each optional input and the wrap case wraps', () => {
    const base = reference(problem(FULL)).outputs as unknown as Record<string, Float64Tensor>;
    const differs = (inputs: Mamba3SisoInputs): boolean => {
      const other = reference(problem(inputs)).outputs as unknown as Record<string, Float64Tensor>;
      return Object.entries(base).some(([name, t]) => t.data.some((v, i) => Math.abs(v - other[name].data[i]) > 1e-3));
    };
    for (const name of OPTIONAL) expect(differs(without(FULL, name)), name).toBe(true);
    // Every final angle came from just below 2π and lies in (0, 0.01): an answer of 2π + ε (not
    // reduced) is as right as ε, and the comparison must say so.
    const angles = [...reference(problem(WRAP)).outputs.finalAngleState.data];
    expect(angles.every((a) => a > 0 && a < 0.01), angles.join(', ')).toBe(true);
  });

  for (const precision of ['float64', 'float32'] as const) {
    describe(`in ${precision}`, () => {
      let impl: ProcessImplementation | undefined;
      let family: FamilyImplementation<'mamba3-siso'> | undefined;
      // A sequential loop of 9 steps errs by about 9·u: far inside these bounds, far below O(1) mistakes.
      const rtol = precision === 'float64' ? 1e-12 : 1e-5;
      beforeAll(async () => {
        if (skip) return;
        impl = await pool.start({ command: `python3 ${PYTHON_EXAMPLE_TESTEE}${precision === 'float32' ? ' --float32' : ''}` });
        family = impl.families['mamba3-siso'];
      });
      afterEach(() => {
        if (impl !== undefined && impl.restarts() > 0) throw new Error(`the Python testee was restarted:\n${impl.capturedStderr()}`);
      });

      /** Every output of the answer against the reference's, the angle state by circular distance. */
      function expectOutputs(got: Readonly<Record<string, OutputTensor>>, expected: Readonly<Record<string, Float64Tensor>>, angleName: string): void {
        expect(Object.keys(got).sort()).toEqual(Object.keys(expected).sort());
        for (const [name, t] of Object.entries(expected)) expectClose(name, got[name], t, rtol, name === angleName ? circularDistance : undefined);
      }

      it.skipIf(skip)(`declares mamba3-siso with its step, its vjp and every optional input${skipNote}`, () => {
        expect(family).toBeDefined();
        expect(typeof family?.step).toBe('function');
        expect(typeof family?.vjp).toBe('function');
        expect(family?.chunkSizes).toBeUndefined();
        expect(family?.decline?.(problem(FULL))).toBeUndefined();
      });

      for (const { name, inputs } of CASES) {
        it.skipIf(skip)(`run: ${name}${skipNote}`, async () => {
          const got = (await family!.run(problem(inputs))) as unknown as Record<string, OutputTensor>;
          expectOutputs(got, reference(problem(inputs)).outputs as unknown as Record<string, Float64Tensor>, 'finalAngleState');
        });
      }

      for (const withOptional of [true, false]) {
        it.skipIf(skip)(`step ${withOptional ? 'with' : 'without'} D and Z: y and the four states${skipNote}`, async () => {
          const inputs = stepInputs(`py-m3-step-${withOptional}`, withOptional);
          const step = family?.step;
          if (step === undefined) throw new Error('the testee declared no mamba3-siso step');
          const got = (await step(inputs, {})) as unknown as Record<string, OutputTensor>;
          expectOutputs(got, referenceStep('mamba3-siso', inputs, {}).outputs as unknown as Record<string, Float64Tensor>, 'angleState');
        });
      }

      for (const { name, inputs } of CASES) {
        it.skipIf(skip)(`vjp: ${name}, every gradient against referenceVjp${skipNote}`, async () => {
          const cotangents = mamba3Cotangents(`py-m3-cot-${name}`, inputs);
          const got = (await family!.vjp!(problem(inputs), cotangents)) as unknown as Record<string, OutputTensor>;
          const expected = referenceVjp(problem(inputs), cotangents).gradients as unknown as Record<string, Float64Tensor>;
          expect(Object.keys(got).sort()).toEqual(Object.keys(expected).sort());
          // Within rtol·(|expected| + 1): float32's gradients sum over tokens and heads, so a looser rtol than its outputs'.
          for (const [gradient, t] of Object.entries(expected)) expectClose(`gradient.${gradient}`, got[gradient], t, precision === 'float64' ? 1e-10 : 1e-4);
        });
      }

      it.skipIf(skip)(`stays within the suite's tolerance model on sampled cases of every regime${skipNote}`, async () => {
        for (const { problem: sampled, request } of fc.sample(caseArbitrary('mamba3-siso', { maxLength: 40 }), { numRuns: 20, seed: 8 })) {
          const outputs = (await family!.run(sampled)) as unknown as Readonly<Record<string, OutputTensor>>;
          const comparison = compareWithReference(sampled as AnyProblem, outputs, reference(sampled) as unknown as ExpectedOutputs, { precision });
          expect(comparison.violations, `${JSON.stringify(request)}: worst ${JSON.stringify(comparison.worst)}`).toBe(0);
        }
      });
    });
  }
});
