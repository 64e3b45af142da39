/**
 * One running testee: the child process, its framed stdout, its drained stderr, one request at a
 * time with a deadline, and a way to end it and everything it started.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { BoundedCapture } from './bounded-capture.ts';
import { TesteeError } from './errors.ts';
import { FrameDecoder, MAX_ENCODABLE_FRAME_BYTES, encodeFrame } from './frame.ts';
import { decodeMessage, encodeMessage, type ProtocolMessage } from './messages.ts';
import { errorMessage } from '../spec/errors.ts';

/** How to start a testee process. */
export interface TesteeLaunch {
  /** Program and arguments, already split. */
  readonly argv: readonly string[];
  readonly cwd?: string;
  /** Variables added to (not replacing) the runner's environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** Where stderr goes; shared across restarts so the report keeps the whole story. */
  readonly stderr: BoundedCapture;
  readonly maxFrameBytes: number;
  /** How long a shutdown may take before SIGTERM, and SIGTERM before SIGKILL, in ms. */
  readonly graceMs: number;
}

/**
 * How long to wait for the last stdout and stderr bytes of a testee that exited (an answer written
 * just before exit, a traceback); a grandchild holding the pipes open must not stall the runner.
 */
const STDIO_DRAIN_MS = 200;

interface PendingRequest {
  readonly what: string;
  readonly resolve: (message: ProtocolMessage) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** Every testee alive in this runner, killed if the runner exits without disposing them. */
const live = new Set<TesteeProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers run synchronously; kill() is synchronous, so no testee outlives a runner that exits normally.
  process.once('exit', () => {
    for (const testee of live) testee.kill();
  });
}

/** A started testee process speaking frames. */
export class TesteeProcess {
  private readonly child: ChildProcessByStdio<Writable, Readable, Readable>;
  private readonly decoder: FrameDecoder;
  private pending: PendingRequest | undefined;
  private exitDescription: string | undefined;
  private brokenReason: string | undefined;
  private readonly exitPromise: Promise<void>;

