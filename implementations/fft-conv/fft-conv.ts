/**
 * FFT-convolution implementations of the time-invariant state-space models: lti-ssm, and the
 * selective scans whose discretization does not depend on t. The recurrence unrolls into
 * y = K ∗ u + D·u with K_k = Σ_n C_n·B̄_n·Ā_n^k, computed as
 *
 *   1. the kernel K of each channel from blocked power tables (powers.ts, kernel.ts),
 *   2. its spectrum once per channel, reused across the batch (convolution.ts),
 *   3. per (batch, channel): a zero-padded causal FFT convolution, then y_t += D·u_t (same t:
 *      the skip term is not delayed), then the SiLU gate for the selective scan,
 *   4. the selective scan's last state h_(L−1),n = B̄_n·Σ_r Ā_n^r·u_(L−1−r) from the same tables.
 *
 * Errors are normwise (each output against ‖K‖·‖u‖ of its channel), not componentwise: the FFT
 * mixes every input into every output. Every other input is declined with its reason.
 */
import type {
  LtiSsmOutputs,
  LtiSsmStepInputs,
  Problem,
  SelectiveScanOutputs,
  StepOutputs,
} from '../../spec/families.ts';
import type { FamilyImplementation, ScanImplementation } from '../../spec/implementation.ts';
import { dimensionsOf, outputShapes, projectionIndex, projectionLayout, stepDimensionsOf, stepOutputShapes } from '../../spec/shapes.ts';
import { ChannelKernel, kernelRangeReason, type KernelArithmetic } from './channel-kernel.ts';
import { CausalConvolver } from './convolution.ts';
import { kernelFloat32, kernelFloat64, lastStateFloat32, lastStateFloat64 } from './kernel.ts';
import { allocatePowerTables, fillPowerTables } from './powers.ts';
import { analyseTimeInvariance } from './time-invariance.ts';

/** How many convolvers (one per sequence length) an implementation keeps for reuse. */
const CONVOLVER_CACHE_SIZE = 4;

