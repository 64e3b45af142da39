/** Worker entry of parallel-scan's pool: executes its share of a run. */
import { serveTasks } from '../../threads/serve.ts';
import { ThreadState } from './execute.ts';
import type { PoolTask } from './task.ts';

const state = new ThreadState();
serveTasks<PoolTask>('parallel-scan', (task) => state.execute(task));
