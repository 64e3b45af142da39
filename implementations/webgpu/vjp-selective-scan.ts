/**
 * selective-scan's backward pass on the GPU (spec/gradients.md), four submissions in the shape of
 * Mamba's CUDA backward: the rows' decays and drives (wgsl-selective-scan-vjp.ts), the forward
 * states recomputed by linear-recurrence's row scan over the B·D·N state rows, the adjoint λ by
 * linear-recurrence's adjoint row scan (vjp-linear-recurrence.ts, which also gives h̄0), and the
 * chain rule per element with the shared parameters (A, B, C, D, deltaBias) summed on the GPU.
 * The engine runs one module per submission and returns its outputs to the host, so the rows'
 * intermediates (decay, drive, states, λ) pass through host memory between submissions: a cost in
 * bandwidth, not in arithmetic, which all happens in WGSL.
 */
import type { Problem } from '../../spec/families.ts';
import type { Cotangents, GradientsOf } from '../../spec/gradients.ts';
import { ImplementationDeclinedError } from '../../spec/implementation.ts';
import { dimensionsOf, projectionLayout } from '../../spec/shapes.ts';
import type { OutputTensor } from '../../spec/tensor.ts';
import { capacityShortfall, float16RangeShortfall } from './capacity.ts';
import { runForwardScan, storedCopy } from './family-linear-recurrence.ts';
import { projectionParams, selectiveScanParamWords, storedInputs, withResetFlags } from './family-selective-scan.ts';
import type { KernelRuntime } from './runtime.ts';
import { bytesPerElement } from './storage-type.ts';
import { asFloat32, linearRecurrenceVjp } from './vjp-linear-recurrence.ts';
import { PROJECTION_KIND } from './wgsl-channel-scan.ts';
import { ROW_SCAN_TILE } from './wgsl-row-scan.ts';
import { SELECTIVE_SCAN_VJP_PARAM_WORDS, SELECTIVE_SCAN_VJP_WORKGROUP } from './wgsl-selective-scan-vjp.ts';

/** The labels of the modules the backward pass runs. */
export interface SelectiveScanVjpModules {
  readonly prepare: string;
  readonly gradients: string;
  readonly rowScan: string;
  readonly rowAdjoint: string;
}

/** Why the backward pass of a problem does not fit the device or float16 storage; undefined when it fits. */
export function selectiveScanAdjointShortfall(runtime: KernelRuntime, problem: Problem<'selective-scan'>, cotangents: Cotangents<'selective-scan'>): string | undefined {
  const { batch, dim, length, stateSize } = dimensionsOf(problem);
  const element = bytesPerElement(runtime.storage);
  const rows = batch * dim * stateSize;
  const sequence = batch * dim * length;
  const { inputs } = problem;
  const rowBytes = rows * length * element;
  const rowBuffers = ['decay', 'drive', 'adjointDrive', 'states', 'lambda', 'lambdaTimesPrevious'].map((name) => ({ name, bytes: rowBytes }));
  return (
    capacityShortfall(
      runtime.limits(),
      [
        ...rowBuffers,
        { name: 'sequences (u, cotangent y, z)', bytes: 3 * sequence * element },
        { name: 'projections (B, C)', bytes: (inputs.B.data.length + inputs.C.data.length) * element },
        { name: 'contributions', bytes: (3 * rows * length + 2 * sequence) * 4 },
        { name: 'tileTotals', bytes: rows * Math.ceil(length / ROW_SCAN_TILE) * 8 },
      ],
      [rows * Math.ceil(length / ROW_SCAN_TILE), Math.ceil((rows * length) / SELECTIVE_SCAN_VJP_WORKGROUP), parameterGradientCount(problem)],
    ) ??
    float16RangeShortfall(runtime.storage, {
      ...storedInputs(inputs),
      'cotangent y': asFloat32(cotangents.y.data),
      'cotangent lastState': asFloat32(cotangents.lastState.data),
    })
  );
}

