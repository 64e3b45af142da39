/**
 * The vjp request of the testee protocol (spec/protocol.md#vjp): the adapter offers vjp only where
 * the handshake declares it, sends the inputs and cotangent.<output> tensors intact, refuses
 * answers with a missing, extra or misshapen gradient by name, and handles crashes and declines as
 * for run. The numpy example's backward pass is compared with the gradient reference.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { referenceVjp } from '../../reference/vjp/index.ts';
import type { FamilyName, Problem } from '../../spec/families.ts';
import { SpecValidationError } from '../../spec/errors.ts';
import type { Cotangents } from '../../spec/gradients.ts';
import type { FamilyImplementation, ScanImplementation } from '../../spec/implementation.ts';
import { tensor, type Float64Tensor, type Tensor } from '../../spec/tensor.ts';
import { TesteeDeclinedError, TesteeError } from '../../protocol/errors.ts';
import type { ProcessImplementation } from '../../protocol/process-implementation.ts';
import { AdapterPool, HAS_PROC, itHasPython, childrenStartedFromNow, NODE_EXAMPLE_TESTEE, PYTHON_EXAMPLE_TESTEE, pythonSkipNote, pythonUnavailable, rejection } from './harness.ts';
import { expectClose, linearRecurrenceProblem, selectiveScanProblem, tensorSource, type Layout } from './problems.ts';

const pool = new AdapterPool();
const childrenLeft = childrenStartedFromNow();

afterAll(async () => {
  await pool.disposeAll();
  if (HAS_PROC) expect(childrenLeft()).toEqual([]);
});

function familyOf<F extends FamilyName>(impl: ScanImplementation, family: F): FamilyImplementation<F> {
  const entry = impl.families[family];
  if (entry === undefined) throw new Error(`${impl.name} has no ${family}`);
  return entry as FamilyImplementation<F>;
}

/** Seeded cotangents of a linear recurrence's h and lastState. */
function recurrenceCotangents(seed: string, problem: Problem<'linear-recurrence'>): Cotangents<'linear-recurrence'> {
  const t = tensorSource(seed);
  const [batch, dim, length] = problem.inputs.a.shape;
  return { h: t([batch, dim, length]), lastState: t([batch, dim]) };
}

/** Seeded cotangents of a selective scan's y and lastState. */
function scanCotangents(seed: string, problem: Problem<'selective-scan'>): Cotangents<'selective-scan'> {
  const t = tensorSource(seed);
  const [batch, dim, length] = problem.inputs.u.shape;
  return { y: t([batch, dim, length]), lastState: t([batch, dim, problem.inputs.A.shape[1]]) };
}

