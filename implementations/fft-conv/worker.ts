/** Worker entry of fft-conv's pool: runs a range of dims of a run. */
import { serveTasks } from '../threads/serve.ts';
import { ChannelRunner } from './channels.ts';
import type { ChannelTask } from './channel-task.ts';

const runners = { float64: new ChannelRunner('float64'), float32: new ChannelRunner('float32') };
serveTasks<ChannelTask>('fft-conv', (task) => {
  const runner = runners[task.precision];
  if (task.work.family === 'lti-ssm') runner.ltiSsm(task.work.problem, task.y, task.d0, task.d1);
  else runner.selectiveScan(task.work.problem, task.work.deltas, task.y, task.lastState as Float32Array | Float64Array, task.d0, task.d1);
});
