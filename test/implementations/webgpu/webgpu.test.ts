/**
 * The WGSL kernels of implementations/webgpu against the reference: every family, option and
 * B/C layout on awkward lengths, h0, steps, float16 storage, declines, and evidence that the
 * answers come from WGSL compute pipelines on a WebGPU adapter. Without an adapter every test
 * skips with the reason, unless REQUIRE_WEBGPU=1, when the availability test fails instead.
 */
import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { reference, referenceStep } from '../../../reference/index.ts';
import type { ReferenceTensors } from '../../../reference/result.ts';
import { OUTPUT_NAMES, type FamilyName, type OptionsOf, type Problem, type StepInputsOf } from '../../../spec/families.ts';
import { UNIT_ROUNDOFF } from '../../../spec/precision.ts';
import { sampleProblem, type OptionalInputSwitches, type ProjectionKind } from '../../../spec/regimes.ts';
import { liveWebGpuDeviceCount } from '../../../implementations/webgpu/device.ts';
import { float16Bits, float16Value } from '../../../spec/float16.ts';
import registered from '../../../implementations/webgpu/index.ts';
import { createWebGpuImplementation, type WebGpuScanImplementation } from '../../../implementations/webgpu/webgpu-implementation.ts';
import { setUpAll, skipNote, itIsAvailable } from './adapter.ts';

const LENGTHS = [0, 1, 2, 3, 7, 8, 9, 255, 256, 257, 1000, 4097];
const LAYOUTS: readonly ProjectionKind[] = ['time-invariant', 'time-varying', 'grouped'];

const [webgpuF32, webgpuF16] = registered;
const [f32Unavailable, f16Unavailable] = await setUpAll(webgpuF32, webgpuF16);

/** Largest |got − ref| / bound over every output, where bound = c·u·(2W + 32S) + underflow. */
function worstBoundRatio<F extends FamilyName>(
  family: F,
  got: Readonly<Record<string, { readonly data: Float32Array | Float64Array }>>,
  expected: { outputs: ReferenceTensors<F>; conditionScales: ReferenceTensors<F>; depthScales?: ReferenceTensors<F> },
  unitRoundoff: number,
  names: readonly string[] = OUTPUT_NAMES[family],
): number {
  let worst = 0;
  for (const name of names) {
    const value = got[name].data;
    const exact = (expected.outputs as Record<string, { data: Float64Array }>)[name].data;
    const scale = (expected.conditionScales as Record<string, { data: Float64Array }>)[name].data;
    const depth = (expected.depthScales as Record<string, { data: Float64Array }> | undefined)?.[name].data;
    expect(value.length, `${family} ${name} length`).toBe(exact.length);
    for (let i = 0; i < value.length; i++) {
      // 4 × the depth-weighted bound of the tolerance notes, plus a few float32 subnormal ulps.
      const bound = 4 * unitRoundoff * (2 * (depth?.[i] ?? 0) + 32 * scale[i]) + 2 ** -140;
      const ratio = Math.abs(value[i] - exact[i]) / bound;
      // NaN and ±Inf fail here: a comparison with NaN is false, and Inf / bound is not finite.
      if (!(ratio <= worst) && !(Number.isFinite(ratio) && ratio > worst)) return Number.POSITIVE_INFINITY;
      worst = Math.max(worst, ratio);
    }
  }
  return worst;
}

function problemFor<F extends FamilyName>(
  family: F,
  length: number,
  options: OptionsOf<F>,
  extra: { optional?: OptionalInputSwitches; B?: ProjectionKind; C?: ProjectionKind; stateSize?: number; seed?: string } = {},
): Problem<F> {
  const uniform = seedrandom(`${family}:${length}:${JSON.stringify(options)}:${JSON.stringify(extra)}`);
  return sampleProblem(
    {
      family,
      dims: { batch: 2, dim: 4, length, stateSize: extra.stateSize ?? 5, groups: 2 },
      options,
      optionalInputs: extra.optional,
      projections: family === 'selective-scan' ? { B: extra.B ?? 'time-varying', C: extra.C ?? 'time-varying' } : undefined,
      regime: 'generic',
    },
    uniform,
  );
}