describe('vjp requests through a misbehaving Node testee', () => {
  afterEach(() => pool.disposeAll());

  it('offers vjp only where the handshake declares it', async () => {
    const plain = await pool.misbehaving('none');
    expect(familyOf(plain, 'linear-recurrence').vjp).toBeUndefined();
    const node = await pool.start({ command: process.execPath, args: [NODE_EXAMPLE_TESTEE] });
    for (const entry of Object.values(node.families)) expect(entry?.vjp).toBeUndefined();
    const declared = await pool.misbehaving('vjp-echo');
    expect(typeof familyOf(declared, 'linear-recurrence').vjp).toBe('function');
  });

  it('sends the inputs and cotangent.h, cotangent.lastState intact, and reads gradient.<input> back', async () => {
    const testee = await pool.misbehaving('vjp-echo');
    const problem = linearRecurrenceProblem('echo', 2, 3, 4, { reverse: true, h0: true });
    const cotangents = recurrenceCotangents('echo-cot', problem);
    const gradients = await familyOf(testee, 'linear-recurrence').vjp!(problem, cotangents);
    expect(Object.keys(gradients).sort()).toEqual(['a', 'b', 'h0']);
    expect(Array.from(gradients.a!.data)).toEqual(Array.from(cotangents.h.data));
    expect(Array.from(gradients.b!.data)).toEqual(Array.from(problem.inputs.a.data));
    expect(Array.from(gradients.h0!.data)).toEqual(Array.from(cotangents.lastState.data));
    expect(gradients.h0!.shape).toEqual([2, 3]);
  });

  it('refuses bad cotangents before sending, naming the tensor', async () => {
    const testee = await pool.misbehaving('vjp-echo');
    const problem = linearRecurrenceProblem('bad-cot', 1, 2, 4, { reverse: false, h0: false });
    const { h } = recurrenceCotangents('c', problem);
    const error = await rejection(familyOf(testee, 'linear-recurrence').vjp!(problem, { h } as Cotangents<'linear-recurrence'>));
    expect(error).toBeInstanceOf(SpecValidationError);
    expect(error.message).toMatch(/linear-recurrence vjp cotangents.*lastState.*missing/s);
  });

  const broken: [mode: string, pattern: RegExp][] = [
    ['vjp-missing-gradient', /linear-recurrence vjp answer.*gradient\.h0.*expected a tensor of shape \[1, 2\], got undefined \(missing\)/s],
    ['vjp-wrong-shape', /linear-recurrence vjp answer.*gradient\.b\.shape.*expected \[1, 2, 3\], got \[1, 3, 2\]/s],
    ['vjp-unprefixed', /gradient\.a.*missing.*key 'a'|key 'a'.*gradient\.a.*missing/s],
  ];
  for (const [mode, pattern] of broken) {
    it(`${mode}: the answer is refused by name, and the testee stays up`, async () => {
      const testee = await pool.misbehaving(mode);
      const vjp = familyOf(testee, 'linear-recurrence').vjp!;
      const problem = linearRecurrenceProblem('broken', 1, 2, 3, { reverse: false, h0: true });
      const error = await rejection(vjp(problem, recurrenceCotangents('c', problem)));
      expect(error).toBeInstanceOf(SpecValidationError);
      expect(error.message).toMatch(pattern);
      const fine = linearRecurrenceProblem('fine', 1, 2, 5, { reverse: false, h0: true });
      expect(Object.keys(await vjp(fine, recurrenceCotangents('c', fine))).sort()).toEqual(['a', 'b', 'h0']);
      expect(testee.restarts()).toBe(0);
    });
  }

  it('a crash during vjp fails that request as a crash and the restarted testee answers the next', async () => {
    const testee = await pool.misbehaving('vjp-crash');
    const vjp = familyOf(testee, 'linear-recurrence').vjp!;
    const problem = linearRecurrenceProblem('crash', 1, 2, 3, { reverse: false, h0: false });
    const error = await rejection(vjp(problem, recurrenceCotangents('c', problem)));
    expect(error).toBeInstanceOf(TesteeError);
    expect((error as TesteeError).kind).toBe('crash');
    expect(error.message).toMatch(/vjp request .*Segmentation fault in backward/s);
    const fine = linearRecurrenceProblem('fine', 1, 2, 5, { reverse: false, h0: false });
    expect(Object.keys(await vjp(fine, recurrenceCotangents('c', fine))).sort()).toEqual(['a', 'b']);
    expect(testee.restarts()).toBe(1);
  });

  it('a decline answer to vjp is a TesteeDeclinedError with the reason', async () => {
    const testee = await pool.misbehaving('vjp-decline');
    const problem = linearRecurrenceProblem('decline', 1, 2, 3, { reverse: false, h0: false });
    const error = await rejection(familyOf(testee, 'linear-recurrence').vjp!(problem, recurrenceCotangents('c', problem)));
    expect(error).toBeInstanceOf(TesteeDeclinedError);
    expect((error as TesteeDeclinedError).reason).toBe('no backward pass for length 3');
  });
});

const missingPython = pythonUnavailable();
const skip = missingPython !== undefined;
const skipNote = pythonSkipNote(missingPython);