  /** Spawns the testee in its own process group (so a kill reaches whatever it started, e.g. a shell's child). */
  constructor(private readonly launch: TesteeLaunch) {
    const [program, ...args] = launch.argv;
    this.decoder = new FrameDecoder(launch.maxFrameBytes);
    this.child = spawn(program, args, {
      cwd: launch.cwd,
      env: { ...process.env, ...launch.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: process.platform !== 'win32',
    });
    live.add(this);
    installExitHook();

    let markExited!: () => void;
    this.exitPromise = new Promise<void>((resolve) => (markExited = resolve));

    this.child.stdout.on('data', (chunk: Buffer) => this.onStdout(chunk));
    // Drained always, whatever its volume, so the testee never blocks on a full stderr pipe.
    this.child.stderr.on('data', (chunk: Buffer) => launch.stderr.append(chunk));
    // EPIPE when the testee exits or closes stdin: the exit (or the timeout) reports it.
    this.child.stdin.on('error', () => undefined);
    this.child.on('error', (error) => {
      this.exitDescription ??= `could not be started (${error.message})`;
      this.onExit();
      markExited();
    });
    this.child.on('exit', (code, signal) => {
      this.exitDescription ??= signal !== null ? `was killed by ${signal}` : `exited with code ${code}`;
      this.onExit();
      markExited();
    });
  }

  /** Process id of the testee (undefined when it could not be spawned). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Whether the process is gone or no longer trusted (killed after a timeout or a protocol error). */
  get unusable(): boolean {
    return this.exitDescription !== undefined || this.brokenReason !== undefined;
  }

  /** Sends a request and waits for the one answer; rejects with a TesteeError on exit, timeout or a malformed frame. */
  request(message: ProtocolMessage, timeout: { readonly ms: number; readonly option: string }, what: string): Promise<ProtocolMessage> {
    if (this.pending !== undefined) throw new Error(`testee: ${what} sent while ${this.pending.what} is open`);
    if (this.unusable) {
      return Promise.reject(new TesteeError('crash', `${what}: the testee ${this.exitDescription ?? this.brokenReason}`));
    }
    let frame: Buffer;
    try {
      // maxFrameBytes guards against what the testee sends; requests are bounded by the prefix alone.
      frame = encodeFrame(encodeMessage(message), MAX_ENCODABLE_FRAME_BYTES);
    } catch (error) {
      return Promise.reject(new TesteeError('protocol', `${what}: cannot encode the request: ${errorMessage(error)}`));
    }
    return new Promise<ProtocolMessage>((resolve, reject) => {
      const timer = setTimeout(() => this.onTimeout(timeout.ms, timeout.option), timeout.ms);
      this.pending = { what, resolve, reject, timer };
      this.child.stdin.write(frame);
    });
  }

  /**
   * Ends the testee politely: sends `farewell` (the shutdown request) if given, closes stdin, then
   * SIGTERM after a grace period and SIGKILL after another, to the whole process group.
   */
  async stop(farewell?: ProtocolMessage): Promise<void> {
    if (this.exitDescription === undefined) {
      if (farewell !== undefined && this.brokenReason === undefined) {
        try {
          this.child.stdin.write(encodeFrame(encodeMessage(farewell)));
        } catch {
          // A request that cannot be encoded cannot be sent; closing stdin says the same.
        }
      }
      this.child.stdin.end();
      if (!(await this.exitedWithin(this.launch.graceMs))) {
        this.signalGroup('SIGTERM');
        if (!(await this.exitedWithin(this.launch.graceMs))) {
          this.signalGroup('SIGKILL');
          await this.exitPromise;
        }
      }
    }
    // The leader is gone; whatever it started in its group goes too.
    this.signalGroup('SIGKILL');
    this.release();
  }

  /** Stops trusting the testee (an answer that breaks the protocol) and kills it; the adapter restarts it. */
  discard(reason: string): void {
    this.brokenReason ??= reason;
    this.kill();
  }

  /** Kills the testee's process group at once (synchronous; used on timeouts and when the runner exits). */
  kill(): void {
    this.signalGroup('SIGKILL');
  }

  private onStdout(chunk: Buffer): void {
    if (this.brokenReason !== undefined) return;
    let payloads: Buffer[];
    try {
      payloads = this.decoder.push(chunk);
    } catch (error) {
      this.breakWith(errorMessage(error));
      return;
    }
    for (const payload of payloads) {
      const pending = this.pending;
      if (pending === undefined) {
        this.breakWith(`wrote a frame of ${payload.length} bytes while no request was open`);
        return;
      }
      let message: ProtocolMessage;
      try {
        message = decodeMessage(payload, `${pending.what}: answer`);
      } catch (error) {
        this.breakWith(errorMessage(error));
        return;
      }
      this.settle()?.resolve(message);
    }
  }

  /** A stream that cannot be trusted any more: fail the open request, kill the process; the adapter restarts it. */
  private breakWith(reason: string): void {
    this.brokenReason = `wrote an invalid frame (${reason})`;
    const pending = this.settle();
    this.kill();
    pending?.reject(new TesteeError('protocol', `${pending.what}: the testee wrote an invalid frame: ${reason}${this.stderrHint()}`));
  }

  private onTimeout(timeoutMs: number, option: string): void {
    const pending = this.settle();
    if (pending === undefined) return;
    const partial = this.decoder.partial();
    this.brokenReason = `did not answer ${pending.what} within ${timeoutMs} ms and was killed`;
    this.kill();
    pending.reject(
      new TesteeError(
        'timeout',
        `${pending.what}: no answer within ${timeoutMs} ms (${option})` +
          `${partial === undefined ? '' : `; received ${partial}`}; the testee was killed${this.stderrHint()}`,
      ),
    );
  }

  private onExit(): void {
    if (this.pending === undefined) {
      this.release();
      return;
    }
    // An answer written just before exit may still be in the pipe: read it before calling this a crash.
    const failPending = (): void => {
      const pending = this.settle();
      this.release();
      if (pending === undefined) return;
      const partial = this.decoder.partial();
      pending.reject(
        new TesteeError(
          'crash',
          `${pending.what}: the testee ${this.exitDescription} before answering` +
            `${partial === undefined ? '' : ` (it had written ${partial})`}${this.stderrHint()}`,
        ),
      );
    };
    // 'close' comes once stdout and stderr are both drained, so the error carries the last stderr lines.
    const timer = setTimeout(failPending, STDIO_DRAIN_MS);
    this.child.once('close', () => {
      clearTimeout(timer);
      setImmediate(failPending);
    });
  }

  private settle(): PendingRequest | undefined {
    const pending = this.pending;
    if (pending !== undefined) clearTimeout(pending.timer);
    this.pending = undefined;
    return pending;
  }

  private release(): void {
    if (this.exitDescription !== undefined) live.delete(this);
  }

  private exitedWithin(ms: number): Promise<boolean> {
    if (this.exitDescription !== undefined) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      void this.exitPromise.then(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  private signalGroup(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined) return;
    try {
      if (process.platform === 'win32') this.child.kill(signal);
      else process.kill(-pid, signal);
    } catch {
      // ESRCH: the group is already gone.
    }
  }

  private stderrHint(): string {
    const tail = this.launch.stderr.lastText(2_000).trimEnd();
    return tail === '' ? '' : `\n--- end of the testee's stderr ---\n${tail}`;
  }
}
