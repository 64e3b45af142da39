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
import { availableParallelism } from 'node:os';
import type {
  LtiSsmOutputs,
  LtiSsmStepInputs,
  Problem,
  SelectiveScanOutputs,
  StepOutputs,
} from '../../spec/families.ts';
import type { FamilyImplementation, ScanImplementation } from '../../spec/implementation.ts';
import type { Dimensions } from '../../spec/shapes.ts';
import { dimensionsOf, outputShapes, projectionIndex, projectionLayout, stepDimensionsOf, stepOutputShapes } from '../../spec/shapes.ts';
import { siblingModule } from '../threads/pool.ts';
import { PooledThreads } from '../threads/pooled-threads.ts';
import { copyRegion, dimRegion, shareAll, shareProblem, sharedOutput } from '../threads/shared-memory.ts';
import { ChannelKernel, kernelRangeReason, type KernelArithmetic } from './channel-kernel.ts';
import type { ChannelTask, ChannelWork } from './channel-task.ts';
import { ChannelRunner, type OutputArray } from './channels.ts';
import { analyseTimeInvariance } from './time-invariance.ts';

/**
 * Below this much work (batch·dim·L·(N + log2 L)) a run stays on the calling thread: posting a
 * range to a worker and copying its inputs and outputs costs about a millisecond.
 */
export const MIN_PARALLEL_WORK = 1 << 22;

/** Options of an fft-conv implementation. */
export interface FftConvOptions {
  /** Threads in all, the calling one included; default os.availableParallelism(). */
  readonly threads?: number;
  /** Work below which a run stays on the calling thread (tests lower it); default MIN_PARALLEL_WORK. */
  readonly minParallelWork?: number;
  /** Implementation name; default fft-conv-<f64|f32>. */
  readonly name?: string;
}

/** The FFT-convolution implementation in one precision, channel-parallel across worker threads. */
export function createFftConv(precision: KernelArithmetic, options: FftConvOptions = {}): ScanImplementation {
  const f32 = precision === 'float32';
  const threads = options.threads ?? availableParallelism();
  const minParallelWork = options.minParallelWork ?? MIN_PARALLEL_WORK;
  const local = new ChannelRunner(precision);
  const workers = new PooledThreads<ChannelTask>(threads, siblingModule(import.meta.url, 'worker'), 'fft-conv');
  const alloc = (n: number): OutputArray => (f32 ? new Float32Array(n) : new Float64Array(n));

  /** Runs `work` on every channel, dims split into ranges across the threads when it is worth it. */
  function runChannels(work: ChannelWork, dims: Dimensions, y: OutputArray, lastState: OutputArray | undefined): Promise<void> {
    return workers.serialise(() => runChannelsNow(work, dims, y, lastState));
  }

  function runLocally(work: ChannelWork, y: OutputArray, lastState: OutputArray | undefined, d0: number, d1: number): void {
    if (work.family === 'lti-ssm') local.ltiSsm(work.problem, y, d0, d1);
    else local.selectiveScan(work.problem, work.deltas, y, lastState as OutputArray, d0, d1);
  }

  async function runChannelsNow(work: ChannelWork, dims: Dimensions, y: OutputArray, lastState: OutputArray | undefined): Promise<void> {
    const { batch, dim, length, stateSize } = dims;
    const cost = batch * dim * length * (stateSize + Math.log2(length + 1));
    const pool = workers.pool;
    const parts = pool === undefined ? 1 : Math.min(pool.size + 1, dim);
    if (pool === undefined || parts <= 1 || cost < minParallelWork) {
      runLocally(work, y, lastState, 0, dim);
      return;
    }
    const bounds = Array.from({ length: parts + 1 }, (_, k) => Math.round((k * dim) / parts));
    const tasks: Promise<void>[] = [];
    for (let k = 1; k < parts; k++) {
      const [d0, d1] = [bounds[k], bounds[k + 1]];
      const buffers = workers.buffers(k - 1);
      const region = dimRegion(batch, dim, length, d0, d1);
      const sharedY = sharedOutput(y, buffers, 'out.y');
      const sharedState = lastState === undefined ? undefined : sharedOutput(lastState, buffers, 'out.lastState');
      const sharedWork: ChannelWork =
        work.family === 'lti-ssm'
          ? { family: 'lti-ssm', problem: shareProblem(work.problem, region, buffers) as Problem<'lti-ssm'> }
          : { family: 'selective-scan', problem: shareProblem(work.problem, region, buffers) as Problem<'selective-scan'>, deltas: shareAll(work.deltas, buffers, 'deltas') };
      const posted = pool.submit(k - 1, { precision, work: sharedWork, y: sharedY, lastState: sharedState, d0, d1 });
      tasks.push(
        posted.then(() => {
          copyRegion(sharedY, y, region);
          if (lastState !== undefined && sharedState !== undefined) copyRegion(sharedState, lastState, dimRegion(batch, dim, stateSize, d0, d1));
        }),
      );
    }
    try {
      runLocally(work, y, lastState, bounds[0], bounds[1]);
    } catch (error) {
      await Promise.allSettled(tasks);
      throw error;
    }
    await Promise.all(tasks);
  }

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
      await runChannels({ family: 'lti-ssm', problem }, dims, y, undefined);
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
      await runChannels({ family: 'selective-scan', problem, deltas: analysis.deltas }, dims, y, lastState);
      return { y: { data: y, shape: shapes.y }, lastState: { data: lastState, shape: shapes.lastState } };
    },
  };

  return {
    name: options.name ?? (f32 ? 'fft-conv-f32' : 'fft-conv-f64'),
    precision,
    description: f32
      ? `FFT causal convolution (fft.js, zero-padded to 2L): f32 Vandermonde kernel from blocked powers, f32 storage of spectra, products and outputs; transforms in f64; channels split across ${threads} threads. Time-invariant SSMs only.`
      : `FFT causal convolution (fft.js, zero-padded to 2L) in float64, kernel from blocked powers (Ā^(jB)·Ā^i); channels split across ${threads} threads. Time-invariant SSMs only.`,
    families: { 'lti-ssm': ltiSsm, 'selective-scan': selectiveScan },
    async setup() {
      workers.start();
    },
    async dispose() {
      await workers.stop();
    },
    environment: () => ({ threads: String(threads), workers: String(workers.pool?.size ?? 0) }),
  };
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
