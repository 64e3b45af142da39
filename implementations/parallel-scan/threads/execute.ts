/** Executes a share of a run on the current thread (main or worker): the one code path of both. */
import { arithmeticOf } from '../arithmetic.ts';
import { runLanePairs } from '../drivers.ts';
import { abortSlices, runTimeSlice } from '../time-slices.ts';
import { programOf } from '../programs/index.ts';
import { Workspace } from '../workspace.ts';
import type { WorkerTask } from './task.ts';

/** Per-thread scratch, kept across tasks. */
export class ThreadState {
  private readonly workspaces = new Map<string, Workspace>();

  /** Runs `task`; a failing time slice aborts its run so that no other thread waits forever. */
  execute(task: WorkerTask): void {
    const arithmetic = arithmeticOf(task.precision);
    let workspace = this.workspaces.get(task.precision);
    if (workspace === undefined) this.workspaces.set(task.precision, (workspace = new Workspace(arithmetic)));
    const program = programOf(task.job, task.outputs, arithmetic, workspace);
    const assignment = task.assignment;
    if (assignment.kind === 'groups') {
      runLanePairs(program, workspace, assignment.g0, assignment.g1);
      return;
    }
    try {
      runTimeSlice(program, workspace, assignment.sync, assignment.slice, assignment.count, assignment.p0, assignment.p1, assignment.staged);
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
