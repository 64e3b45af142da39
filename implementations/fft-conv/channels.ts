/**
 * The work of fft-conv on a range of dims [d0, d1) of every batch entry, on whichever thread runs
 * it (the calling one, or a worker of the pool): kernels from blocked powers, their spectra once
 * per channel (shared across the batch), the zero-padded causal convolutions, the skip term, the
 * gate and the selective scan's last state. Each thread keeps its own convolvers (FFT plans and
 * buffers), reused from run to run. A channel's result depends on its own inputs only, so the
 * split into ranges does not change a bit of the outputs.
 */
import type { Problem } from '../../spec/families.ts';
import { dimensionsOf, projectionIndex, projectionLayout } from '../../spec/shapes.ts';
import { ChannelKernel, type KernelArithmetic } from './channel-kernel.ts';
import { CausalConvolver } from './convolution.ts';
import { kernelFloat32, kernelFloat64, lastStateFloat32, lastStateFloat64 } from './kernel.ts';
import { allocatePowerTables, fillPowerTables } from './powers.ts';

/** Output storage: Float32Array for fft-conv-f32, Float64Array for fft-conv-f64. */
export type OutputArray = Float32Array | Float64Array;

/** How many convolvers (one per sequence length) a thread keeps for reuse. */
const CONVOLVER_CACHE_SIZE = 4;

/** One thread's fft-conv state in one precision: its convolvers, kept across runs. */
export class ChannelRunner {
  private readonly convolvers = new Map<number, CausalConvolver>();
  private readonly f32: boolean;

  constructor(readonly precision: KernelArithmetic) {
    this.f32 = precision === 'float32';
  }

  /** The convolver for length L, reused across runs (its FFT plan and buffers are the costly part). */
  private convolverFor(length: number): CausalConvolver {
    const cached = this.convolvers.get(length);
    if (cached !== undefined) {
      this.convolvers.delete(length);
      this.convolvers.set(length, cached); // most recently used last
      return cached;
    }
    if (this.convolvers.size >= CONVOLVER_CACHE_SIZE) this.convolvers.delete(this.convolvers.keys().next().value as number);
    const created = new CausalConvolver(length, this.precision);
    this.convolvers.set(length, created);
    return created;
  }

  /** lti-ssm on dims [d0, d1) of every batch entry (L ≥ 1, a problem fft-conv accepts), into y. */
  ltiSsm(problem: Problem<'lti-ssm'>, y: OutputArray, d0: number, d1: number): void {
    const { batch, dim, length: L, stateSize: N } = dimensionsOf(problem);
    const { Abar, Bbar, C, D, u } = problem.inputs;
    const convolver = this.convolverFor(L);
    const tables = allocatePowerTables(N, L);
    const channel = new ChannelKernel(N, 'base');
    const scratch = new Float64Array(N);
    const kernel = new Float64Array(L);
    const conv = new Float64Array(L);
    const generateKernel = this.f32 ? kernelFloat32 : kernelFloat64;
    for (let d = d0; d < d1; d++) {
      channel.setLtiSsm(Abar.data, Bbar.data, C.data, d * N, this.precision);
      fillPowerTables(tables, channel.source, 0);
      generateKernel(tables, channel.weights, L, scratch, kernel);
      convolver.setKernel(kernel);
      const skip = D === undefined ? 0 : D.data[d];
      for (let b = 0; b < batch; b++) {
        const offset = (b * dim + d) * L;
        convolver.convolve(u.data, offset, conv, 0);
        addSkip(conv, u.data, offset, L, skip, D !== undefined, this.f32, y);
      }
    }
  }

  /**
   * A time-invariant selective scan (Δ' per channel in `deltas`, channel b·dim + d) on dims
   * [d0, d1) of every batch entry (L ≥ 1), into y and lastState.
   */
  selectiveScan(problem: Problem<'selective-scan'>, deltas: Float64Array, y: OutputArray, lastState: OutputArray, d0: number, d1: number): void {
    const dims = dimensionsOf(problem);
    const { batch, dim, length: L, stateSize: N } = dims;
    const { u, A, B, C, D, z } = problem.inputs;
    const layoutB = projectionLayout(B.shape);
    const layoutC = projectionLayout(C.shape);
    const sharedProjections = layoutB.kind === 'time-invariant' && layoutC.kind === 'time-invariant';
    const convolver = this.convolverFor(L);
    const tables = allocatePowerTables(N, L);
    const channel = new ChannelKernel(N, this.f32 ? 'log-rate' : 'base');
    const scratch = new Float64Array(N);
    const partial = new Float64Array(N);
    const total = new Float64Array(N);
    const kernel = new Float64Array(L);
    const conv = new Float64Array(L);
    const generateKernel = this.f32 ? kernelFloat32 : kernelFloat64;
    const generateLastState = this.f32 ? lastStateFloat32 : lastStateFloat64;
    for (let d = d0; d < d1; d++) {
      const skip = D === undefined ? 0 : D.data[d];
      let kernelDelta = Number.NaN;
      for (let b = 0; b < batch; b++) {
        const delta = deltas[b * dim + d];
        // With (dim, N) B and C the kernel depends on the batch entry only through Δ'.
        if (!sharedProjections || delta !== kernelDelta) {
          const bIndex = (n: number): number => projectionIndex(layoutB, dims, b, d, n, 0);
          const cIndex = (n: number): number => projectionIndex(layoutC, dims, b, d, n, 0);
          channel.setSelectiveScan(delta, A.data, d * N, B.data, bIndex, C.data, cIndex, this.precision);
          fillPowerTables(tables, channel.source, 0);
          generateKernel(tables, channel.weights, L, scratch, kernel);
          convolver.setKernel(kernel);
          kernelDelta = delta;
        }
        const offset = (b * dim + d) * L;
        convolver.convolve(u.data, offset, conv, 0);
        addSkip(conv, u.data, offset, L, skip, D !== undefined, this.f32, y);
        if (z !== undefined) applyGate(y, z.data, offset, L, this.f32);
        generateLastState(tables, u.data, offset, L, channel.bbar, partial, total, lastState, (b * dim + d) * N);
      }
    }
  }
}

/** y_t = conv_t + D·u_t for one channel (same t: the skip is not delayed), rounded under float32. */
function addSkip(conv: Float64Array, u: Float32Array, offset: number, length: number, skip: number, hasSkip: boolean, f32: boolean, y: OutputArray): void {
  if (!hasSkip) {
    for (let t = 0; t < length; t++) y[offset + t] = conv[t];
  } else if (f32) {
    for (let t = 0; t < length; t++) y[offset + t] = Math.fround(conv[t] + Math.fround(skip * u[offset + t]));
  } else {
    for (let t = 0; t < length; t++) y[offset + t] = conv[t] + skip * u[offset + t];
  }
}

/** y_t ← y_t·silu(z_t) with silu(z) = z / (1 + exp(−z)), rounded after every operation under float32. */
function applyGate(y: OutputArray, z: Float32Array, offset: number, length: number, f32: boolean): void {
  const fround = Math.fround;
  for (let t = offset; t < offset + length; t++) {
    const zt = z[t];
    y[t] = f32 ? fround(y[t] * fround(zt / fround(1 + fround(Math.exp(-zt))))) : y[t] * (zt / (1 + Math.exp(-zt)));
  }
}
