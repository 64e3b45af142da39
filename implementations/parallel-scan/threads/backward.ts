/**
 * The chunked-threads backward (issue 17) split across the worker pool the way the forward is
 * (plan.ts): many channels by channel ranges, each thread the whole backward of its channels; long
 * sequences with few channels by time slices, as a reduce-then-scan. In the reduce phase every
 * slice aggregates, per lane, its forward elements (a_t, x_t) and its reverse-time adjoint elements
 * (a_{t+1}, c_t·ȳg_t) followed by its first decay; the calling thread then carries the forward
 * state through the slices in order and the adjoint λ through them in reverse; in the scan phase
 * every slice runs the chunked backward of its window from those carries. The chain rule around
 * the scans is the sequential kernel's (vjpWithScans over a window). Shared parameters (A, D,
 * deltaBias, time-invariant B and C, the lti-ssm parameters) come back as one partial sum per
 * share, added in plan order whatever thread computed them, so a run is reproducible.
 */
import type { AnyProblem } from '../../../spec/families.ts';
import type { Cotangents, GradientsOf, GradientTensor } from '../../../spec/gradients.ts';
import { DIFFERENTIABLE_INPUTS } from '../../../spec/gradients.ts';
import type { Tensor } from '../../../spec/tensor.ts';
import { vjpWithScans } from '../../sequential/vjp.ts';
import type { BackwardReduce, BackwardScans, BackwardWindow } from '../../sequential/vjp-scans.ts';
import type { PooledThreads } from '../../threads/pooled-threads.ts';
import { groupRegion, shareAll, shareProblem, timeRegion } from '../../threads/shared-memory.ts';
import type { SequenceRegion } from '../../threads/shared-memory.ts';
import type { Arithmetic } from '../arithmetic.ts';
import type { ScannedProblem } from '../job.ts';
import { additiveOperator, affineOperator } from '../operators.ts';
import type { Workspace } from '../workspace.ts';
import type { PlanThresholds, RunPlan } from './plan.ts';
import { planRun } from './plan.ts';
import type { BackwardTask, PoolTask } from './task.ts';

/** Numbers per lane a reduce writes: forward (a, b), adjoint (a, b), the first decay, the default h0 and λ_final. */
export const RECORD_LENGTH = 7;

/** Runs one share of a backward run on this thread with `scans` (the chunked backward scans). */
export function executeBackward(task: BackwardTask, scans: BackwardScans, arithmetic: Arithmetic, workspace: Workspace): void {
  const [c0] = task.channels;
  const phase = task.phase;
  const lanesInAll = (c: number, n: number): number => c * task.lanes + n;
  const window: BackwardWindow = {
    channels: task.channels,
    positions: task.positions,
    ...(phase.kind === 'reduce'
      ? { reduce: reduceInto(phase.records, task.lanes, c0, arithmetic, workspace) }
      : phase.carries === undefined
        ? {}
        : { initial: (c: number, n: number) => phase.carries![2 * lanesInAll(c, n)], finalBar: (c: number, n: number) => phase.carries![2 * lanesInAll(c, n) + 1] }),
  };
  const problem = task.problem as AnyProblem;
  const gradients = vjpWithScans(task.precision, problem, task.cotangents as Cotangents<typeof problem.family>, scans, window);
  if (phase.kind === 'reduce') return;
  for (const [name, tensor] of Object.entries(gradients as Record<string, { data: Float32Array | Float64Array }>)) {
    const into = phase.gradients[name];
    if (into === undefined) throw new Error(`backward share: no shared buffer for the gradient of ${name}`);
    into.set(tensor.data);
  }
}

/** A reduce pass's receiver: each lane's aggregates into `records` (RECORD_LENGTH per lane, from channel c0). */
function reduceInto(records: Float64Array, lanes: number, c0: number, arithmetic: Arithmetic, workspace: Workspace): BackwardReduce {
  const aggregate = new Float64Array(4);
  const round = arithmetic.round;
  return {
    channel(c, L, N, f, yBar, finalBar) {
      const op = affineOperator(arithmetic);
      const A = workspace.array('reduce.A', L);
      const B = workspace.array('reduce.B', L);
      for (let n = 0; n < N; n++) {
        const r = ((c - c0) * lanes + n) * RECORD_LENGTH;
        for (let t = 0; t < L; t++) {
          A[t] = f.decay[t * N + n];
          B[t] = f.input[t * N + n];
        }
        op.reducePair(A, B, 0, L, 0, 0, aggregate);
        records[r] = aggregate[0];
        records[r + 1] = aggregate[1];
        // The adjoint's elements as the backward scan reads them (vjp.ts): step t = L−1−j at j, a_L taken as 1.
        for (let j = 0; j < L; j++) {
          const t = L - 1 - j;
          A[j] = t + 1 < L ? f.decay[(t + 1) * N + n] : 1;
          B[j] = round(f.readout[t * N + n] * round(f.gate[t] * yBar[t]));
        }
        op.reducePair(A, B, 0, L, 0, 0, aggregate);
        records[r + 2] = aggregate[0];
        records[r + 3] = aggregate[1];
        records[r + 4] = L > 0 ? f.decay[n] : 1;
        records[r + 5] = f.initial[n];
        records[r + 6] = finalBar[n];
      }
    },
    prefixSum(c, row, L) {
      additiveOperator(arithmetic).reducePair(row, row, 0, L, 0, 0, aggregate);
      records.set([1, 0, 1, aggregate[1], 1, 0, 0], (c - c0) * lanes * RECORD_LENGTH);
    },
  };
}

