/** A worker for the pool's tests: a task says whether to succeed, throw, or exit the thread. */
import { serveTasks } from '../../../implementations/threads/serve.ts';

serveTasks<{ readonly action: 'ok' | 'throw' | 'exit' }>('test-pool', (task) => {
  if (task.action === 'throw') throw new Error('the task asked to fail');
  if (task.action === 'exit') process.exit(3);
});
