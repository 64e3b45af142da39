/**
 * A worker thread of `fixtures generate --jobs N` (scripts/fixtures-jobs.ts): generates each case
 * posted to it and posts back its manifest entry and bytes (the buffer transferred, not copied).
 */
import { parentPort } from 'node:worker_threads';
import { generateFixture } from '../fixtures/generate.ts';
import type { CaseReply, CaseTask } from './fixtures-jobs.ts';

const port = parentPort;
if (port === null) throw new Error('fixtures worker: expected to run in a worker thread, got the main thread');
port.on('message', (task: CaseTask) => {
  let reply: CaseReply;
  try {
    const { entry, bytes } = generateFixture(task.case);
    reply = { index: task.index, entry, bytes };
  } catch (error) {
    reply = { index: task.index, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
  port.postMessage(reply, reply.bytes === undefined ? [] : [reply.bytes.buffer as ArrayBuffer]);
});
