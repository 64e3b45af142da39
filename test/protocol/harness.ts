/**
 * What the protocol tests share: where the testees are, adapters that are always disposed, the
 * error a promise rejects with, and a look at this process's children so no testee outlives a test.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { processImplementation, type ProcessImplementation, type ProcessImplementationOptions } from '../../protocol/process-implementation.ts';

/** The deliberately misbehaving testee; its first argument picks the misbehaviour. */
export const MISBEHAVING_TESTEE = fileURLToPath(new URL('./testees/misbehaving-testee.mjs', import.meta.url));
/** The plain-Node example testee. */
export const NODE_EXAMPLE_TESTEE = fileURLToPath(new URL('../../examples/testees/node/testee.mjs', import.meta.url));
/** The numpy example testee. */
export const PYTHON_EXAMPLE_TESTEE = fileURLToPath(new URL('../../examples/testees/python/numpy_testee.py', import.meta.url));

/** Starts adapters and disposes every one of them in disposeAll (call it in afterEach). */
export class AdapterPool {
  private readonly started: ProcessImplementation[] = [];

  /** Builds an adapter (handshake included) and remembers it for disposal. */
  async start(options: ProcessImplementationOptions): Promise<ProcessImplementation> {
    const adapter = await processImplementation(options);
    this.started.push(adapter);
    return adapter;
  }

  /** The misbehaving testee in the given mode. */
  misbehaving(mode: string, options: Partial<ProcessImplementationOptions> = {}): Promise<ProcessImplementation> {
    return this.start({ command: process.execPath, args: [MISBEHAVING_TESTEE, mode], ...options });
  }

  /** Disposes everything started. */
  async disposeAll(): Promise<void> {
    const all = this.started.splice(0);
    await Promise.all(all.map((adapter) => adapter.dispose?.()));
  }
}

/**
 * The misbehaving testee in the given mode, disposed when the test finishes; pass the test
 * context's onTestFinished (concurrent tests cannot use the global one).
 */
export async function misbehavingForThisTest(
  onTestFinished: (fn: () => Promise<void> | void) => void,
  mode: string,
  options: Partial<ProcessImplementationOptions> = {},
): Promise<ProcessImplementation> {
  const adapter = await processImplementation({ command: process.execPath, args: [MISBEHAVING_TESTEE, mode], ...options });
  onTestFinished(() => adapter.dispose?.());
  return adapter;
}

/** The error a promise rejects with; fails if it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`rejected with a non-Error: ${String(error)}`);
  }
  throw new Error('expected a rejection, but the promise resolved');
}

/** Whether a process id is alive (and not a zombie). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Waits until the process is gone, up to `ms`; returns whether it is gone. */
export async function gone(pid: number, ms = 3_000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!isAlive(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return !isAlive(pid);
}

/** Live (non-zombie) child processes of this process, as "pid command" lines (Linux /proc). */
export function liveChildren(): string[] {
  const children: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === process.pid && fields[0] !== 'Z') {
        children.push(`${entry} ${readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').trim()}`);
      }
    } catch {
      // The process ended while we looked.
    }
  }
  return children;
}

/**
 * The live children at this call; the function it returns lists those started since that are still
 * alive. Test files share their worker process (vitest's isolate: false), so a file checks only the
 * children it started: another file may have left a long-lived helper (esbuild's service) running.
 */
export function childrenStartedFromNow(): () => string[] {
  const before = new Set(HAS_PROC ? liveChildren() : []);
  return () => liveChildren().filter((child) => !before.has(child));
}

/** Whether /proc can be read (Linux), which the process checks need. */
export const HAS_PROC = (() => {
  try {
    readdirSync('/proc/self');
    return true;
  } catch {
    return false;
  }
})();

/** Whether python3 with numpy runs here; the reason when not. */
export function pythonUnavailable(): string | undefined {
  try {
    execFileSync('python3', ['-c', 'import numpy'], { stdio: 'pipe', timeout: 20_000 });
    return undefined;
  } catch (error) {
    return `python3 with numpy is not available (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`;
  }
}

/** A test title's suffix naming why it is skipped (python3 with numpy missing); empty when it runs. */
export function pythonSkipNote(missingPython: string | undefined): string {
  return missingPython === undefined ? '' : ` (skipped: ${missingPython})`;
}

/** The availability test of python3 with numpy: run under REQUIRE_PYTHON=1 (CI), where a missing numpy fails it. */
export function itHasPython(missingPython: string | undefined): void {
  const requirePython = process.env.REQUIRE_PYTHON === '1';
  it.skipIf(!requirePython)(`python3 with numpy is available${requirePython ? '' : ' (skipped: checked only when REQUIRE_PYTHON=1)'}`, () => {
    expect(missingPython, 'REQUIRE_PYTHON=1').toBeUndefined();
  });
}