/** The gradient of every differentiable input present; declines (ImplementationDeclinedError) a problem that does not fit. */
export async function selectiveScanVjp(
  runtime: KernelRuntime,
  modules: SelectiveScanVjpModules,
  problem: Problem<'selective-scan'>,
  cotangents: Cotangents<'selective-scan'>,
): Promise<GradientsOf<'selective-scan'>> {
  const reason = selectiveScanAdjointShortfall(runtime, problem, cotangents);
  if (reason !== undefined) throw new ImplementationDeclinedError(reason);
  const dims = dimensionsOf(problem);
  const { batch, dim, length: L, stateSize: N } = dims;
  const { u, delta, A, B, C, D, z, deltaBias, h0, seqIdx } = problem.inputs;
  const channels = batch * dim;
  const S = channels * L;
  const R = S * N;
  if (S === 0) return emptyGradients(runtime, problem, cotangents);

  const params = new Uint32Array(SELECTIVE_SCAN_VJP_PARAM_WORDS);
  params.set([...selectiveScanParamWords(problem.inputs, problem.options, dims), B.data.length, C.data.length, batch]);
  const shared = {
    sequences: concat([u.data, asFloat32(cotangents.y.data), z?.data ?? new Float32Array(S)]),
    delta: seqIdx === undefined ? delta.data : withResetFlags(delta.data, seqIdx.data, batch, L),
    parameters: concat([A.data, D?.data ?? new Float32Array(dim), deltaBias?.data ?? new Float32Array(dim)]),
    projections: concat([B.data, C.data]),
  };
  const engine = runtime.engine();

  // N ≥ 1 (spec/validate.ts), so S > 0 means there are state rows to scan.
  const rows = await engine.run({
    module: modules.prepare,
    params,
    inputs: shared,
    outputs: { decay: R, drive: R, adjointDrive: R },
    dispatches: [{ entryPoint: 'prepareRows', workgroups: Math.ceil(R / SELECTIVE_SCAN_VJP_WORKGROUP) }],
  });
  // The state rows (b, d, n) as a linear recurrence of shape (batch, dim·N, L): h0's and lastState's order.
  const rowShape = [batch, dim * N, L];
  const stateShape = [batch, dim * N];
  const recurrence: Problem<'linear-recurrence'> = {
    family: 'linear-recurrence',
    inputs: { a: { data: rows.decay, shape: rowShape }, b: { data: rows.drive, shape: rowShape }, ...(h0 !== undefined ? { h0: { data: h0.data, shape: stateShape } } : {}) },
    options: { reverse: false },
  };
  const forward = await runForwardScan(runtime, modules.rowScan, recurrence);
  const adjoint = await linearRecurrenceVjp(runtime, modules.rowAdjoint, recurrence, { h: { data: rows.adjointDrive, shape: rowShape }, lastState: { data: asFloat32(cotangents.lastState.data), shape: stateShape } }, forward.h);
  const rowGradients = { states: forward.h, lambda: asFloat32(adjoint.b?.data ?? missing('b')), lambdaTimesPrevious: asFloat32(adjoint.a?.data ?? missing('a')) };
  const overflow = float16IntermediateOverflow(runtime, { ...rows, ...rowGradients });
  if (overflow !== undefined) throw new ImplementationDeclinedError(overflow);

  const parameterCount = parameterGradientCount(problem);
  // Per-time B and C elements sum a group's few channels (an invocation each); the rest batch·L terms (a workgroup each).
  const [bKind] = projectionParams(projectionLayout(B.shape));
  const [cKind] = projectionParams(projectionLayout(C.shape));
  const perTimeCount = (bKind === PROJECTION_KIND.perTime ? B.data.length : 0) + (cKind === PROJECTION_KIND.perTime ? C.data.length : 0);
  const out = await engine.run({
    module: modules.gradients,
    params,
    inputs: { ...shared, ...rowGradients },
    scratchBytes: { contributions: (3 * R + 2 * S) * 4 },
    outputs: { channelGradients: 3 * S, parameterGradients: parameterCount },
    dispatches: [
      { entryPoint: 'elementGradients', workgroups: Math.ceil(S / SELECTIVE_SCAN_VJP_WORKGROUP) },
      { entryPoint: 'reduceParameters', workgroups: parameterCount - perTimeCount },
      { entryPoint: 'sumGroups', workgroups: Math.ceil(perTimeCount / SELECTIVE_SCAN_VJP_WORKGROUP) },
    ],
  });
  const part = (source: Float32Array, offset: number, shape: readonly number[]): OutputTensor => ({
    data: source.slice(offset, offset + shape.reduce((p, s) => p * s, 1)),
    shape: [...shape],
  });
  const { channelGradients: channel, parameterGradients: parameter } = out;
  const bAt = dim * N;
  const cAt = bAt + B.data.length;
  const dAt = cAt + C.data.length;
  return {
    u: part(channel, S, u.shape),
    delta: part(channel, 0, delta.shape),
    A: part(parameter, 0, A.shape),
    B: part(parameter, bAt, B.shape),
    C: part(parameter, cAt, C.shape),
    ...(D !== undefined ? { D: part(parameter, dAt, D.shape) } : {}),
    ...(z !== undefined ? { z: part(channel, 2 * S, z.shape) } : {}),
    ...(deltaBias !== undefined ? { deltaBias: part(parameter, dAt + dim, deltaBias.shape) } : {}),
    ...(h0 !== undefined ? { h0: { data: asFloat32(adjoint.h0?.data ?? missing('h0')), shape: [...h0.shape] } } : {}),
  };
}