/** The FFT-convolution implementation in one precision. */
export function createFftConv(precision: KernelArithmetic): ScanImplementation {
  const f32 = precision === 'float32';
  const convolvers = new Map<number, CausalConvolver>();

  /** The convolver for length L, reused across runs (its FFT plan and buffers are the costly part). */
  const convolverFor = (length: number): CausalConvolver => {
    const cached = convolvers.get(length);
    if (cached !== undefined) {
      convolvers.delete(length);
      convolvers.set(length, cached); // most recently used last
      return cached;
    }
    if (convolvers.size >= CONVOLVER_CACHE_SIZE) convolvers.delete(convolvers.keys().next().value as number);
    const created = new CausalConvolver(length, precision);
    convolvers.set(length, created);
    return created;
  };
  const alloc = (n: number): Float32Array | Float64Array => (f32 ? new Float32Array(n) : new Float64Array(n));
  const generateKernel = f32 ? kernelFloat32 : kernelFloat64;
  const generateLastState = f32 ? lastStateFloat32 : lastStateFloat64;

  /** Why an lti-ssm problem is declined (a kernel out of range), or undefined. */
  const declineLtiSsm = (problem: Problem<'lti-ssm'>): string | undefined => {
    const { dim, length, stateSize } = dimensionsOf(problem);
    if (length === 0) return undefined;
    const { Abar, Bbar, C } = problem.inputs;
    const channel = new ChannelKernel(stateSize, 'base');
    for (let d = 0; d < dim; d++) {
      channel.setLtiSsm(Abar.data, Bbar.data, C.data, d * stateSize, precision);
      const reason = kernelRangeReason(channel, length, precision, `channel dim ${d}`);
      if (reason !== undefined) return reason;
    }
    return undefined;
  };

  const ltiSsm: FamilyImplementation<'lti-ssm'> = {
    errorModel: 'normwise',
    decline: declineLtiSsm,
    async run(problem): Promise<LtiSsmOutputs> {
      const reason = declineLtiSsm(problem);
      if (reason !== undefined) throw new RangeError(`fft-conv lti-ssm declines this problem: ${reason}`);
      const dims = dimensionsOf(problem);
      const { batch, dim, length: L, stateSize: N } = dims;
      const y = alloc(batch * dim * L);
      const shape = outputShapes('lti-ssm', dims).y;
      if (L === 0) return { y: { data: y, shape } };
      const { Abar, Bbar, C, D, u } = problem.inputs;
      const convolver = convolverFor(L);
      const tables = allocatePowerTables(N, L);
      const channel = new ChannelKernel(N, 'base');
      const scratch = new Float64Array(N);
      const kernel = new Float64Array(L);
      const conv = new Float64Array(L);
      for (let d = 0; d < dim; d++) {
        channel.setLtiSsm(Abar.data, Bbar.data, C.data, d * N, precision);
        fillPowerTables(tables, channel.source, 0);
        generateKernel(tables, channel.weights, L, scratch, kernel);
        convolver.setKernel(kernel);
        const skip = D === undefined ? 0 : D.data[d];
        for (let b = 0; b < batch; b++) {
          const offset = (b * dim + d) * L;
          convolver.convolve(u.data, offset, conv, 0);
          addSkip(conv, u.data, offset, L, skip, D !== undefined, f32, y);
        }
      }
      return { y: { data: y, shape } };
    },
    async step(inputs: LtiSsmStepInputs): Promise<StepOutputs> {
      return ltiSsmStep(inputs, f32);
    },
  };

  /** The reason a selective-scan problem is declined: not time-invariant, or a kernel out of range. */
  const declineSelectiveScan = (problem: Problem<'selective-scan'>): string | undefined => {
    const analysis = analyseTimeInvariance(problem, precision);
    if ('reason' in analysis) return analysis.reason;
    const dims = dimensionsOf(problem);
    const { batch, dim, length, stateSize: N } = dims;
    if (length === 0) return undefined;
    const { A, B, C } = problem.inputs;
    const layoutB = projectionLayout(B.shape);
    const layoutC = projectionLayout(C.shape);
    const channel = new ChannelKernel(N, f32 ? 'log-rate' : 'base');
    for (let b = 0; b < batch; b++) {
      for (let d = 0; d < dim; d++) {
        const bIndex = (n: number): number => projectionIndex(layoutB, dims, b, d, n, 0);
        const cIndex = (n: number): number => projectionIndex(layoutC, dims, b, d, n, 0);
        channel.setSelectiveScan(analysis.deltas[b * dim + d], A.data, d * N, B.data, bIndex, C.data, cIndex, precision);
        const reason = kernelRangeReason(channel, length, precision, `channel (batch ${b}, dim ${d})`);
        if (reason !== undefined) return reason;
      }
    }
    return undefined;
  };

  const selectiveScan: FamilyImplementation<'selective-scan'> = {
    errorModel: 'normwise',
    decline: declineSelectiveScan,
    async run(problem): Promise<SelectiveScanOutputs> {
      const reason = declineSelectiveScan(problem);
      if (reason !== undefined) throw new RangeError(`fft-conv selective-scan declines this problem: ${reason}`);
      const analysis = analyseTimeInvariance(problem, precision);
      if ('reason' in analysis) throw new RangeError(`fft-conv selective-scan declines this problem: ${analysis.reason}`);
      const dims = dimensionsOf(problem);
      const shapes = outputShapes('selective-scan', dims);
      const { batch, dim, length: L, stateSize: N } = dims;
      const y = alloc(batch * dim * L);
      const lastState = alloc(batch * dim * N);
      if (L === 0) return { y: { data: y, shape: shapes.y }, lastState: { data: lastState, shape: shapes.lastState } };
      const { u, A, B, C, D, z } = problem.inputs;
      const layoutB = projectionLayout(B.shape);
      const layoutC = projectionLayout(C.shape);
      const sharedProjections = layoutB.kind === 'time-invariant' && layoutC.kind === 'time-invariant';
      const convolver = convolverFor(L);
      const tables = allocatePowerTables(N, L);
      const channel = new ChannelKernel(N, f32 ? 'log-rate' : 'base');
      const scratch = new Float64Array(N);
      const partial = new Float64Array(N);
      const total = new Float64Array(N);
      const kernel = new Float64Array(L);
      const conv = new Float64Array(L);
      for (let d = 0; d < dim; d++) {
        const skip = D === undefined ? 0 : D.data[d];
        let kernelDelta = Number.NaN;
        for (let b = 0; b < batch; b++) {
          const delta = analysis.deltas[b * dim + d];
          // With (dim, N) B and C the kernel depends on the batch entry only through Δ'.
          if (!sharedProjections || delta !== kernelDelta) {
            const bIndex = (n: number): number => projectionIndex(layoutB, dims, b, d, n, 0);
            const cIndex = (n: number): number => projectionIndex(layoutC, dims, b, d, n, 0);
            channel.setSelectiveScan(delta, A.data, d * N, B.data, bIndex, C.data, cIndex, precision);
            fillPowerTables(tables, channel.source, 0);
            generateKernel(tables, channel.weights, L, scratch, kernel);
            convolver.setKernel(kernel);
            kernelDelta = delta;
          }
          const offset = (b * dim + d) * L;
          convolver.convolve(u.data, offset, conv, 0);
          addSkip(conv, u.data, offset, L, skip, D !== undefined, f32, y);
          if (z !== undefined) applyGate(y, z.data, offset, L, f32);
          generateLastState(tables, u.data, offset, L, channel.bbar, partial, total, lastState, (b * dim + d) * N);
        }
      }
      return { y: { data: y, shape: shapes.y }, lastState: { data: lastState, shape: shapes.lastState } };
    },
  };

  return {
    name: f32 ? 'fft-conv-f32' : 'fft-conv-f64',
    precision,
    description: f32
      ? 'FFT causal convolution (fft.js, zero-padded to 2L): f32 Vandermonde kernel from blocked powers, f32 storage of spectra, products and outputs; transforms in f64. Time-invariant SSMs only.'
      : 'FFT causal convolution (fft.js, zero-padded to 2L) in float64, kernel from blocked powers (Ā^(jB)·Ā^i). Time-invariant SSMs only.',
    families: { 'lti-ssm': ltiSsm, 'selective-scan': selectiveScan },
  };
}