/**
 * The carries of a time-sliced backward from its slices' `records` (slice k's at k·lanesInAll·RECORD_LENGTH):
 * per slice and lane, the forward state entering it (in slice order from the problem's h0) and the
 * adjoint entering it from its end (in reverse slice order from the final state's cotangent).
 */
export function carriesOf(records: Float64Array, count: number, lanesInAll: number, arithmetic: Arithmetic, additive: boolean, into: Float64Array): void {
  const op = additive ? additiveOperator(arithmetic) : affineOperator(arithmetic);
  const at = (k: number, j: number): number => (k * lanesInAll + j) * RECORD_LENGTH;
  for (let j = 0; j < lanesInAll; j++) {
    let state = records[at(0, j) + 5];
    for (let k = 0; k < count; k++) {
      into[2 * (k * lanesInAll + j)] = state;
      state = op.applyAggregate(records[at(k, j)], records[at(k, j) + 1], state);
    }
    let bar = records[at(count - 1, j) + 6];
    for (let k = count - 1; k >= 0; k--) {
      into[2 * (k * lanesInAll + j) + 1] = bar;
      const r = at(k, j);
      bar = arithmetic.round(records[r + 4] * op.applyAggregate(records[r + 2], records[r + 3], bar));
    }
  }
}

/** What threadedVjp needs of the threaded implementation. */
export interface BackwardContext {
  readonly arithmetic: Arithmetic;
  readonly workers: PooledThreads<PoolTask>;
  readonly thresholds: PlanThresholds;
  /** Runs a share on the calling thread. */
  readonly local: (task: BackwardTask) => void;
  /** Channels (rows) and lanes per channel of a problem, as the forward counts them. */
  readonly shape: (problem: ScannedProblem) => { groups: number; lanes: number; length: number };
}

/** The plan of a backward run: the forward's (planRun), inline without a pool. */
export function backwardPlan(context: BackwardContext, problem: ScannedProblem): RunPlan {
  const pool = context.workers.pool;
  const { groups, lanes, length } = context.shape(problem);
  return pool === undefined ? { kind: 'inline' } : planRun(groups, lanes, length, pool.size + 1, context.thresholds);
}

const FLOAT64_LIKE = new Float64Array(0);

