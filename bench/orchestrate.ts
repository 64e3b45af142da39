/**
 * Runs the benchmark: every registered implementation in its own child process (child.ts) over the
 * cases, with a per-case timeout (a process whose case overruns is killed and restarted for the
 * remaining cases), plus the baselines; shows progress and returns the collected results.
 */
import { spawn } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import cliProgress from 'cli-progress';
import { discoverImplementations, IMPLEMENTATIONS_DIR, loadImplementationModule } from '../suite/registry.ts';
import type { BenchCase } from './cases.ts';
import { elementsOf } from './cases.ts';
import type { CaseOutcome } from './protocol.ts';
import { parseEvent } from './protocol.ts';

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** An implementation as the harness knows it before running it. */
export interface RegisteredImplementation {
  readonly name: string;
  readonly precision: string;
  readonly description: string;
  readonly modulePath: string;
  /** The families it declares. */
  readonly families: readonly string[];
}

/** What the harness learned about one implementation. */
export interface ImplementationRun {
  readonly name: string;
  readonly precision: string;
  readonly description: string;
  /** 'ran', or why it did not ('unavailable: …', 'crashed: …'). */
  status: string;
  environment: Readonly<Record<string, string>>;
  /** Peak resident set of its child process(es), MiB (max over restarts). */
  peakRssMiB: number | undefined;
  /** RSS of a child before loading the implementation: the harness's own share of the peak. */
  idleRssMiB: number | undefined;
  readonly outcomes: Record<string, CaseOutcome>;
  /** Problems of the process itself (did not exit after dispose, stderr tail on a crash). */
  readonly notes: string[];
}

/** A module that failed to load, so none of its implementations ran. */
export interface ModuleFailure {
  readonly module: string;
  readonly reason: string;
}

/** Finds every registered implementation (discoverImplementations) and the module each lives in. */
export async function registeredImplementations(
  directory: string = IMPLEMENTATIONS_DIR,
): Promise<{ implementations: RegisteredImplementation[]; failures: ModuleFailure[] }> {
  const failures: ModuleFailure[] = [];
  try {
    await discoverImplementations(directory);
  } catch (error) {
    // One broken folder must not hide the others: they are loaded one by one below.
    failures.push({ module: 'discoverImplementations()', reason: error instanceof Error ? error.message : String(error) });
  }
  const implementations: RegisteredImplementation[] = [];
  const entries = await readdir(directory, { withFileTypes: true });
  for (const entry of entries.filter((e) => e.isDirectory()).sort((x, y) => x.name.localeCompare(y.name))) {
    const modulePath = path.join(directory, entry.name, 'index.ts');
    if (!(await stat(modulePath).catch(() => undefined))?.isFile()) continue;
    try {
      for (const i of await loadImplementationModule(modulePath)) {
        const families = Object.keys(i.families).filter((f) => i.families[f as keyof typeof i.families] !== undefined);
        implementations.push({ name: i.name, precision: i.precision, description: i.description ?? '', modulePath, families });
      }
    } catch (error) {
      failures.push({ module: path.relative(process.cwd(), modulePath), reason: error instanceof Error ? error.message : String(error) });
    }
  }
  implementations.sort((x, y) => x.name.localeCompare(y.name));
  return { implementations, failures };
}

/** Limits of one child process. */
export interface ChildLimits {
  /** A case (warm-up and samples) running longer than this is cut off (ms). */
  readonly caseTimeoutMs: number;
  /** Module loading and setup longer than this count as a hang (ms). */
  readonly setupTimeoutMs: number;
  /** After 'done', the process must exit within this (ms) or is killed and noted. */
  readonly exitTimeoutMs: number;
  /** A case whose single run is predicted (from a smaller case of its family) to exceed this is not run (ms). */
  readonly maxRunMs: number;
}

interface ChildResult {
  readonly finished: string[];
  readonly cutOff: string | undefined;
  readonly crashed: string | undefined;
  /** The case (event id) started and not finished when the process ended. */
  readonly current: string | undefined;
}

