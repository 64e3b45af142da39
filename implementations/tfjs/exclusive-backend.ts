/**
 * tfjs keeps one global engine whose active backend is process-wide state. Every run, set-up and
 * tear-down of every tfjs implementation goes through this queue, so two implementations never
 * interleave their ops (an await inside one run would otherwise let another switch the backend under it).
 */
import * as tf from '@tensorflow/tfjs-core';

let queue: Promise<unknown> = Promise.resolve();

/** Runs `work` when every earlier queued work has settled, and nothing else meanwhile. */
export function exclusively<T>(work: () => Promise<T>): Promise<T> {
  const run = queue.then(work);
  // A failed run must not block the ones queued after it.
  queue = run.catch(() => undefined);
  return run;
}

/** Runs `work` alone, with `backendName` selected and ready. */
export function withBackend<T>(backendName: string, work: () => Promise<T>): Promise<T> {
  return exclusively(async () => {
    await selectBackend(backendName);
    return work();
  });
}

/** Makes `backendName` tfjs's active backend, initialising it on first use; throws when it cannot initialise. */
async function selectBackend(backendName: string): Promise<void> {
  // tf.getBackend() would initialise every registered backend when none is selected yet: read the engine's field instead.
  if (tf.engine().backendName !== backendName || tf.findBackend(backendName) === null) {
    const selected = await tf.setBackend(backendName);
    if (!selected) throw new Error(`tfjs: backend '${backendName}' failed to initialise (tf.setBackend returned false)`);
  }
  await tf.ready();
}
