/**
 * A testee program in any language, plugged in as a ScanImplementation: the runner side of the
 * testee protocol (spec/protocol.md). The handshake runs when the adapter is built, because the
 * suite needs the name, precision and families before it plans anything; the process is then kept
 * for every run and step, restarted after a crash, a timeout or a broken frame.
 */
import type { FamilyName, OptionsOf, Problem, StepInputsOf, StepOutputs, OutputsOf } from '../spec/families.ts';
import type { EvaluationSettings, FamilyImplementation, ScanImplementation } from '../spec/implementation.ts';
import type { AnyProblem } from '../spec/families.ts';
import type { OutputTensor, Tensor } from '../spec/tensor.ts';
import { bfloat16Value, float16Value } from '../spec/float16.ts';
import { validateOutputs, validateStepOutputs } from '../spec/validate.ts';
import { BoundedCapture } from './bounded-capture.ts';
import { splitCommandLine } from './command-line.ts';
import { TesteeDeclinedError, TesteeError } from './errors.ts';
import { DEFAULT_MAX_FRAME_BYTES } from './frame.ts';
import { declineByCapabilities, handshakeRequest, parseHandshake, type FamilyCapabilities, type TesteeDescription } from './handshake.ts';
import { PROTOCOL_VERSION, type ProtocolMessage, type ProtocolTensor } from './messages.ts';
import { TesteeProcess } from './testee-process.ts';
import { gradientsOfAnswer, vjpRequestTensors } from './vjp-tensors.ts';
import type { Cotangents, GradientsOf } from '../spec/gradients.ts';
import { sequenceCount, type SsdVarlenOutputs, type SsdVarlenProblem } from '../spec/families/ssd/varlen.ts';
import { validateVarlenOutputs } from '../spec/families/ssd/varlen-validate.ts';
import { errorMessage } from '../spec/errors.ts';

/** How to start and supervise a testee. */
export interface ProcessImplementationOptions {
  /**
   * The program. Without `args`, a command line split into words like a POSIX shell would
   * (quotes, backslashes) but run without a shell: "python3 'my kernel.py' --fp32". With `args`,
   * the program path exactly.
   */
  readonly command: string;
  /** Arguments, passed exactly; when given, `command` is not split. */
  readonly args?: readonly string[];
  /** Working directory of the testee; the runner's when absent. */
  readonly cwd?: string;
  /** Variables added to the runner's environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** Longest wait for the answer to one run or step, in ms; default DEFAULT_REQUEST_TIMEOUT_MS. */
  readonly requestTimeoutMs?: number;
  /** Longest wait from spawning to the handshake answer, in ms; default 30 000 (a PyTorch import is slow). */
  readonly startTimeoutMs?: number;
  /** Bytes of stderr kept (first and last halves); default 65 536. */
  readonly stderrLimitBytes?: number;
  /** Restarts allowed after crashes, timeouts and broken frames before every request fails; default 10. */
  readonly maxRestarts?: number;
  /** Largest frame accepted from the testee, in bytes; default 1 GiB. */
  readonly maxFrameBytes?: number;
  /** On dispose: how long the testee may take to exit after shutdown before SIGTERM, and after SIGTERM before SIGKILL; default 2 000 ms. */
  readonly shutdownGraceMs?: number;
}

/** A ScanImplementation backed by a testee process, with access to what the testee wrote on stderr. */
export interface ProcessImplementation extends ScanImplementation {
  /** Everything kept of the testee's stderr, across restarts (bounded by stderrLimitBytes). */
  capturedStderr(): string;
  /** How many times the testee was restarted after a failure. */
  restarts(): number;
  /** The argv the testee is started with. */
  readonly argv: readonly string[];
}

/**
 * Default longest wait for one run or step answer, in ms: below the suite's own time limit of a
 * call (DEFAULT_RUN_TIMEOUT_MS, suite/settings.ts), so that this timeout, which restarts the
 * testee cleanly, fires first.
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

/** Characters of stderr put into environment().stderr; capturedStderr() has all that was kept. */
const ENVIRONMENT_STDERR_CHARS = 4_000;

/** Starts a testee, performs the handshake and returns it as an implementation; rejects with TesteeError('start') if it cannot. */
export async function processImplementation(options: ProcessImplementationOptions): Promise<ProcessImplementation> {
  const session = new TesteeSession(options);
  const description = await session.start();
  return adapterOf(session, description);
}

/** The requests that carry a problem and are answered with tensors. */
type RequestKind = 'run' | 'step' | 'vjp' | 'varlen';

