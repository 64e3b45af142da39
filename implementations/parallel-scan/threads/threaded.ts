/**
 * The chunked scan across worker threads: `parallel-scan/chunked-threads-<f32|f64>`. Long sequences
 * with few channels are cut into time slices of two chunks each (a reduce-then-scan across the
 * threads); many channels are split into channel ranges, each channel one chunk, scanned two
 * lanes at a time. The calling thread takes the first channel range or the last time slice, the
 * pool's workers the rest.
 */
import { availableParallelism } from 'node:os';
import { dimensionsOf } from '../../../spec/shapes.ts';
import type { ScanImplementation } from '../../../spec/implementation.ts';
import type { Arithmetic } from '../arithmetic.ts';
import { abortSlices, createSliceSync, INPUT_ROUNDS, inputRound, publishInputRounds } from '../time-slices.ts';
import type { SliceSync } from '../time-slices.ts';
import type { JobOutputs, ScanJob, ScannedProblem } from '../job.ts';
import { allocateOutputs } from '../job.ts';
import { familiesOf } from '../single-threaded.ts';
import { ThreadState } from './execute.ts';
import { DEFAULT_THRESHOLDS, planRun } from './plan.ts';
import type { PlanThresholds } from './plan.ts';
import { siblingModule } from '../../threads/pool.ts';
import { PooledThreads } from '../../threads/pooled-threads.ts';
import { copyOutputs, shareJob, shareOutputs, stageJob } from './share.ts';
import { groupRegion, timeRegion } from '../../threads/shared-memory.ts';
import type { SequenceRegion } from '../../threads/shared-memory.ts';
import type { PoolTask, WorkerTask } from './task.ts';
import { threadedVjp } from './backward.ts';
import type { BackwardContext } from './backward.ts';

/** Channels (batch·dim rows), lanes per channel (N states, or 1) and length of a problem: what planRun splits. */
export function shapeOf(problem: ScannedProblem): { groups: number; lanes: number; length: number } {
  const { batch, dim, length, stateSize } = dimensionsOf(problem);
  return { groups: batch * dim, lanes: problem.family === 'selective-scan' || problem.family === 'lti-ssm' ? stateSize : 1, length };
}

/** Options of the threaded implementation. */
export interface ThreadedOptions {
  /** Threads in all, the calling one included; default os.availableParallelism(). */
  readonly threads?: number;
  /** When to split a run and how (default: DEFAULT_THRESHOLDS). */
  readonly thresholds?: PlanThresholds;
  /** Implementation name; default parallel-scan/chunked-threads-<f32|f64>. */
  readonly name?: string;
}

