/** The worker pool's error paths: a failing task, a worker that dies with a task in flight, use after close. */
import { afterEach, describe, expect, it } from 'vitest';
import { WorkerPool } from '../../../implementations/threads/pool.ts';

const WORKER = new URL('./echo-worker.ts', import.meta.url);
let pool: WorkerPool<{ action: 'ok' | 'throw' | 'exit' }> | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

describe('WorkerPool', () => {
  it('resolves a task that succeeds and rejects one that throws, naming the worker and the error', async () => {
    pool = WorkerPool.start(1, WORKER, 'test-pool');
    await expect(pool.submit(0, { action: 'ok' })).resolves.toBeUndefined();
    await expect(pool.submit(0, { action: 'throw' })).rejects.toThrow(/test-pool worker 0: .*the task asked to fail/);
    // The worker survives a failing task.
    await expect(pool.submit(0, { action: 'ok' })).resolves.toBeUndefined();
  });

  it('rejects the task in flight when its worker exits', async () => {
    pool = WorkerPool.start(1, WORKER, 'test-pool');
    await expect(pool.submit(0, { action: 'exit' })).rejects.toThrow(/test-pool worker 0 exited \(code 3\) with a task in flight/);
  });

  it('refuses tasks after close', async () => {
    pool = WorkerPool.start(1, WORKER, 'test-pool');
    await pool.close();
    await expect(pool.submit(0, { action: 'ok' })).rejects.toThrow(/test-pool pool: used after dispose/);
  });
});