class TesteeSession {
  readonly argv: readonly string[];
  readonly stderr: BoundedCapture;
  readonly requestTimeoutMs: number;
  private readonly startTimeoutMs: number;
  private readonly maxRestarts: number;
  private readonly maxFrameBytes: number;
  private readonly graceMs: number;
  private process: TesteeProcess | undefined;
  private first: TesteeDescription | undefined;
  private nextId = 1;
  private queue: Promise<unknown> = Promise.resolve();
  restartCount = 0;
  disposed = false;

  constructor(private readonly options: ProcessImplementationOptions) {
    this.argv = options.args === undefined ? splitCommandLine(options.command) : [options.command, ...options.args];
    this.requestTimeoutMs = positive('requestTimeoutMs', options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS);
    this.startTimeoutMs = positive('startTimeoutMs', options.startTimeoutMs ?? 30_000);
    this.maxRestarts = nonNegative('maxRestarts', options.maxRestarts ?? 10);
    this.maxFrameBytes = nonNegative('maxFrameBytes', options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES);
    this.graceMs = positive('shutdownGraceMs', options.shutdownGraceMs ?? 2_000);
    this.stderr = new BoundedCapture(nonNegative('stderrLimitBytes', options.stderrLimitBytes ?? 65_536));
  }

  get commandText(): string {
    return this.argv.map((word) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`)).join(' ');
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  /** Spawns the testee and reads its handshake; a restarted testee must describe itself as the first did. */
  async start(): Promise<TesteeDescription> {
    const testee = new TesteeProcess({
      argv: this.argv,
      cwd: this.options.cwd,
      env: this.options.env,
      stderr: this.stderr,
      maxFrameBytes: this.maxFrameBytes,
      graceMs: this.graceMs,
    });
    this.process = testee;
    try {
      const answer = await testee.request(handshakeRequest(), { ms: this.startTimeoutMs, option: 'startTimeoutMs' }, 'handshake');
      const description = parseHandshake(answer);
      if (this.first !== undefined && !sameDescription(this.first, description)) {
        throw new TesteeError('start', `handshake: the restarted testee describes itself differently from the first start (name, precision or families changed)`);
      }
      this.first ??= description;
      return description;
    } catch (error) {
      await testee.stop();
      const text = errorMessage(error).replace(/^handshake: /, '');
      throw new TesteeError('start', `testee \`${this.commandText}\` failed the handshake: ${text}`);
    }
  }

  /** Sends one run, step, vjp or varlen request (one at a time), with the settings metadata when given, and returns the result's tensors. */
  call(kind: RequestKind, family: FamilyName, options: object, inputs: object, what: string, settings?: EvaluationSettings): Promise<Record<string, OutputTensor>> {
    const result = this.queue.then(() => this.callNow(kind, family, options, inputs, what, settings));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async callNow(kind: RequestKind, family: FamilyName, options: object, inputs: object, what: string, settings: EvaluationSettings | undefined): Promise<Record<string, OutputTensor>> {
    const name = this.first?.name ?? this.commandText;
    if (this.disposed) throw new TesteeError('disposed', `testee '${name}': ${what} after dispose()`);
    await this.ensureRunning(name, what);
    const testee = this.process as TesteeProcess;
    const id = String(this.nextId++);
    const where = `testee '${name}': ${kind} request ${id} (${what})`;
    const tensors: Record<string, Tensor> = {};
    for (const [key, value] of Object.entries(inputs)) if (value !== undefined) tensors[key] = value as Tensor;
    const request: ProtocolMessage = {
      metadata: {
        protocol: PROTOCOL_VERSION, id, kind, family, options: JSON.stringify(options),
        ...(settings === undefined ? {} : { settings: JSON.stringify(settings) }),
      },
      tensors,
    };
    const answer = await testee.request(request, { ms: this.requestTimeoutMs, option: 'requestTimeoutMs' }, where);
    const m = answer.metadata;
    const broken = (detail: string): never => {
      testee.discard(detail);
      throw new TesteeError('protocol', `${where}: ${detail}; the testee was killed and will be restarted`);
    };
    if (m.protocol !== PROTOCOL_VERSION) broken(`answer metadata 'protocol': expected '${PROTOCOL_VERSION}', got ${quote(m.protocol)}`);
    if (m.id !== id) broken(`answer metadata 'id': expected '${id}' (the request's id), got ${quote(m.id)}`);
    switch (m.kind) {
      case 'result':
        return outputTensors(answer.tensors, where);
      case 'error':
        throw new TesteeError('reported', `${where}: the testee answered with an error: ${m.message ?? '(no message)'}`);
      case 'decline':
        throw new TesteeDeclinedError(m.reason ?? '(no reason)', `${where}: the testee declined at run time: ${m.reason ?? '(no reason)'}`);
      default:
        return broken(`answer metadata 'kind': expected 'result', 'error' or 'decline', got ${quote(m.kind)}`);
    }
  }

  /** Restarts a testee that crashed, hung or broke the protocol, within maxRestarts. */
  private async ensureRunning(name: string, what: string): Promise<void> {
    if (this.process !== undefined && !this.process.unusable) return;
    if (this.process !== undefined) {
      if (this.restartCount >= this.maxRestarts) {
        throw new TesteeError('gave-up', `testee '${name}': ${what} not sent: the testee failed ${this.restartCount + 1} times and maxRestarts is ${this.maxRestarts}`);
      }
      this.restartCount++;
      this.stderr.append(Buffer.from(`\n[scan-conformance: restarting the testee (restart ${this.restartCount} of at most ${this.maxRestarts})]\n`));
      await this.process.stop();
    }
    await this.start();
  }

  /** Starts the testee again after dispose() (not counted as a restart). */
  async revive(): Promise<void> {
    this.disposed = false;
    await this.queue;
    if (this.process === undefined || this.process.unusable) await this.start();
  }

  /** Shuts the testee down (shutdown request, then SIGTERM, then SIGKILL); an open request fails as a crash. */
  async dispose(): Promise<void> {
    this.disposed = true;
    const testee = this.process;
    if (testee === undefined) return;
    await testee.stop({ metadata: { protocol: PROTOCOL_VERSION, id: String(this.nextId++), kind: 'shutdown' }, tensors: {} });
  }
}