/**
 * float16 storage holds the rows' intermediates (decays, drives, states, λ) in float16 between
 * submissions, where the forward keeps its states in f32 registers: one beyond 65504 is Inf there
 * and would turn gradients the reference has finite into Inf or NaN, so such a problem is declined.
 */
function float16IntermediateOverflow(runtime: KernelRuntime, intermediates: Readonly<Record<string, Float32Array>>): string | undefined {
  if (runtime.storage !== 'f16') return undefined;
  for (const [name, values] of Object.entries(intermediates)) {
    const i = values.findIndex((v) => !Number.isFinite(v));
    if (i >= 0) return `the backward pass's intermediate ${name} is ${values[i]} at element ${i} in float16 storage (largest finite float16 is 65504)`;
  }
  return undefined;
}

/** Elements of parameterGradients: A, B, C, D and deltaBias (D and deltaBias always computed, kept when present). */
function parameterGradientCount(problem: Problem<'selective-scan'>): number {
  const { A, B, C } = problem.inputs;
  return A.data.length + B.data.length + C.data.length + 2 * A.shape[0];
}

/**
 * No (b, d, t) element (batch, dim or L is 0): nothing reads a parameter, so their gradients are 0,
 * and with L = 0 the last state is h0 itself, so h0's gradient is lastState's cotangent (as stored).
 */
function emptyGradients(runtime: KernelRuntime, problem: Problem<'selective-scan'>, cotangents: Cotangents<'selective-scan'>): GradientsOf<'selective-scan'> {
  const zeros = (t: { readonly data: ArrayLike<number>; readonly shape: readonly number[] }): OutputTensor => ({ data: new Float32Array(t.data.length), shape: [...t.shape] });
  const { u, delta, A, B, C, D, z, deltaBias, h0 } = problem.inputs;
  return {
    u: zeros(u),
    delta: zeros(delta),
    A: zeros(A),
    B: zeros(B),
    C: zeros(C),
    ...(D !== undefined ? { D: zeros(D) } : {}),
    ...(z !== undefined ? { z: zeros(z) } : {}),
    ...(deltaBias !== undefined ? { deltaBias: zeros(deltaBias) } : {}),
    ...(h0 !== undefined ? { h0: { data: storedCopy(asFloat32(cotangents.lastState.data), runtime.storage), shape: [...h0.shape] } } : {}),
  };
}

function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function missing(name: string): never {
  throw new Error(`selective-scan vjp: the row adjoint returned no gradient of ${name}`);
}
