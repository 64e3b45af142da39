/** Executes a share of a run on the current thread (main or worker): the one code path of both. */
import { ChunkedScan } from '../algorithms/chunked.ts';
import { arithmeticOf } from '../arithmetic.ts';
import { runLanePairs } from '../drivers.ts';
import { abortSlices, runTimeSlice, runTimeSliceAsync } from '../time-slices.ts';
import { programOf } from '../programs/index.ts';
import type { SequenceProgram } from '../programs/program.ts';
import type { BackwardScans } from '../../sequential/vjp-scans.ts';
import { parallelBackwardScans } from '../vjp.ts';
import { Workspace } from '../workspace.ts';
import { executeBackward } from './backward.ts';
import type { BackwardTask, PoolTask, WorkerTask } from './task.ts';

/** Per-thread scratch, kept across tasks. */
export class ThreadState {
  private readonly workspaces = new Map<string, Workspace>();
  private readonly backwardScans = new Map<string, BackwardScans>();

  /** Runs `task`, blocking while a time slice waits (a worker); a failing time slice aborts its run so that no other thread waits forever. */
  execute(task: PoolTask): void {
    if ('phase' in task) {
      this.executeBackward(task);
      return;
    }
    const { program, workspace } = this.prepare(task);
    const assignment = task.assignment;
    if (assignment.kind === 'groups') {
      runLanePairs(program, workspace, assignment.g0, assignment.g1);
      return;
    }
    try {
      runTimeSlice({ program, workspace, ...assignment });
    } catch (error) {
      abortSlices(assignment.sync);
      throw error;
    }
  }

  /** Runs `task` like execute, but a time slice awaits its waits, keeping this thread's event loop turning (the calling thread). */
  async executeAsync(task: WorkerTask): Promise<void> {
    const assignment = task.assignment;
    if (assignment.kind === 'groups') return this.execute(task);
    const { program, workspace } = this.prepare(task);
    try {
      await runTimeSliceAsync({ program, workspace, ...assignment });
    } catch (error) {
      abortSlices(assignment.sync);
      throw error;
    }
  }

  /** Runs a share of a backward run (threads/backward.ts) with the chunked backward scans. */
  executeBackward(task: BackwardTask): void {
    const arithmetic = arithmeticOf(task.precision);
    let scans = this.backwardScans.get(task.precision);
    if (scans === undefined) this.backwardScans.set(task.precision, (scans = parallelBackwardScans(new ChunkedScan(), arithmetic)));
    executeBackward(task, scans, arithmetic, this.workspaceOf(task.precision));
  }

  /** Drops all scratch. */
  clear(): void {
    this.workspaces.clear();
    this.backwardScans.clear();
  }

  private prepare(task: WorkerTask): { program: SequenceProgram; workspace: Workspace } {
    const arithmetic = arithmeticOf(task.precision);
    const workspace = this.workspaceOf(task.precision);
    return { program: programOf(task.job, task.outputs, arithmetic, workspace), workspace };
  }

  private workspaceOf(precision: 'float32' | 'float64'): Workspace {
    let workspace = this.workspaces.get(precision);
    if (workspace === undefined) this.workspaces.set(precision, (workspace = new Workspace(arithmeticOf(precision))));
    return workspace;
  }
}