function adapterOf(session: TesteeSession, description: TesteeDescription): ProcessImplementation {
  const families: Partial<Record<FamilyName, FamilyImplementation<FamilyName>>> = {};
  for (const [family, capabilities] of Object.entries(description.families) as [FamilyName, FamilyCapabilities][]) {
    families[family] = familyAdapter(session, family, capabilities) as unknown as FamilyImplementation<FamilyName>;
  }
  return {
    name: description.name,
    precision: description.precision,
    ...(description.accumulation === undefined ? {} : { accumulation: description.accumulation }),
    description: description.description ?? `process testee \`${session.commandText}\` (protocol ${PROTOCOL_VERSION})`,
    families: families as ScanImplementation['families'],
    expectedFailures: description.expectedFailures,
    argv: session.argv,
    setup: () => session.revive(),
    dispose: () => session.dispose(),
    capturedStderr: () => session.stderr.text(),
    restarts: () => session.restartCount,
    environment: () => {
      const stderr = session.stderr.lastText(ENVIRONMENT_STDERR_CHARS);
      return {
        ...description.environment,
        testee: session.commandText,
        protocol: PROTOCOL_VERSION,
        ...(session.pid === undefined ? {} : { pid: String(session.pid) }),
        restarts: String(session.restartCount),
        ...(stderr === '' ? {} : { stderr }),
      };
    },
  };
}

function familyAdapter<F extends FamilyName>(session: TesteeSession, family: F, capabilities: FamilyCapabilities): FamilyImplementation<F> {
  const adapter: FamilyImplementation<F> = {
    async run(problem: Problem<F>, settings?: EvaluationSettings): Promise<OutputsOf<F>> {
      const sent = requestSettings(family, capabilities, settings);
      const what = `${describeProblem(problem)}${sent === undefined ? '' : `, chunk size ${sent.chunkSize}`}`;
      const tensors = await session.call('run', family, problem.options, problem.inputs, what, sent);
      return validateOutputs(problem, tensors);
    },
    decline: (problem: Problem<F>) => declineByCapabilities(capabilities, problem as AnyProblem),
    ...(capabilities.errorModel === undefined ? {} : { errorModel: capabilities.errorModel }),
    ...(capabilities.chunkSizes === undefined ? {} : { chunkSizes: capabilities.chunkSizes }),
  };
  // vjp and step exist on the entry only where the handshake declared them, so the suite sees
  // "not applicable" rather than a request the testee never said it could answer.
  return {
    ...adapter,
    ...(capabilities.step && {
      async step(inputs: StepInputsOf<F>, options: OptionsOf<F>): Promise<StepOutputs> {
        const tensors = await session.call('step', family, options, inputs, `${family} step, batch×dim ${stepSize(inputs)}`);
        return validateStepOutputs(family, inputs, tensors);
      },
    }),
    ...(capabilities.vjp && {
      async vjp(problem: Problem<F>, cotangents: Cotangents<F>): Promise<GradientsOf<F>> {
        const tensors = await session.call('vjp', family, problem.options, vjpRequestTensors(problem, cotangents), `${describeProblem(problem)}, backward`);
        return gradientsOfAnswer(problem, tensors);
      },
    }),
    // The handshake allows varlen for ssd only, so this entry point exists on ssd's adapter alone.
    ...(capabilities.varlen && {
      async runVarlen(problem: SsdVarlenProblem, settings?: EvaluationSettings): Promise<SsdVarlenOutputs> {
        const sent = requestSettings(family, capabilities, settings);
        const T = problem.inputs.x.shape[1];
        const what = `ssd varlen, ${sequenceCount(problem.inputs)} sequences in ${T} tokens, options ${JSON.stringify(problem.options)}${sent === undefined ? '' : `, chunk size ${sent.chunkSize}`}`;
        const tensors = await session.call('varlen', family, problem.options, problem.inputs, what, sent);
        return validateVarlenOutputs(problem, tensors);
      },
    }),
  };
}