describe('the numpy example testee’s vjp against referenceVjp (float64)', () => {
  itHasPython(missingPython);

  let impl: ProcessImplementation | undefined;
  // A generous float64 bound for now: the float64 adjoint scan of a few tokens is ~1e-15 relative;
  // rule V (suite/gradient-tolerance.ts) will judge it through the suite's vjp property.
  const rtol = 1e-10;
  beforeAll(async () => {
    if (!skip) impl = await pool.start({ command: 'python3', args: [PYTHON_EXAMPLE_TESTEE] });
  });
  afterEach(() => {
    if (impl !== undefined && impl.restarts() > 0) throw new Error(`the Python testee was restarted:\n${impl.capturedStderr()}`);
  });

  /** The testee's gradients equal the reference's, with exactly the same names. */
  async function expectReference<F extends FamilyName>(family: F, problem: Problem<F>, cotangents: Cotangents<F>): Promise<void> {
    const got = (await familyOf(impl!, family).vjp!(problem, cotangents)) as Record<string, { data: Float32Array | Float64Array; shape: readonly number[] }>;
    const expected = referenceVjp(problem, cotangents).gradients as Record<string, Float64Tensor>;
    expect(Object.keys(got).sort()).toEqual(Object.keys(expected).sort());
    for (const name of Object.keys(expected)) expectClose(`gradient.${name}`, got[name], expected[name], rtol);
  }

  for (const length of [0, 1, 6]) {
    for (const reverse of [false, true]) {
      for (const h0 of [false, true]) {
        it.skipIf(skip)(`linear-recurrence L=${length} reverse=${reverse} h0=${h0}${skipNote}`, async () => {
          const problem = linearRecurrenceProblem(`lr-${length}-${reverse}-${h0}`, 2, 3, length, { reverse, h0 });
          await expectReference('linear-recurrence', problem, recurrenceCotangents(`lr-cot-${length}`, problem));
        });
      }
    }
  }

  for (const layout of ['time-invariant', 'time-varying', 'grouped'] as Layout[]) {
    for (const deltaSoftplus of [false, true]) {
      it.skipIf(skip)(`selective-scan L=5 ${layout} deltaSoftplus=${deltaSoftplus}, every optional input${skipNote}`, async () => {
        const problem = selectiveScanProblem(`ss-${layout}-${deltaSoftplus}`, layout, 5, deltaSoftplus);
        await expectReference('selective-scan', problem, scanCotangents(`ss-cot-${layout}`, problem));
      });
    }
  }

  it.skipIf(skip)(`selective-scan without optional inputs, and L=0${skipNote}`, async () => {
    for (const length of [0, 4]) {
      const { u, delta, A, B, C } = selectiveScanProblem(`bare-${length}`, 'grouped', length, true).inputs;
      const problem: Problem<'selective-scan'> = { family: 'selective-scan', inputs: { u, delta, A, B, C }, options: { deltaSoftplus: true } };
      await expectReference('selective-scan', problem, scanCotangents(`bare-cot-${length}`, problem));
    }
  });

  /** An ssd problem (every optional input unless left out); softplus(dt + dtBias) in (0.37, 1.55), so dtLimit (0.5, 0.9) clamps on both sides. */
  function ssdProblem(seed: string, length: number, dtSoftplus: boolean, leaveOut: readonly string[], perHeadD = false): Problem<'ssd'> {
    const [batch, H, P, G, N] = [2, 4, 2, 2, 3];
    const t = tensorSource(seed);
    const all: Record<string, Tensor> = {
      x: t([batch, length, H, P]), dt: t([batch, length, H], -0.5, 1), A: t([H], -2, -0.1),
      B: t([batch, length, G, N]), C: t([batch, length, G, N]), D: perHeadD ? t([H]) : t([H, P]),
      z: t([batch, length, H, P], -3, 3), dtBias: t([H], -0.3, 0.3), dtLimit: tensor([0.5, 0.9], [2]),
      initialStates: t([batch, H, P, N]),
      // Row 0 restarts twice; row 1 is one sequence.
      seqIdx: tensor(Array.from({ length: batch * length }, (_, i) => (i < length ? Math.floor((i * 3) / Math.max(length, 1)) : 7)), [batch, length]),
    };
    const inputs = Object.fromEntries(Object.entries(all).filter(([name]) => !leaveOut.includes(name)));
    return { family: 'ssd', inputs: inputs as unknown as Problem<'ssd'>['inputs'], options: { dtSoftplus } };
  }

  /** Seeded cotangents of ssd's y and finalStates. */
  function ssdCotangents(seed: string, problem: Problem<'ssd'>): Cotangents<'ssd'> {
    const t = tensorSource(seed);
    const { x, B } = problem.inputs;
    return { y: t(x.shape), finalStates: t([x.shape[0], x.shape[2], x.shape[3], B.shape[3]]) };
  }

  for (const dtSoftplus of [false, true]) {
    it.skipIf(skip)(`ssd L=6 dtSoftplus=${dtSoftplus}, every optional input (seqIdx resets, dtLimit clamping both ways)${skipNote}`, async () => {
      const problem = ssdProblem(`ssd-${dtSoftplus}`, 6, dtSoftplus, []);
      await expectReference('ssd', problem, ssdCotangents(`ssd-cot-${dtSoftplus}`, problem));
    });
  }

  it.skipIf(skip)(`ssd with D per head and no dtLimit, without optional inputs, and L=0${skipNote}`, async () => {
    const cases: Problem<'ssd'>[] = [
      ssdProblem('ssd-head-d', 5, true, ['dtLimit', 'seqIdx'], true),
      ssdProblem('ssd-bare', 4, true, ['D', 'z', 'dtBias', 'dtLimit', 'initialStates', 'seqIdx']),
      ssdProblem('ssd-empty', 0, true, ['seqIdx']),
    ];
    for (const problem of cases) await expectReference('ssd', problem, ssdCotangents('ssd-cot', problem));
  });

  it.skipIf(skip)(`selective-scan with seqIdx is declined for vjp (run computes it)${skipNote}`, async () => {
    const base = selectiveScanProblem('packed', 'time-varying', 4, true);
    const seqIdx: Tensor = tensor([0, 0, 1, 1, 0, 1, 1, 1], [2, 4]);
    const problem: Problem<'selective-scan'> = { ...base, inputs: { ...base.inputs, seqIdx } };
    const scan = familyOf(impl!, 'selective-scan');
    expect(scan.decline?.(problem)).toBeUndefined();
    await scan.run(problem);
    const error = await rejection(scan.vjp!(problem, scanCotangents('packed-cot', problem)));
    expect(error).toBeInstanceOf(TesteeDeclinedError);
    expect((error as TesteeDeclinedError).reason).toMatch(/no backward pass for seqIdx/);
  });
});