/** The VJP of `problem` split across the pool by backwardPlan (the caller serialises runs). */
export async function threadedVjp(context: BackwardContext, problem: ScannedProblem, cotangents: Readonly<Record<string, GradientTensor>>): Promise<GradientsOf<ScannedProblem['family']>> {
  const { arithmetic, workers } = context;
  const precision = arithmetic.precision;
  const { groups, lanes, length } = context.shape(problem);
  const plan = backwardPlan(context, problem);
  const whole = (phase: BackwardTask['phase'], channels: readonly [number, number], positions: readonly [number, number]): BackwardTask => ({
    precision, problem, cotangents, lanes, channels, positions, phase,
  });
  const names = DIFFERENTIABLE_INPUTS[problem.family].filter((name) => (problem.inputs as unknown as Readonly<Record<string, Tensor | undefined>>)[name] !== undefined);
  const inputOf = (name: string): Tensor => (problem.inputs as unknown as Readonly<Record<string, Tensor>>)[name];
  const localGradients = (): Record<string, Float64Array> => Object.fromEntries(names.map((name) => [name, new Float64Array(inputOf(name).data.length)]));
  const pool = workers.pool;
  if (plan.kind === 'inline' || pool === undefined) {
    const gradients = localGradients();
    context.local(whole({ kind: 'scan', carries: undefined, gradients }, [0, groups], [0, length]));
    return packGradients(names, inputOf, [gradients], arithmetic);
  }

  const reverse = 'reverse' in problem.options && problem.options.reverse;
  const shares = plan.ranges.map(([s0, s1]) =>
    plan.kind === 'groups'
      ? { channels: [s0, s1] as const, positions: [0, length] as const, region: groupRegion(length, s0, s1) }
      : { channels: [0, groups] as const, positions: [s0, s1] as const, region: reverse ? timeRegion(groups, length, length - s1, length - s0) : timeRegion(groups, length, s0, s1) },
  );
  // Share 0 is the calling thread's (the problem as given); share k ≥ 1 goes to worker k − 1, its inputs in that worker's shared buffers.
  const sharedInputs = shares.map((share, k) => (k === 0 ? { problem, cotangents } : shareInputs(problem, cotangents, share.region, workers, k - 1)));
  /** Runs phase `phaseOf(k)` of every share, worker shares posted first; waits for all before rethrowing a failure. */
  const runPhase = async (phaseOf: (k: number) => BackwardTask['phase']): Promise<void> => {
    const posted: Promise<void>[] = [];
    for (let k = 1; k < shares.length; k++) {
      const { problem: p, cotangents: c } = sharedInputs[k];
      posted.push(pool.submit(k - 1, { ...whole(phaseOf(k), shares[k].channels, shares[k].positions), problem: p, cotangents: c }));
    }
    let failure: unknown;
    try {
      context.local(whole(phaseOf(0), shares[0].channels, shares[0].positions));
    } catch (error) {
      failure = error;
    }
    const settled = await Promise.allSettled(posted);
    if (failure !== undefined) throw failure;
    for (const result of settled) if (result.status === 'rejected') throw result.reason;
  };

  let carries: Float64Array | undefined;
  const lanesInAll = groups * lanes;
  if (plan.kind === 'slices') {
    const count = shares.length;
    const records = new Float64Array(new SharedArrayBuffer(8 * Math.max(1, count * lanesInAll * RECORD_LENGTH)));
    const stride = lanesInAll * RECORD_LENGTH;
    await runPhase((k) => ({ kind: 'reduce', records: records.subarray(k * stride, (k + 1) * stride) }));
    const all = new Float64Array(new SharedArrayBuffer(8 * Math.max(1, 2 * count * lanesInAll)));
    carriesOf(records, count, lanesInAll, arithmetic, problem.family === 'prefix-sum', all);
    carries = all;
  }
  const partials = shares.map((_, k) =>
    k === 0 ? localGradients() : Object.fromEntries(names.map((name) => [name, workers.buffers(k - 1).view(`grad.${name}`, inputOf(name).data.length, FLOAT64_LIKE)])),
  );
  const carriesOfShare = (k: number): Float64Array | undefined =>
    carries === undefined ? undefined : carries.subarray(2 * k * lanesInAll, 2 * (k + 1) * lanesInAll);
  await runPhase((k) => ({ kind: 'scan', carries: carriesOfShare(k), gradients: partials[k] }));
  return packGradients(names, inputOf, partials, arithmetic);
}

/** The problem and cotangents in worker `worker`'s shared buffers (the problem's sequences: only `region`). */
function shareInputs(
  problem: ScannedProblem,
  cotangents: Readonly<Record<string, GradientTensor>>,
  region: SequenceRegion,
  workers: PooledThreads<PoolTask>,
  worker: number,
): { problem: ScannedProblem; cotangents: Readonly<Record<string, GradientTensor>> } {
  const buffers = workers.buffers(worker);
  // shareProblem copies the tensors of the problem it is given, so the shared one is of the same family.
  const shared = shareProblem(problem, region, buffers) as ScannedProblem;
  const sharedCotangents = Object.fromEntries(
    Object.entries(cotangents).map(([name, t]) => [name, { data: shareAll(t.data, buffers, `cotangent.${name}`), shape: t.shape }]),
  );
  return { problem: shared, cotangents: sharedCotangents };
}

/** The shares' partial gradients summed in share order (shared parameters; every other element has one share), as tensors. */
function packGradients(
  names: readonly string[],
  inputOf: (name: string) => Tensor,
  partials: readonly Readonly<Record<string, Float64Array>>[],
  arithmetic: Arithmetic,
): GradientsOf<ScannedProblem['family']> {
  const round = arithmetic.round;
  const result: Record<string, { data: Float32Array | Float64Array; shape: readonly number[] }> = {};
  for (const name of names) {
    let sum: Float64Array;
    if (partials.length === 1) sum = partials[0][name];
    else {
      sum = new Float64Array(partials[0][name]);
      for (let k = 1; k < partials.length; k++) {
        const part = partials[k][name];
        for (let i = 0; i < sum.length; i++) if (part[i] !== 0) sum[i] = round(sum[i] + part[i]);
      }
    }
    result[name] = { data: arithmetic.precision === 'float32' ? Float32Array.from(sum) : sum, shape: [...inputOf(name).shape] };
  }
  return result as GradientsOf<ScannedProblem['family']>;
}
