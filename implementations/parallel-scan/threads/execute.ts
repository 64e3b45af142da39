/** Executes a share of a run on the current thread (main or worker): the one code path of both. */
import { arithmeticOf } from '../arithmetic.ts';
import { runLanePairs } from '../drivers.ts';
import { abortSlices, runTimeSlice, runTimeSliceAsync } from '../time-slices.ts';
import { programOf } from '../programs/index.ts';
import type { SequenceProgram } from '../programs/program.ts';
import { Workspace } from '../workspace.ts';
import type { WorkerTask } from './task.ts';

/** Per-thread scratch, kept across tasks. */
export class ThreadState {
  private readonly workspaces = new Map<string, Workspace>();

  /** Runs `task`, blocking while a time slice waits (a worker); a failing time slice aborts its run so that no other thread waits forever. */
  execute(task: WorkerTask): void {
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

  /** Drops all scratch. */
  clear(): void {
    this.workspaces.clear();
  }

  private prepare(task: WorkerTask): { program: SequenceProgram; workspace: Workspace } {
    const arithmetic = arithmeticOf(task.precision);
    let workspace = this.workspaces.get(task.precision);
    if (workspace === undefined) this.workspaces.set(task.precision, (workspace = new Workspace(arithmetic)));
    return { program: programOf(task.job, task.outputs, arithmetic, workspace), workspace };
  }
}
