/**
 * Every way a testee can misbehave: each is a clear error for the case it concerns, the runner
 * goes on with the next case, and nothing hangs or outlives the test. Each test owns its testee,
 * so the tests run concurrently (most of their time is waiting on timeouts and process starts).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { reference } from '../../reference/index.ts';
import { TesteeDeclinedError, TesteeError, type TesteeFailureKind } from '../../protocol/errors.ts';
import type { ProcessImplementation } from '../../protocol/process-implementation.ts';
import { SpecValidationError } from '../../spec/errors.ts';
import type { FamilyImplementation } from '../../spec/implementation.ts';
import { gone, HAS_PROC, isAlive, childrenStartedFromNow, misbehavingForThisTest, rejection } from './harness.ts';
import { expectClose, linearRecurrenceProblem } from './problems.ts';

const childrenLeft = childrenStartedFromNow();

afterAll(() => {
  if (HAS_PROC) expect(childrenLeft()).toEqual([]);
});

/** Length 3 triggers the misbehaviour; other lengths are answered correctly. */
const TRIGGER = linearRecurrenceProblem('trigger', 1, 2, 3, { reverse: false, h0: true });
const NORMAL = linearRecurrenceProblem('normal', 2, 3, 5, { reverse: false, h0: true });

function recurrence(impl: ProcessImplementation): FamilyImplementation<'linear-recurrence'> {
  const family = impl.families['linear-recurrence'];
  if (family === undefined) throw new Error('the misbehaving testee declares linear-recurrence');
  return family;
}

/** Runs the normal problem and checks the answer: the testee (or its replacement) works. */
async function expectWorking(impl: ProcessImplementation): Promise<void> {
  const outputs = await recurrence(impl).run(NORMAL);
  const expected = reference(NORMAL).outputs;
  expectClose('h', outputs.h, expected.h, 1e-12);
  expectClose('lastState', outputs.lastState, expected.lastState, 1e-12);
}

async function expectTesteeError(promise: Promise<unknown>, kind: TesteeFailureKind, pattern: RegExp): Promise<TesteeError> {
  const error = await rejection(promise);
  expect(error, error.message).toBeInstanceOf(TesteeError);
  expect((error as TesteeError).kind, error.message).toBe(kind);
  expect(error.message).toMatch(pattern);
  return error as TesteeError;
}

function pidOf(impl: ProcessImplementation): number {
  return Number(impl.environment?.().pid);
}

