/**
 * The worker side of a multi-threaded implementation's lifecycle: a pool of `threads − 1` workers
 * started in `setup`, and one set of reused shared buffers per worker, both dropped in `dispose`.
 */
import { WorkerPool } from './pool.ts';
import { SharedBuffers } from './shared-memory.ts';

/** A pool of workers and their shared buffers, present between start() and stop(). */
export class PooledThreads<Task> {
  private current: { readonly pool: WorkerPool<Task>; readonly buffers: SharedBuffers[] } | undefined;
  private queue: Promise<void> = Promise.resolve();

  /** `threads` in all, the calling one included; the workers run `workerUrl`, named `label` in errors. */
  constructor(
    readonly threads: number,
    private readonly workerUrl: URL,
    private readonly label: string,
  ) {}

  /** Starts the workers (none for one thread); idempotent. */
  start(): void {
    if (this.current !== undefined || this.threads <= 1) return;
    const pool = WorkerPool.start<Task>(this.threads - 1, this.workerUrl, this.label);
    this.current = { pool, buffers: Array.from({ length: pool.size }, () => new SharedBuffers()) };
  }

  /** The running pool, or undefined before start() and after stop(). */
  get pool(): WorkerPool<Task> | undefined {
    return this.current?.pool;
  }

  /** The shared buffers of worker `index` (of a started pool). */
  buffers(index: number): SharedBuffers {
    if (this.current === undefined) throw new Error(`${this.label}: no worker pool (setup() not called, or dispose() already)`);
    return this.current.buffers[index];
  }

  /** Runs `run` after every run serialised before it: the shared buffers belong to one run at a time. */
  serialise<T>(run: () => Promise<T>): Promise<T> {
    const result = this.queue.then(run);
    this.queue = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** Terminates the workers and drops their buffers. */
  async stop(): Promise<void> {
    const closing = this.current;
    this.current = undefined;
    await closing?.pool.close();
  }
}