/** The multi-threaded chunked implementation in the given arithmetic. */
export function threadedImplementation(arithmetic: Arithmetic, options: ThreadedOptions = {}): ScanImplementation {
  const threads = options.threads ?? availableParallelism();
  const precision = arithmetic.precision;
  const thresholds = options.thresholds ?? DEFAULT_THRESHOLDS;
  const local = new ThreadState();
  const workers = new PooledThreads<PoolTask>(threads, siblingModule(import.meta.url, 'worker'), 'parallel-scan');

  const task = (job: ScanJob, outputs: JobOutputs, assignment: WorkerTask['assignment']): WorkerTask => ({
    precision,
    job,
    outputs,
    assignment,
  });

  function compute(job: ScanJob, outputs: JobOutputs): Promise<void> {
    return workers.serialise(() => computeNow(job, outputs));
  }

  async function computeNow(job: ScanJob, outputs: JobOutputs): Promise<void> {
    const { groups, lanes, length } = shapeOf(job.problem);
    const pool = workers.pool;
    const plan = pool === undefined ? ({ kind: 'inline' } as const) : planRun(groups, lanes, length, pool.size + 1, thresholds);
    if (plan.kind === 'inline' || pool === undefined) {
      local.execute(task(job, outputs, { kind: 'groups', g0: 0, g1: groups }));
      return;
    }
    const workerTasks: Promise<void>[] = [];
    /** Posts a worker's share; once done, its outputs are copied from its shared buffers into the run's. */
    const submit = (worker: number, sharedJob: ScanJob, region: SequenceRegion, stateRange: readonly [number, number], assignment: WorkerTask['assignment']): void => {
      const workerOutputs = shareOutputs(outputs, workers.buffers(worker));
      const posted = pool.submit(worker, task(sharedJob, workerOutputs, assignment));
      // A worker that fails without aborting (it died) must still release the threads waiting on it.
      if (assignment.kind === 'slice') posted.catch(() => abortSlices(assignment.sync));
      workerTasks.push(posted.then(() => copyOutputs(workerOutputs, outputs, region, stateRange)));
    };
    if (plan.kind === 'groups') {
      for (let k = 1; k < plan.ranges.length; k++) {
        const [g0, g1] = plan.ranges[k];
        const region = groupRegion(length, g0, g1);
        if (g1 > g0) submit(k - 1, shareJob(job, region, workers.buffers(k - 1)), region, [g0 * lanes, g1 * lanes], { kind: 'groups', g0, g1 });
      }
      const [g0, g1] = plan.ranges[0];
      await executeLocally(() => local.execute(task(job, outputs, { kind: 'groups', g0, g1 })), workerTasks);
    } else {
      const count = plan.ranges.length;
      const sync = createSliceSync(count, groups * lanes);
      const reverse = 'reverse' in job.problem.options && job.problem.options.reverse;
      /** Every channel's elements at processing positions [q0, q1). */
      const regionOf = (q0: number, q1: number): SequenceRegion =>
        reverse ? timeRegion(groups, length, length - q1, length - q0) : timeRegion(groups, length, q0, q1);
      // The workers take the first slices and start at once; their inputs follow in rounds. The
      // calling thread takes the last slice: it reads the caller's arrays, and it reduces only half
      // of its slice, which leaves it the time to copy.
      const staged: { readonly fill: (region: SequenceRegion) => void; readonly p0: number; readonly p1: number }[] = [];
      for (let k = 0; k < count - 1; k++) {
        const [p0, p1] = plan.ranges[k];
        const { job: sharedJob, fill } = stageJob(job, workers.buffers(k));
        staged.push({ fill, p0, p1 });
        submit(k, sharedJob, regionOf(p0, p1), [0, 0], { kind: 'slice', slice: k, count, p0, p1, sync, staged: true });
      }
      const [p0, p1] = plan.ranges[count - 1];
      const share = task(job, outputs, { kind: 'slice', slice: count - 1, count, p0, p1, sync, staged: false });
      await executeLocally(() => {
        for (let round = 0; round < INPUT_ROUNDS; round++) {
          for (const { fill, p0, p1 } of staged) {
            const [first, second] = inputRound(p0, p1, round);
            fill([...regionOf(...first), ...regionOf(...second)]);
          }
          publishInputRounds(sync, round + 1);
        }
        return local.executeAsync(share);
      }, workerTasks, sync);
    }
    await Promise.all(workerTasks);
  }

  /**
   * Runs the calling thread's share; if it fails, aborts the run's time slices (a time slice's
   * failure has done so already; copying the workers' inputs may not have), waits for the workers'
   * shares and rethrows.
   */
  async function executeLocally(share: () => void | Promise<void>, workerTasks: readonly Promise<void>[], sync?: SliceSync): Promise<void> {
    try {
      await share();
    } catch (error) {
      if (sync !== undefined) abortSlices(sync);
      await Promise.allSettled(workerTasks);
      throw error;
    }
  }

  const backward: BackwardContext = { arithmetic, workers, thresholds, local: (share) => local.executeBackward(share), shape: shapeOf };

  const suffix = precision === 'float32' ? 'f32' : 'f64';
  return {
    name: options.name ?? `parallel-scan/chunked-threads-${suffix}`,
    precision,
    description: `chunked scan across ${threads} threads (worker_threads + SharedArrayBuffer): time slices (two chunks each, reduce then scan) for long sequences with few channels, channel ranges (two lanes' chains interleaved) otherwise; ${precision}`,
    families: familiesOf(
      compute,
      (job) => allocateOutputs(job, arithmetic),
      (job, outputs) => {
        const { batch, dim } = dimensionsOf(job.problem);
        local.execute(task(job, outputs, { kind: 'groups', g0: 0, g1: batch * dim }));
      },
      arithmetic,
      // The backward split like the forward (threads/backward.ts), the chunked backward scans in every share.
      (problem, cotangents) => workers.serialise(() => threadedVjp(backward, problem, cotangents)),
    ),
    async setup() {
      workers.start();
    },
    async dispose() {
      local.clear();
      await workers.stop();
    },
    environment: () => ({ threads: String(threads), workers: String(workers.pool?.size ?? 0) }),
  };
}
