/**
 * The TensorFlow.js implementations on the cpu and wasm backends: every family on awkward lengths
 * and all options against the reference, no tensor leak, backend isolation, declines and environment.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyProblem, OutputsOf } from '../../../spec/families.ts';
import type { FamilyImplementation, ScanImplementation } from '../../../spec/implementation.ts';
import type { OutputTensor } from '../../../spec/tensor.ts';
import { validateOutputs } from '../../../spec/validate.ts';
import implementations from '../../../implementations/tfjs/index.ts';
import { AWKWARD_LENGTHS, errorInBounds, problemsAtLength, stepErrors, tensorSource } from './problems.ts';

function implementationNamed(name: string): ScanImplementation {
  const found = implementations.find((i) => i.name === name);
  if (found === undefined) throw new Error(`no implementation ${name} in [${implementations.map((i) => i.name).join(', ')}]`);
  return found;
}

const cpu = implementationNamed('tfjs-cpu');
const wasm = implementationNamed('tfjs-wasm');

/** Runs a problem of any family on an implementation; undefined when it declines, with the reason checked. */
async function runProblem(implementation: ScanImplementation, problem: AnyProblem): Promise<Record<string, OutputTensor> | undefined> {
  const family = implementation.families[problem.family] as FamilyImplementation<typeof problem.family>;
  const declined = family.decline?.(problem as never);
  if (declined !== undefined) return undefined;
  // The spec's own check of an answer: every output present, right shape, float storage.
  return validateOutputs(problem, await family.run(problem as never)) as unknown as Record<string, OutputTensor>;
}

beforeAll(async () => {
  await cpu.setup?.();
  await wasm.setup?.();
});
afterAll(async () => {
  await cpu.dispose?.();
  await wasm.dispose?.();
});

describe('registration', () => {
  it('registers tfjs-cpu, tfjs-wasm and tfjs-webgpu as float32 implementations of every family', () => {
    const names = implementations.map((i) => i.name);
    expect(names).toEqual(expect.arrayContaining(['tfjs-cpu', 'tfjs-wasm', 'tfjs-webgpu']));
    for (const implementation of implementations) {
      expect(implementation.precision).toBe('float32');
      expect(Object.keys(implementation.families).sort()).toEqual(['linear-recurrence', 'lti-ssm', 'prefix-sum', 'selective-scan', 'ssd']);
    }
  });

  it('registers tfjs-tensorflow exactly when @tensorflow/tfjs-node loads', async () => {
    const loads = await import('@tensorflow/tfjs-node' as string).then(
      () => true,
      () => false,
    );
    expect(implementations.some((i) => i.name === 'tfjs-tensorflow')).toBe(loads);
  });

  it('reports backend, tfjs version and how lti-ssm is computed', () => {
    expect(cpu.environment?.()).toMatchObject({ backend: 'cpu', tfjsCoreVersion: tf.version_core });
    const facts = wasm.environment?.() ?? {};
    expect(facts).toMatchObject({ backend: 'wasm', tfjsCoreVersion: tf.version_core, threads: '1' });
    expect(facts.ltiSsm).toMatch(/scan/);
  });

  it('holds FFT convolutions to the normwise model and the wasm scan to the componentwise one', () => {
    expect(cpu.families['lti-ssm']?.errorModel).toBe('normwise');
    expect(wasm.families['lti-ssm']?.errorModel).toBe('componentwise');
  });
});