/**
 * The settings a run request carries: the chunk size when the suite gives one and the testee
 * declared chunk sizes (without them run() ignores it, as FamilyImplementation.chunkSizes says).
 * A size the testee did not declare is refused here, like an in-process implementation refuses it,
 * rather than sent to a testee that never said it could take it.
 */
function requestSettings(family: FamilyName, capabilities: FamilyCapabilities, settings: EvaluationSettings | undefined): { chunkSize: number } | undefined {
  const chunkSize = settings?.chunkSize;
  if (chunkSize === undefined || capabilities.chunkSizes === undefined) return undefined;
  if (!capabilities.chunkSizes.includes(chunkSize)) {
    throw new RangeError(`${family}: settings.chunkSize: expected one of ${capabilities.chunkSizes.join(', ')} (the testee's handshake, families.${family}.chunkSizes), got ${chunkSize}`);
  }
  return { chunkSize };
}

/**
 * The answer's tensors as outputs: F32 and F64 as they are; F16 and BF16 widened to float32, which
 * is exact (a half-precision kernel may answer in its own dtype); anything else is refused by name.
 */
function outputTensors(tensors: Readonly<Record<string, ProtocolTensor>>, where: string): Record<string, OutputTensor> {
  const outputs: Record<string, OutputTensor> = {};
  // An own property whatever the name: `outputs['__proto__'] = …` would set the prototype, and validation would never see the extra tensor.
  const put = (name: string, tensor: OutputTensor) => Object.defineProperty(outputs, name, { value: tensor, enumerable: true, writable: true, configurable: true });
  for (const [name, { data, shape, dtype }] of Object.entries(tensors)) {
    if (data instanceof Float32Array || data instanceof Float64Array) {
      put(name, { data, shape });
    } else if ((dtype === 'F16' || dtype === 'BF16') && data instanceof Uint16Array) {
      const widen = dtype === 'F16' ? float16Value : bfloat16Value;
      put(name, { data: Float32Array.from(data, widen), shape });
    } else {
      throw new TesteeError('protocol', `${where}: output '${name}': expected dtype F32 or F64 (or F16/BF16, widened exactly), got ${dtype ?? data.constructor.name}`);
    }
  }
  return outputs;
}

function describeProblem(problem: Problem): string {
  const shape = (Object.values(problem.inputs as object)[0] as Tensor).shape;
  return `${problem.family}, shape [${shape.join(', ')}], options ${JSON.stringify(problem.options)}`;
}

function stepSize(inputs: object): string {
  const shape = (Object.values(inputs)[0] as Tensor).shape;
  return shape.slice(0, 2).join('×');
}

function sameDescription(a: TesteeDescription, b: TesteeDescription): boolean {
  return a.name === b.name && a.precision === b.precision && JSON.stringify(a.families) === JSON.stringify(b.families);
}

function quote(value: string | undefined): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}

function positive(field: string, value: number): number {
  if (!(Number.isFinite(value) && value > 0)) throw new RangeError(`${field}: expected a positive number of milliseconds, got ${value}`);
  return value;
}

function nonNegative(field: string, value: number): number {
  if (!(Number.isSafeInteger(value) && value >= 0)) throw new RangeError(`${field}: expected a non-negative integer, got ${value}`);
  return value;
}