describe.concurrent('a testee that dies', () => {
  it('crash mid-run: the case fails with the exit code and stderr, the testee is restarted for the next case', async ({ onTestFinished }) => {
    const impl = await misbehavingForThisTest(onTestFinished, 'crash');
    await expectWorking(impl);
    const firstPid = pidOf(impl);
    const error = await expectTesteeError(recurrence(impl).run(TRIGGER), 'crash', /exited with code 139 before answering/);
    expect(error.message).toMatch(/testee 'misbehaving': run request \d+ \(linear-recurrence, shape \[1, 2, 3\]/);
    expect(error.message).toMatch(/Segmentation fault \(simulated\)/);
    await expectWorking(impl);
    expect(impl.restarts()).toBe(1);
    expect(pidOf(impl)).not.toBe(firstPid);
    expect(impl.capturedStderr()).toMatch(/Segmentation fault \(simulated\)\n\n\[scan-conformance: restarting the testee \(restart 1 of at most 10\)\]/);
  });

  it('bounds restarts: after maxRestarts every request fails at once', async ({ onTestFinished }) => {
    const impl = await misbehavingForThisTest(onTestFinished, 'always-crash', { maxRestarts: 2 });
    for (let attempt = 0; attempt < 3; attempt++) await expectTesteeError(recurrence(impl).run(NORMAL), 'crash', /exited with code 139/);
    await expectTesteeError(recurrence(impl).run(NORMAL), 'gave-up', /failed 3 times and maxRestarts is 2/);
    expect(impl.restarts()).toBe(2);
  });

  it('early exit: a testee that exits without answering is a crash, exit code 0 included', async ({ onTestFinished }) => {
    const impl = await misbehavingForThisTest(onTestFinished, 'exit-early');
    await expectTesteeError(recurrence(impl).run(NORMAL), 'crash', /exited with code 0 before answering/);
  });

  it('a frame cut short by exit says how much had arrived', async ({ onTestFinished }) => {
    const impl = await misbehavingForThisTest(onTestFinished, 'truncated-exit');
    await expectTesteeError(recurrence(impl).run(TRIGGER), 'crash', /exited with code 2 before answering \(it had written 96 of \d+ payload bytes of a frame\)/);
    await expectWorking(impl);
  });
});

describe.concurrent('a testee that hangs', () => {
  it('times out after requestTimeoutMs, is killed and replaced', async ({ onTestFinished }) => {
    // 1.5 s: the replacement must answer a working request within it on a loaded machine too.
    const impl = await misbehavingForThisTest(onTestFinished, 'hang', { requestTimeoutMs: 1500 });
    const firstPid = pidOf(impl);
    await expectTesteeError(recurrence(impl).run(TRIGGER), 'timeout', /no answer within 1500 ms \(requestTimeoutMs\); the testee was killed/);
    expect(await gone(firstPid)).toBe(true);
    await expectWorking(impl);
    expect(impl.restarts()).toBe(1);
  });

  it('kills what the testee started too (its process group)', async ({ onTestFinished }) => {
    const impl = await misbehavingForThisTest(onTestFinished, 'grandchild', { requestTimeoutMs: 1500 });
    await expectWorking(impl);
    const grandchild = Number(/grandchild pid (\d+)/.exec(impl.capturedStderr())?.[1]);
    expect(isAlive(grandchild)).toBe(true);
    await expectTesteeError(recurrence(impl).run(TRIGGER), 'timeout', /no answer within 1500 ms/);
    expect(await gone(grandchild)).toBe(true);
  });

  it('a partial frame followed by silence times out and says what arrived', async ({ onTestFinished }) => {
    // Long enough for the partial frame to arrive on a loaded machine (CI beside a deep sweep took more than 300 ms).
    const impl = await misbehavingForThisTest(onTestFinished, 'truncated-hang', { requestTimeoutMs: 3000 });
    await expectTesteeError(recurrence(impl).run(TRIGGER), 'timeout', /no answer within 3000 ms.*received 96 of \d+ payload bytes of a frame/s);
    await expectWorking(impl);
  });
});

describe.concurrent('a testee that writes what it should not', () => {
  it('garbage on stdout (a stray print) is a protocol error at once, not a timeout', async ({ onTestFinished }) => {
    const impl = await misbehavingForThisTest(onTestFinished, 'garbage', { requestTimeoutMs: 30_000 });
    await expectTesteeError(recurrence(impl).run(TRIGGER), 'protocol', /invalid frame: .*ASCII "hell".*logs belong on stderr/);
    await expectWorking(impl);
    expect(impl.restarts()).toBe(1);
  });

  it('a frame whose payload is not safetensors is a protocol error', async ({ onTestFinished }) => {
    const impl = await misbehavingForThisTest(onTestFinished, 'bad-payload');
    await expectTesteeError(recurrence(impl).run(TRIGGER), 'protocol', /expected a safetensors payload/);
    await expectWorking(impl);
  });

  it('an answer to another request id is a protocol error', async ({ onTestFinished }) => {
    const impl = await misbehavingForThisTest(onTestFinished, 'wrong-id');
    await expectTesteeError(recurrence(impl).run(TRIGGER), 'protocol', /answer metadata 'id': expected '\d+' \(the request's id\), got "\d+"/);
    await expectWorking(impl);
  });

  it('frames larger than maxFrameBytes are refused without buffering them', async ({ onTestFinished }) => {
    // The handshake (a few hundred bytes) fits; the answer for L = 1000 (16 kB) does not.
    const impl = await misbehavingForThisTest(onTestFinished, 'normal', { maxFrameBytes: 2_000 });
    const long = linearRecurrenceProblem('long', 1, 2, 1_000, { reverse: false, h0: false });
    await expectTesteeError(recurrence(impl).run(long), 'protocol', /at most 2000 bytes \(maxFrameBytes\), got \d{5}/);
  });
});

describe.concurrent('a testee that answers wrongly', () => {
  it('wrong shape: a validation error naming the output; the testee stays up', async ({ onTestFinished }) => {
    const impl = await misbehavingForThisTest(onTestFinished, 'wrong-shape');
    const pid = pidOf(impl);
    const error = await rejection(recurrence(impl).run(TRIGGER));
    expect(error).toBeInstanceOf(SpecValidationError);
    expect(error.message).toMatch(/h.shape: expected \[1, 2, 3\], got \[1, 2, 4\]/);
    await expectWorking(impl);
    expect(pidOf(impl)).toBe(pid);
  });

  it('a missing output is named', async ({ onTestFinished }) => {
    const impl = await misbehavingForThisTest(onTestFinished, 'missing-output');
    const error = await rejection(recurrence(impl).run(TRIGGER));
    expect(error).toBeInstanceOf(SpecValidationError);
    expect(error.message).toMatch(/lastState: expected a tensor of shape \[1, 2\], got undefined \(missing\)/);
  });

  it('an extra output named __proto__ is refused by name, as any extra output is (it had been dropped unseen)', async ({ onTestFinished }) => {
    const impl = await misbehavingForThisTest(onTestFinished, 'proto-output');
    const error = await rejection(recurrence(impl).run(TRIGGER));
    expect(error).toBeInstanceOf(SpecValidationError);
    expect(error.message).toMatch(/__proto__: expected no such output \(outputs: h, lastState\), got key '__proto__'/);
  });

  it('wrong dtype (int32) is named', async ({ onTestFinished }) => {
    const impl = await misbehavingForThisTest(onTestFinished, 'wrong-dtype');
    const error = await rejection(recurrence(impl).run(TRIGGER));
    expect(error.message).toMatch(/I32|Int32Array/);
    expect(error.message).toMatch(/\bh\b/);
    await expectWorking(impl);
  });

  it('an error answer fails the case with the testee message and keeps the process', async ({ onTestFinished }) => {
    const impl = await misbehavingForThisTest(onTestFinished, 'error-answer');
    await expectTesteeError(recurrence(impl).run(TRIGGER), 'reported', /answered with an error: CUDA error: out of memory \(simulated\)/);
    await expectWorking(impl);
    expect(impl.restarts()).toBe(0);
  });

  it('a decline at run time is a TesteeDeclinedError carrying the reason', async ({ onTestFinished }) => {
    const impl = await misbehavingForThisTest(onTestFinished, 'decline-answer');
    const error = await rejection(recurrence(impl).run(TRIGGER));
    expect(error).toBeInstanceOf(TesteeDeclinedError);
    expect((error as TesteeDeclinedError).reason).toBe('lengths that are not a multiple of 4');
    await expectWorking(impl);
  });
});

describe.concurrent('stderr and the end of a testee', () => {
  it('a flood of stderr never blocks the testee, and only a bounded part is kept', async ({ onTestFinished }) => {
    const impl = await misbehavingForThisTest(onTestFinished, 'stderr-flood', { stderrLimitBytes: 10_000 });
    await expectWorking(impl);
    await expectWorking(impl);
    const captured = impl.capturedStderr();
    expect(captured).toMatch(/\[… \d+ bytes of stderr not kept \(limit 10000 bytes\) …\]/);
    expect(captured.length).toBeLessThan(10_200);
    expect(impl.environment?.().stderr?.length).toBeLessThanOrEqual(4_001);
  });

  it('dispose ends a testee that ignores shutdown, end of input and SIGTERM (SIGKILL)', async ({ onTestFinished }) => {
    const impl = await misbehavingForThisTest(onTestFinished, 'ignore-sigterm', { shutdownGraceMs: 150 });
    const pid = pidOf(impl);
    await impl.dispose?.();
    expect(isAlive(pid)).toBe(false);
    expect(impl.capturedStderr()).toMatch(/SIGTERM ignored/);
  });

  it('dispose during an open request fails that request and ends the testee', async ({ onTestFinished }) => {
    const impl = await misbehavingForThisTest(onTestFinished, 'hang', { shutdownGraceMs: 150 });
    const pid = pidOf(impl);
    const running = rejection(recurrence(impl).run(TRIGGER));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await impl.dispose?.();
    // Stuck in its handler, the testee never reads the shutdown request: SIGTERM ends it.
    expect((await running).message).toMatch(/was killed by SIGTERM before answering/);
    expect(isAlive(pid)).toBe(false);
    await expectTesteeError(recurrence(impl).run(NORMAL), 'disposed', /after dispose\(\)/);
  });

  it('setup after dispose starts the testee again', async ({ onTestFinished }) => {
    const impl = await misbehavingForThisTest(onTestFinished, 'normal');
    await impl.dispose?.();
    await impl.setup?.();
    await expectWorking(impl);
    expect(impl.restarts()).toBe(0);
  });

  it('concurrent requests are sent one at a time and all answered', async ({ onTestFinished }) => {
    const impl = await misbehavingForThisTest(onTestFinished, 'normal');
    const problems = [2, 5, 7, 1, 0].map((length, i) => linearRecurrenceProblem(`c${i}`, 2, 2, length, { reverse: false, h0: i % 2 === 0 }));
    const answers = await Promise.all(problems.map((problem) => recurrence(impl).run(problem)));
    answers.forEach((outputs, i) => expectClose(`h of problem ${i}`, outputs.h, reference(problems[i]).outputs.h, 1e-12));
  });
});
