/**
 * A fixed pool of worker threads shared by the multi-threaded implementations (parallel-scan's
 * chunked-threads, fft-conv's channel ranges). Each pool runs one worker module, which answers
 * task messages through `serveTasks` (serve.ts). A worker runs TypeScript by importing its module
 * through tsx's tsImport: on Node 20, `execArgv: ['--import', 'tsx']` does not reach a worker's
 * module loader ("Unknown file extension .ts"), while tsImport works under tsx, under vitest and
 * from plain node. tsx's API is resolved from this package, so the working directory does not
 * matter. An idle worker is unref'd so it never keeps the process alive; it is ref'd only while a
 * task is in flight.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ReplyMessage, TaskMessage } from './serve.ts';

/** The URL of module `name` beside `importMetaUrl`: name.ts in the source tree, name.js built into dist/. */
export function siblingModule(importMetaUrl: string, name: string): URL {
  return new URL(importMetaUrl.endsWith('.ts') ? `./${name}.ts` : `./${name}.js`, importMetaUrl);
}

/** The file URL of tsx's ESM API (its package export './esm/api', import condition). */
function tsxApiUrl(): string {
  const manifestPath = createRequire(import.meta.url).resolve('tsx/package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  return pathToFileURL(path.join(path.dirname(manifestPath), manifest.exports['./esm/api'].import.default)).href;
}

/** Bootstrap evaluated in each worker: load the worker module, through tsx when it is TypeScript. */
function bootstrapSource(workerUrl: URL): string {
  if (!workerUrl.pathname.endsWith('.ts')) return `import(${JSON.stringify(workerUrl.href)});`;
  return `import(${JSON.stringify(tsxApiUrl())}).then((api) => api.tsImport(${JSON.stringify(workerUrl.href)}, ${JSON.stringify(import.meta.url)}));`;
}

/** Starts a worker thread running module `workerUrl` (TypeScript through tsx, or compiled JavaScript). */
export function startModuleWorker(workerUrl: URL): Worker {
  return new Worker(bootstrapSource(workerUrl), { eval: true });
}

interface PendingTask {
  resolve(): void;
  reject(error: Error): void;
}

interface PoolWorker {
  readonly worker: Worker;
  readonly pending: Map<number, PendingTask>;
}

/** A set of worker threads that each run `workerUrl` and execute the tasks posted to them. */
export class WorkerPool<Task> {
  private nextId = 0;
  private closed = false;

  private constructor(
    private readonly workers: PoolWorker[],
    private readonly label: string,
  ) {}

  /** Starts `size` workers running `workerUrl`; `label` names them in errors (e.g. 'parallel-scan'). */
  static start<Task>(size: number, workerUrl: URL, label: string): WorkerPool<Task> {
    const workers: PoolWorker[] = [];
    for (let i = 0; i < size; i++) {
      const worker = startModuleWorker(workerUrl);
      const entry: PoolWorker = { worker, pending: new Map() };
      worker.on('message', (reply: ReplyMessage) => {
        const task = entry.pending.get(reply.id);
        if (task === undefined) return;
        entry.pending.delete(reply.id);
        if (entry.pending.size === 0) worker.unref();
        if (reply.error === undefined) task.resolve();
        else task.reject(new Error(`${label} worker ${i}: ${reply.error}`));
      });
      const failAll = (error: Error): void => {
        for (const task of entry.pending.values()) task.reject(error);
        entry.pending.clear();
      };
      worker.on('error', (error) => failAll(new Error(`${label} worker ${i} crashed: ${error.message}`)));
      worker.on('exit', (code) => failAll(new Error(`${label} worker ${i} exited (code ${code}) with a task in flight`)));
      worker.unref();
      workers.push(entry);
    }
    return new WorkerPool<Task>(workers, label);
  }

  /** Number of workers. */
  get size(): number {
    return this.workers.length;
  }

  /** Posts `task` to worker `index`; resolves when it is done. */
  submit(index: number, task: Task): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`${this.label} pool: used after dispose`));
    const entry = this.workers[index];
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      entry.pending.set(id, { resolve, reject });
      entry.worker.ref();
      const message: TaskMessage<Task> = { id, task };
      entry.worker.postMessage(message);
    });
  }

  /** Terminates every worker. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}
