/**
 * A fixed pool of worker threads. A worker runs TypeScript by importing worker.ts through tsx's
 * tsImport: on Node 20, `execArgv: ['--import', 'tsx']` does not reach a worker's module loader
 * ("Unknown file extension .ts"), while tsImport works under tsx, under vitest and from plain node.
 * tsx's API is resolved from this package, so the working directory does not matter. An idle
 * worker is unref'd so it never keeps the process alive; it is ref'd only while a task is in flight.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ReplyMessage, TaskMessage, WorkerTask } from './task.ts';

// From the source tree this module is pool.ts and its worker worker.ts; built into dist/, both are .js.
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url);

/** The file URL of tsx's ESM API (its package export './esm/api', import condition). */
function tsxApiUrl(): string {
  const manifestPath = createRequire(import.meta.url).resolve('tsx/package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  return pathToFileURL(path.join(path.dirname(manifestPath), manifest.exports['./esm/api'].import.default)).href;
}

/** Bootstrap evaluated in each worker: load worker.ts through tsx. */
function bootstrapSource(): string {
  return `import(${JSON.stringify(tsxApiUrl())}).then((api) => api.tsImport(${JSON.stringify(WORKER_URL.href)}, ${JSON.stringify(import.meta.url)}));`;
}

interface PendingTask {
  resolve(): void;
  reject(error: Error): void;
}

interface PoolWorker {
  readonly worker: Worker;
  readonly pending: Map<number, PendingTask>;
}

/** A set of worker threads that execute WorkerTasks. */
export class WorkerPool {
  private nextId = 0;
  private closed = false;

  private constructor(private readonly workers: PoolWorker[]) {}

  /** Starts `size` workers. */
  static start(size: number): WorkerPool {
    const bootstrap = bootstrapSource();
    const workers: PoolWorker[] = [];
    for (let i = 0; i < size; i++) {
      const worker = new Worker(bootstrap, { eval: true });
      const entry: PoolWorker = { worker, pending: new Map() };
      worker.on('message', (reply: ReplyMessage) => {
        const task = entry.pending.get(reply.id);
        if (task === undefined) return;
        entry.pending.delete(reply.id);
        if (entry.pending.size === 0) worker.unref();
        if (reply.error === undefined) task.resolve();
        else task.reject(new Error(`parallel-scan worker ${i}: ${reply.error}`));
      });
      const failAll = (error: Error): void => {
        for (const task of entry.pending.values()) task.reject(error);
        entry.pending.clear();
      };
      worker.on('error', (error) => failAll(new Error(`parallel-scan worker ${i} crashed: ${error.message}`)));
      worker.on('exit', (code) => failAll(new Error(`parallel-scan worker ${i} exited (code ${code}) with a task in flight`)));
      worker.unref();
      workers.push(entry);
    }
    return new WorkerPool(workers);
  }

  /** Number of workers. */
  get size(): number {
    return this.workers.length;
  }

  /** Posts `task` to worker `index`; resolves when it is done. */
  submit(index: number, task: WorkerTask): Promise<void> {
    if (this.closed) return Promise.reject(new Error('parallel-scan pool: used after dispose'));
    const entry = this.workers[index];
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      entry.pending.set(id, { resolve, reject });
      entry.worker.ref();
      const message: TaskMessage = { id, task };
      entry.worker.postMessage(message);
    });
  }

  /** Terminates every worker. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}
