/** Worker entry: executes the tasks the pool posts and replies with their id (and error, if any). */
import { parentPort } from 'node:worker_threads';
import { ThreadState } from './execute.ts';
import type { ReplyMessage, TaskMessage } from './task.ts';

const port = parentPort;
if (port === null) throw new Error('parallel-scan worker: expected to run in a worker thread, got the main thread');
const state = new ThreadState();
port.on('message', (message: TaskMessage) => {
  let reply: ReplyMessage;
  try {
    state.execute(message.task);
    reply = { id: message.id };
  } catch (error) {
    reply = { id: message.id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
  port.postMessage(reply);
});
