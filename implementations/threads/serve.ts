/** The worker side of a WorkerPool: answers each task message with its id (and error, if any). */
import { parentPort } from 'node:worker_threads';

/** A task message and its reply. */
export interface TaskMessage<Task> {
  readonly id: number;
  readonly task: Task;
}

/** The worker's answer to TaskMessage `id`. */
export interface ReplyMessage {
  readonly id: number;
  readonly error?: string;
}

/** Runs `execute` on every task posted to this worker thread; `label` names the worker in errors. */
export function serveTasks<Task>(label: string, execute: (task: Task) => void): void {
  const port = parentPort;
  if (port === null) throw new Error(`${label} worker: expected to run in a worker thread, got the main thread`);
  port.on('message', (message: TaskMessage<Task>) => {
    let reply: ReplyMessage;
    try {
      execute(message.task);
      reply = { id: message.id };
    } catch (error) {
      reply = { id: message.id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
    }
    port.postMessage(reply);
  });
}