/** Runs one child over `cases`, feeding events into `run`; resolves when it ends, however it ends. */
function runChild(
  args: string[],
  cases: readonly BenchCase[],
  run: ImplementationRun,
  limits: ChildLimits,
  onCase: (id: string) => void,
): Promise<ChildResult> {
  return new Promise((resolve) => {
    const childArgs = [...args, '--cases', cases.map((c) => c.id).join(','), '--max-run-ms', String(limits.maxRunMs)];
    const child = spawn(process.execPath, ['--import', TSX, CHILD, ...childArgs], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const finished: string[] = [];
    let current: string | undefined;
    let cutOff: string | undefined;
    let stderr = '';
    let buffered = '';
    let done = false;
    let timer: NodeJS.Timeout = setTimeout(() => kill('setup'), limits.setupTimeoutMs);
    const arm = (ms: number, what: string): void => {
      clearTimeout(timer);
      timer = setTimeout(() => kill(what), ms);
    };
    function kill(what: string): void {
      if (what === 'exit') run.notes.push(`process did not exit within ${limits.exitTimeoutMs} ms after dispose (leaked handle or thread); killed`);
      else if (what === 'setup') run.notes.push(`module loading and setup exceeded ${limits.setupTimeoutMs} ms; killed`);
      else cutOff = what;
      child.kill('SIGKILL');
    }
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
    });
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const event = parseEvent(buffered.slice(0, newline));
        buffered = buffered.slice(newline + 1);
        if (event === undefined) continue;
        switch (event.type) {
          case 'ready':
            run.environment = event.environment;
            clearTimeout(timer);
            break;
          case 'unavailable':
            run.status = `unavailable: ${event.reason}`;
            clearTimeout(timer);
            break;
          case 'case-start':
            current = event.id;
            arm(limits.caseTimeoutMs, event.id);
            break;
          case 'case':
            run.outcomes[event.id] = event.outcome;
            // Reported with every case, so a process killed later still leaves its peak.
            run.peakRssMiB = Math.max(run.peakRssMiB ?? 0, event.peakRssMiB);
            if (event.id === current) {
              finished.push(event.id);
              clearTimeout(timer);
              current = undefined;
              onCase(event.id);
            }
            break;
          case 'done':
            done = true;
            run.peakRssMiB = Math.max(run.peakRssMiB ?? 0, event.peakRssMiB);
            run.idleRssMiB = Math.max(run.idleRssMiB ?? 0, event.idleRssMiB);
            arm(limits.exitTimeoutMs, 'exit');
            break;
        }
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const crashed = !done && cutOff === undefined && (code !== 0 || signal !== null) ? `exit ${code ?? signal}: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : undefined;
      resolve({ finished, cutOff, current, crashed: crashed === undefined ? undefined : `${current === undefined ? '' : `during ${current}: `}${crashed}` });
    });
  });
}

/** Runs `cases` of one implementation (or the baselines), restarting after a cut-off or a crash. */
export async function runCases(
  args: string[],
  cases: readonly BenchCase[],
  run: ImplementationRun,
  limits: ChildLimits,
  onCase: (id: string) => void,
): Promise<void> {
  let remaining = [...cases];
  while (remaining.length > 0) {
    const result = await runChild(args, remaining, run, limits, onCase);
    if (run.status.startsWith('unavailable')) {
      for (const c of remaining) onCase(c.id);
      return;
    }
    // The baselines' event ids are `<what>/<case id>`: the one running when the process crashed is the one to blame.
    const stopped = result.cutOff ?? (result.crashed === undefined ? undefined : (result.current ?? remaining.find((c) => !result.finished.includes(c.id))?.id));
    if (result.cutOff !== undefined) {
      run.outcomes[result.cutOff] = { status: 'timeout', reason: `cut off after ${limits.caseTimeoutMs / 1000} s` };
      // A larger case of the same family would be cut off too: report it so without running it.
      const cut = cases.find((c) => c.id === result.cutOff);
      for (const c of remaining) {
        if (cut === undefined || c === cut || c.family !== cut.family || elementsOf(c) < elementsOf(cut)) continue;
        run.outcomes[c.id] = { status: 'timeout', reason: `not run: the smaller ${cut.id} was cut off after ${limits.caseTimeoutMs / 1000} s` };
        result.finished.push(c.id);
        onCase(c.id);
      }
    } else if (result.crashed !== undefined) {
      run.notes.push(`crashed ${result.crashed}`);
      if (stopped !== undefined) run.outcomes[stopped] = { status: 'error', reason: `process crashed: ${result.crashed}` };
    }
    if (stopped !== undefined) onCase(stopped);
    // A case is over when it (or every timing of it, for the baselines' `<what>/<id>`) finished or stopped.
    const over = (c: BenchCase, id: string | undefined): boolean => id !== undefined && (id === c.id || id.endsWith(`/${c.id}`));
    remaining = remaining.filter((c) => !result.finished.some((id) => over(c, id)) && !over(c, stopped));
    if (stopped === undefined) break;
  }
}

/** A progress bar on stderr over `total` steps. */
export function progressBar(total: number): { tick(label: string): void; stop(): void } {
  const bar = new cliProgress.SingleBar(
    { format: 'bench [{bar}] {value}/{total} | {label}', hideCursor: false, clearOnComplete: false, stream: process.stderr, noTTYOutput: true, notTTYSchedule: 5000 },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { label: '' });
  return {
    tick: (label) => bar.increment(1, { label }),
    stop: () => bar.stop(),
  };
}