describe.each([
  ['tfjs-cpu', cpu],
  ['tfjs-wasm', wasm],
])('%s against the reference', (_, implementation) => {
  for (const length of AWKWARD_LENGTHS) {
    it(`every family and option at L = ${length}`, async () => {
      let compared = 0;
      for (const { label, problem } of problemsAtLength(length)) {
        const outputs = await runProblem(implementation, problem);
        if (outputs === undefined) continue;
        const errorModel = implementation.families[problem.family]?.errorModel ?? 'componentwise';
        const worst = errorInBounds(problem, outputs as unknown as OutputsOf<typeof problem.family>, errorModel);
        expect(worst, label).toBeLessThanOrEqual(1);
        compared++;
      }
      // Only the cpu FFT may decline, and only the long lti-ssm cases.
      expect(compared).toBeGreaterThanOrEqual(problemsAtLength(length).length - (implementation === cpu ? 2 : 0));
    });
  }

  it('returns h0 (or zeros) as the last state and empty sequences at L = 0 without asking tfjs', async () => {
    const t = tensorSource('empty');
    const h0 = t([2, 3]);
    const before = tf.memory().numTensors;
    const linear = await implementation.families['linear-recurrence']!.run({
      family: 'linear-recurrence',
      inputs: { a: t([2, 3, 0]), b: t([2, 3, 0]), h0 },
      options: { reverse: true },
    });
    expect(linear.h.shape).toEqual([2, 3, 0]);
    expect(Array.from(linear.lastState.data)).toEqual(Array.from(h0.data));
    const selective = await implementation.families['selective-scan']!.run({
      family: 'selective-scan',
      inputs: { u: t([2, 3, 0]), delta: t([2, 3, 0]), A: t([3, 4]), B: t([2, 4, 0]), C: t([3, 4]) },
      options: { deltaSoftplus: true },
    });
    expect(selective.y.shape).toEqual([2, 3, 0]);
    expect(Array.from(selective.lastState.data)).toEqual(new Array(24).fill(0));
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('tf.cumsum and the cpu FFT are the code under test', () => {
  it('declines long cpu FFT convolutions with the reason and accepts short ones', () => {
    const t = tensorSource('decline');
    const ltiSsm = cpu.families['lti-ssm']!;
    const problemOf = (length: number) =>
      ({ family: 'lti-ssm', inputs: { Abar: t([4, 2]), Bbar: t([4, 2]), C: t([4, 2]), u: t([2, 4, length]) }, options: {} }) as const;
    expect(ltiSsm.decline?.(problemOf(64))).toBeUndefined();
    expect(ltiSsm.decline?.(problemOf(4096))).toMatch(/cpu FFT is slow.*12 rows × 8192-point transforms/);
    expect(wasm.families['lti-ssm']!.decline?.(problemOf(4096))).toBeUndefined();
  });

  it('leaks no tensor across many runs of every family on both backends', async () => {
    const problems = problemsAtLength(9);
    await runProblem(cpu, problems[0].problem); // backends initialised, lazily created kernels in place
    await runProblem(wasm, problems[0].problem);
    const before = tf.memory().numTensors;
    for (const implementation of [cpu, wasm, cpu]) {
      for (const { problem } of problems) await runProblem(implementation, problem);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('one-token steps match the reference step with no leak', async () => {
    const before = tf.memory().numTensors;
    for (const implementation of [cpu, wasm]) {
      for (const check of await stepErrors(implementation)) expect(check.error, check.label).toBeLessThanOrEqual(1);
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('backend isolation: tfjs keeps one global engine', () => {
  const problems = problemsAtLength(9).map((p) => p.problem);

  async function answers(implementation: ScanImplementation): Promise<Float32Array[]> {
    const all: Float32Array[] = [];
    for (const problem of problems) {
      const outputs = await runProblem(implementation, problem);
      for (const tensor of Object.values(outputs ?? {})) all.push(Float32Array.from(tensor.data));
    }
    return all;
  }

  it('cpu, then wasm, then cpu gives each backend the answers it gives alone', async () => {
    const cpuAlone = await answers(cpu);
    const wasmAlone = await answers(wasm);
    const [cpuFirst, wasmBetween, cpuAgain] = [await answers(cpu), await answers(wasm), await answers(cpu)];
    expect(cpuFirst).toEqual(cpuAlone);
    expect(wasmBetween).toEqual(wasmAlone);
    expect(cpuAgain).toEqual(cpuAlone);
    // The backends do differ somewhere (different exp, different reduction order), so equality above is not vacuous.
    expect(wasmAlone).not.toEqual(cpuAlone);
  });

  it('runs started together on both backends are serialized, not interleaved', async () => {
    const cpuAlone = await answers(cpu);
    const wasmAlone = await answers(wasm);
    const [a, b, c] = await Promise.all([answers(cpu), answers(wasm), answers(cpu)]);
    expect(a).toEqual(cpuAlone);
    expect(b).toEqual(wasmAlone);
    expect(c).toEqual(cpuAlone);
  });
});