/** y_t = conv_t + D·u_t for one channel (same t: the skip is not delayed), rounded under float32. */
function addSkip(
  conv: Float64Array,
  u: Float32Array,
  offset: number,
  length: number,
  skip: number,
  hasSkip: boolean,
  f32: boolean,
  y: Float32Array | Float64Array,
): void {
  if (!hasSkip) {
    for (let t = 0; t < length; t++) y[offset + t] = conv[t];
  } else if (f32) {
    for (let t = 0; t < length; t++) y[offset + t] = Math.fround(conv[t] + Math.fround(skip * u[offset + t]));
  } else {
    for (let t = 0; t < length; t++) y[offset + t] = conv[t] + skip * u[offset + t];
  }
}

/** y_t ← y_t·silu(z_t) with silu(z) = z / (1 + exp(−z)), rounded after every operation under float32. */
function applyGate(y: Float32Array | Float64Array, z: Float32Array, offset: number, length: number, f32: boolean): void {
  const fround = Math.fround;
  for (let t = offset; t < offset + length; t++) {
    const zt = z[t];
    y[t] = f32 ? fround(y[t] * fround(zt / fround(1 + fround(Math.exp(-zt))))) : y[t] * (zt / (1 + Math.exp(-zt)));
  }
}

/** One lti-ssm token, the plain recurrent update: h ← Ā⊙h + B̄·u, y = Σ_n C·h + D·u. */
function ltiSsmStep(inputs: LtiSsmStepInputs, f32: boolean): StepOutputs {
  const dims = stepDimensionsOf('lti-ssm', inputs);
  const shapes = stepOutputShapes('lti-ssm', dims);
  const { batch, dim, stateSize: N } = dims;
  const { Abar, Bbar, C, D, u, state } = inputs;
  const y = f32 ? new Float32Array(batch * dim) : new Float64Array(batch * dim);
  const next = f32 ? new Float32Array(batch * dim * N) : new Float64Array(batch * dim * N);
  const r = f32 ? Math.fround : (x: number): number => x;
  for (let b = 0; b < batch; b++) {
    for (let d = 0; d < dim; d++) {
      const channel = b * dim + d;
      const ut = u.data[channel];
      let acc = 0;
      for (let n = 0; n < N; n++) {
        const p = d * N + n;
        const h = r(r(Abar.data[p] * state.data[channel * N + n]) + r(Bbar.data[p] * ut));
        next[channel * N + n] = h;
        acc = r(acc + r(C.data[p] * h));
      }
      if (D !== undefined) acc = r(acc + r(D.data[d] * ut));
      y[channel] = acc;
    }
  }
  return { y: { data: y, shape: shapes.y }, state: { data: next, shape: shapes.state } };
}
