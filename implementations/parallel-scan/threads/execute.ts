/** Executes a share of a run on the current thread (main or worker): the one code path of both. */
import { ChunkedScan } from '../algorithms/chunked.ts';
import { arithmeticOf } from '../arithmetic.ts';
import { abortSlices, runGroups, runTimeSlice } from '../drivers.ts';
import { programOf } from '../programs/index.ts';
import { Workspace } from '../workspace.ts';
import type { WorkerTask } from './task.ts';

/** Per-thread scratch and algorithm instances, kept across tasks. */
export class ThreadState {
  private readonly workspaces = new Map<string, Workspace>();
  private readonly algorithms = new Map<number, ChunkedScan>();

  /** Runs `task`; a failing time slice aborts its run so that no other thread waits forever. */
  execute(task: WorkerTask): void {
    const arithmetic = arithmeticOf(task.precision);
    let workspace = this.workspaces.get(task.precision);
    if (workspace === undefined) this.workspaces.set(task.precision, (workspace = new Workspace(arithmetic)));
    let algorithm = this.algorithms.get(task.chunkSize);
    if (algorithm === undefined) this.algorithms.set(task.chunkSize, (algorithm = new ChunkedScan(task.chunkSize)));
    const program = programOf(task.job, task.outputs, arithmetic, workspace);
    const assignment = task.assignment;
    if (assignment.kind === 'groups') {
      runGroups(program, algorithm, workspace, assignment.g0, assignment.g1);
      return;
    }
    try {
      runTimeSlice(program, workspace, assignment.sync, assignment.slice, assignment.count, assignment.p0, assignment.p1);
    } catch (error) {
      abortSlices(assignment.sync);
      throw error;
    }
  }

  /** Drops all scratch. */
  clear(): void {
    this.workspaces.clear();
  }
}