async function expectConformant<F extends FamilyName>(implementation: WebGpuScanImplementation, problem: Problem<F>, unitRoundoff: number): Promise<void> {
  const family = implementation.families[problem.family] as unknown as { run(p: Problem<F>): Promise<Record<string, { data: Float32Array }>> };
  const got = await family.run(problem);
  const ratio = worstBoundRatio(problem.family, got, reference(problem), unitRoundoff);
  expect(ratio, `${implementation.name} ${problem.family} ${JSON.stringify(problem.options)} shape ${JSON.stringify(Object.values(problem.inputs).map((t) => t?.shape))}`).toBeLessThanOrEqual(1);
}

describe('WebGPU adapter', () => {
  itIsAvailable(f32Unavailable);
  it.skipIf(f32Unavailable !== undefined)(`reports where the kernels ran${skipNote(f32Unavailable)}`, () => {
    const environment = webgpuF32.environment();
    expect(environment.vendor + environment.architecture + environment.device + environment.description).not.toBe('');
    expect(['true', 'false']).toContain(environment.fallback);
    expect(['true', 'false']).toContain(environment.emulated);
    expect(environment.features.split(',').length).toBeGreaterThan(0);
  });
});

describe.skipIf(f32Unavailable !== undefined)(`webgpu-f32 runs WGSL compute pipelines${skipNote(f32Unavailable)}`, () => {
  it('compiled one WGSL compute module per scan, step and backward kernel', () => {
    const labels = webgpuF32.kernels().map((k) => k.label);
    expect(labels).toEqual([
      'prefix-sum scan (f32)',
      'prefix-sum step (f32)',
      'linear-recurrence scan (f32)',
      'linear-recurrence step (f32)',
      'linear-recurrence adjoint (f32)',
      'selective-scan scan (f32)',
      'lti-ssm scan (f32)',
      'selective-scan adjoint inputs (f32)',
      'selective-scan gradients (f32)',
      'ssd scan (f32)',
      'mamba3-siso scan (f32)',
    ]);
    for (const kernel of webgpuF32.kernels()) {
      expect(kernel.wgsl).toContain('@compute');
      for (const entryPoint of kernel.entryPoints) expect(kernel.wgsl).toContain(`fn ${entryPoint}(`);
    }
  });

  it('dispatches workgroups and reads results back from GPU buffers on every run', async () => {
    const before = webgpuF32.gpuStats();
    await webgpuF32.families['prefix-sum']!.run(problemFor('prefix-sum', 3000, { exclusive: false, reverse: false }));
    const after = webgpuF32.gpuStats();
    expect(after.submissions).toBe(before.submissions + 1);
    expect(after.dispatches).toBe(before.dispatches + 3);
    expect(after.bytesReadBack - before.bytesReadBack).toBe(2 * 4 * 3000 * 4);
  });

  it('answers with what the WGSL computes: a kernel rewritten to read 2·x returns exactly twice the sums', async () => {
    const doubled = createWebGpuImplementation({
      storage: 'f32',
      name: 'webgpu-f32-doubled-input',
      transformShader: (label, wgsl) =>
        label.startsWith('prefix-sum scan') ? wgsl.replace('return f32(x[i]);', 'return 2.0 * f32(x[i]);') : wgsl,
    });
    await doubled.setup();
    try {
      const problem = problemFor('prefix-sum', 1000, { exclusive: true, reverse: false });
      const honest = await webgpuF32.families['prefix-sum']!.run(problem);
      const faulty = await doubled.families['prefix-sum']!.run(problem);
      expect(Array.from(faulty.y.data)).toEqual(Array.from(honest.y.data, (v) => 2 * v));
    } finally {
      await doubled.dispose();
    }
  });

  it('fails setup, releasing its device, when a kernel does not compile', async () => {
    const live = liveWebGpuDeviceCount();
    const broken = createWebGpuImplementation({
      storage: 'f32',
      name: 'webgpu-f32-broken',
      transformShader: (label, wgsl) => (label.startsWith('lti-ssm') ? `${wgsl}\nfn broken( {` : wgsl),
    });
    await expect(broken.setup()).rejects.toThrow(/WGSL module 'lti-ssm scan \(f32\)' failed to compile/);
    expect(liveWebGpuDeviceCount()).toBe(live);
  });

  it('rejects runs after dispose and releases the device', async () => {
    const own = createWebGpuImplementation({ storage: 'f32', name: 'webgpu-f32-lifecycle' });
    const live = liveWebGpuDeviceCount();
    await own.setup();
    expect(liveWebGpuDeviceCount()).toBe(live + 1);
    await own.dispose();
    expect(liveWebGpuDeviceCount()).toBe(live);
    await expect(own.families['lti-ssm']!.run(problemFor('lti-ssm', 4, {}))).rejects.toThrow(/setup\(\) has not run/);
  });

  it('declines a problem beyond maxStorageBufferBindingSize, reading only its shape', () => {
    const length = 2 ** 26;
    const problem: Problem<'prefix-sum'> = {
      family: 'prefix-sum',
      inputs: { x: { data: new Float32Array(0), shape: [1, 1, length] } },
      options: { exclusive: false, reverse: false },
    };
    expect(webgpuF32.families['prefix-sum']!.decline!(problem)).toMatch(/buffer x needs 268435456 bytes, beyond the device's maxStorageBufferBindingSize/);
    expect(webgpuF32.families['prefix-sum']!.decline!(problemFor('prefix-sum', 4097, { exclusive: false, reverse: false }))).toBeUndefined();
  });
});

describe.skipIf(f32Unavailable !== undefined)(`webgpu-f32 against the reference${skipNote(f32Unavailable)}`, () => {
  const u = UNIT_ROUNDOFF.float32;

  it('prefix-sum: every length, inclusive/exclusive, forward/reverse', async () => {
    for (const length of LENGTHS) {
      for (const exclusive of [false, true]) {
        for (const reverse of [false, true]) await expectConformant(webgpuF32, problemFor('prefix-sum', length, { exclusive, reverse }), u);
      }
    }
  });

  it('prefix-sum: rows longer than many tiles (scan of the tile totals loops)', async () => {
    const problem = sampleProblem(
      { family: 'prefix-sum', dims: { batch: 1, dim: 1, length: 300_000 }, options: { exclusive: true, reverse: true }, regime: 'generic' },
      seedrandom('long prefix-sum'),
    );
    await expectConformant(webgpuF32, problem, u);
  });

  it('linear-recurrence: every length, forward/reverse, with and without h0', async () => {
    for (const length of LENGTHS) {
      for (const reverse of [false, true]) {
        for (const h0 of [false, true]) await expectConformant(webgpuF32, problemFor('linear-recurrence', length, { reverse }, { optional: { h0 } }), u);
      }
    }
  });

  it('linear-recurrence: lastState is h0 when L = 0, and the state after the last step otherwise', async () => {
    const empty = problemFor('linear-recurrence', 0, { reverse: false }, { optional: { h0: true } });
    const outputs = await webgpuF32.families['linear-recurrence']!.run(empty);
    expect(Array.from(outputs.lastState.data)).toEqual(Array.from(empty.inputs.h0!.data));
    const reversed = problemFor('linear-recurrence', 9, { reverse: true }, { optional: { h0: true } });
    const result = await webgpuF32.families['linear-recurrence']!.run(reversed);
    for (let row = 0; row < 8; row++) expect(result.lastState.data[row]).toBe(result.h.data[row * 9]);
  });

  it('selective-scan: every length, cycling B/C layouts, softplus and the optional inputs', async () => {
    for (const [i, length] of LENGTHS.entries()) {
      const on = i % 2 === 0;
      const problem = problemFor(
        'selective-scan',
        length,
        { deltaSoftplus: i % 3 !== 2 },
        { B: LAYOUTS[i % 3], C: LAYOUTS[(i + 1) % 3], optional: { D: on, z: on, deltaBias: !on, h0: i % 4 < 2 } },
      );
      await expectConformant(webgpuF32, problem, u);
    }
  });

  it('selective-scan: all nine B/C layout pairs, and N beyond one workgroup of states', async () => {
    for (const B of LAYOUTS) {
      for (const C of LAYOUTS) {
        const optional = { D: true, z: true, deltaBias: true, h0: true };
        await expectConformant(webgpuF32, problemFor('selective-scan', 257, { deltaSoftplus: true }, { B, C, optional }), u);
      }
    }
    await expectConformant(webgpuF32, problemFor('selective-scan', 100, { deltaSoftplus: true }, { stateSize: 70, B: 'grouped', C: 'time-invariant', optional: { z: true } }), u);
  });

  it('lti-ssm: every length, with and without D', async () => {
    for (const [i, length] of LENGTHS.entries()) await expectConformant(webgpuF32, problemFor('lti-ssm', length, {}, { optional: { D: i % 2 === 0 } }), u);
  });

  it('step of every family matches the reference step', async () => {
    await expectStepsConformant(webgpuF32, u);
  });
});

describe.skipIf(f16Unavailable !== undefined)(`webgpu-f16 (float16 storage, float32 arithmetic)${skipNote(f16Unavailable)}`, () => {
  const u = UNIT_ROUNDOFF.float16;

  it('declares float16 precision with float32 accumulation and says inputs are rounded to float16', () => {
    expect(webgpuF16.precision).toBe('float16');
    expect(webgpuF16.accumulation).toBe('float32');
    expect(webgpuF16.description).toMatch(/inputs are rounded to float16/);
    expect(webgpuF16.environment().features.split(',')).toContain('shader-f16');
    expect(webgpuF16.kernels().every((k) => k.wgsl.includes('enable f16;'))).toBe(true);
  });

  it('every family on awkward lengths against the reference', async () => {
    for (const length of [0, 1, 2, 7, 9, 257, 1000, 4097]) {
      await expectConformant(webgpuF16, problemFor('prefix-sum', length, { exclusive: length % 2 === 1, reverse: length % 3 === 1 }), u);
      await expectConformant(webgpuF16, problemFor('linear-recurrence', length, { reverse: length % 2 === 0 }, { optional: { h0: true } }), u);
      await expectConformant(
        webgpuF16,
        problemFor('selective-scan', length, { deltaSoftplus: true }, { B: 'grouped', C: 'time-invariant', optional: { D: true, z: true, deltaBias: true, h0: true } }),
        u,
      );
      await expectConformant(webgpuF16, problemFor('lti-ssm', length, {}, { optional: { D: true } }), u);
    }
  });

  it('declines inputs that round to Inf in float16', () => {
    const problem = problemFor('prefix-sum', 5, { exclusive: false, reverse: false });
    const huge: Problem<'prefix-sum'> = { ...problem, inputs: { x: { data: Float32Array.from(problem.inputs.x.data, (v, i) => (i === 3 ? 70000 : v)), shape: problem.inputs.x.shape } } };
    expect(webgpuF16.families['prefix-sum']!.decline!(huge)).toMatch(/input x holds \|value\| = 70000, which rounds to Inf in float16/);
    expect(webgpuF16.families['prefix-sum']!.decline!(problem)).toBeUndefined();
  });

  it('step of every family matches the reference step', async () => {
    await expectStepsConformant(webgpuF16, u);
  });
});

/** Step inputs built from a sampled L = 1 problem of each family, checked against referenceStep. */
async function expectStepsConformant(implementation: WebGpuScanImplementation, u: number): Promise<void> {
  const seed = seedrandom(`steps ${implementation.name}`);
  const state = (count: number) => Float32Array.from({ length: count }, () => 2 * seed() - 1);
  const batch = 2;
  const dim = 4;
  const flat = (data: Float32Array, shape: readonly number[]) => ({ data, shape });

  const prefix = problemFor('prefix-sum', 1, { exclusive: false, reverse: false });
  await expectStep(implementation, 'prefix-sum', { x: flat(prefix.inputs.x.data, [batch, dim]), state: flat(state(batch * dim), [batch, dim]) }, { exclusive: false, reverse: false }, u);

  const linear = problemFor('linear-recurrence', 1, { reverse: false });
  await expectStep(
    implementation,
    'linear-recurrence',
    { a: flat(linear.inputs.a.data, [batch, dim]), b: flat(linear.inputs.b.data, [batch, dim]), state: flat(state(batch * dim), [batch, dim]) },
    { reverse: false },
    u,
  );

  for (const [B, C] of [['time-invariant', 'time-varying'], ['grouped', 'grouped'], ['time-varying', 'time-invariant']] as const) {
    const selective = problemFor('selective-scan', 1, { deltaSoftplus: true }, { B, C, optional: { D: true, z: true, deltaBias: true } });
    const { u: input, delta, z, ...rest } = selective.inputs;
    await expectStep(
      implementation,
      'selective-scan',
      { ...rest, u: flat(input.data, [batch, dim]), delta: flat(delta.data, [batch, dim]), z: flat(z!.data, [batch, dim]), state: flat(state(batch * dim * 5), [batch, dim, 5]) },
      { deltaSoftplus: true },
      u,
    );
  }

  const lti = problemFor('lti-ssm', 1, {}, { optional: { D: true } });
  await expectStep(implementation, 'lti-ssm', { ...lti.inputs, u: flat(lti.inputs.u.data, [batch, dim]), state: flat(state(batch * dim * 5), [batch, dim, 5]) }, {}, u);
}

async function expectStep<F extends FamilyName>(implementation: WebGpuScanImplementation, family: F, inputs: StepInputsOf<F>, options: OptionsOf<F>, u: number): Promise<void> {
  const step = implementation.families[family]!.step!;
  const before = implementation.gpuStats().dispatches;
  const got = await step(inputs, options);
  expect(implementation.gpuStats().dispatches, `${family} step dispatches a kernel`).toBeGreaterThan(before);
  const expected = referenceStep(family, inputs, options);
  const ratio = worstBoundRatio(family, got as never, expected as never, u, ['y', 'state']);
  expect(ratio, `${family} step`).toBeLessThanOrEqual(1);
}

describe('float16 rounding of the f16 kernels\' inputs (host side, no GPU)', () => {
  it('rounds to nearest, ties to even, with gradual underflow and overflow to Inf', () => {
    expect(float16Bits(1)).toBe(0x3c00);
    expect(float16Bits(-2)).toBe(0xc000);
    expect(float16Bits(65504)).toBe(0x7bff);
    expect(float16Bits(65519.99)).toBe(0x7bff);
    expect(float16Bits(65520)).toBe(0x7c00);
    expect(float16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie between 1 and 1 + 2^-10: even is 1
    expect(float16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie between 1 + 2^-10 and 1 + 2^-9: even is the latter
    expect(float16Bits(2 ** -24)).toBe(0x0001);
    expect(float16Bits(2 ** -25)).toBe(0x0000); // tie between 0 and the smallest subnormal
    expect(float16Bits(3 * 2 ** -26)).toBe(0x0001);
    expect(float16Bits(2 ** -14 - 2 ** -25)).toBe(0x0400); // rounds up into the normal range
    expect(float16Bits(-0)).toBe(0x8000);
  });

  it('every float16 value survives the round trip exactly', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      if ((bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0) continue; // NaN patterns
      if (float16Bits(float16Value(bits)) !== bits) expect.fail(`pattern ${bits.toString(16)} → ${float16Value(bits)} → ${float16Bits(float16Value(bits)).toString(16)}`);
    }
  });
});
