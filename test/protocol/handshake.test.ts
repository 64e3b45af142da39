import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { TesteeError } from '../../protocol/errors.ts';
import { declineByCapabilities, parseHandshake } from '../../protocol/handshake.ts';
import type { ProtocolMessage } from '../../protocol/messages.ts';
import { AdapterPool, HAS_PROC, childrenStartedFromNow, NODE_EXAMPLE_TESTEE, rejection } from './harness.ts';
import { linearRecurrenceProblem, selectiveScanProblem } from './problems.ts';

const pool = new AdapterPool();
afterEach(() => pool.disposeAll());
const childrenLeft = childrenStartedFromNow();

afterAll(() => {
  if (HAS_PROC) expect(childrenLeft()).toEqual([]);
});

describe('handshake with a live testee', () => {
  it('builds the implementation from what the Node example states', async () => {
    const impl = await pool.start({ command: `${process.execPath} ${NODE_EXAMPLE_TESTEE}` });
    expect(impl.name).toBe('node-example-f64');
    expect(impl.precision).toBe('float64');
    expect(Object.keys(impl.families).sort()).toEqual(['linear-recurrence', 'prefix-sum']);
    expect(typeof impl.families['linear-recurrence']?.step).toBe('function');
    expect(impl.families['selective-scan']).toBeUndefined();
    const environment = impl.environment?.() ?? {};
    expect(environment.node).toBe(process.version);
    expect(environment.protocol).toBe('1');
    expect(environment.testee).toContain('testee.mjs');
    expect(impl.argv).toEqual([process.execPath, NODE_EXAMPLE_TESTEE]);
  });

  const failures: [mode: string, pattern: RegExp][] = [
    ['wrong-version', /handshake: protocol: expected '1' \(the protocol version this runner speaks\), got '2'/],
    ['missing-name', /name: expected a non-empty string, got nothing/],
    ['bad-families', /families: expected keys from prefix-sum, .*got 'cumulative-product'/],
    ['bad-precision', /precision: expected one of 'float64', .*got "float128"/],
    ['exit-before-handshake', /exited with code 1 before answering[\s\S]*cannot import my_kernel: no such module/],
  ];
  for (const [mode, pattern] of failures) {
    it(`rejects a testee whose handshake fails: ${mode}`, async () => {
      const error = await rejection(pool.misbehaving(mode));
      expect(error).toBeInstanceOf(TesteeError);
      expect((error as TesteeError).kind).toBe('start');
      expect(error.message).toMatch(/failed the handshake/);
      expect(error.message).toMatch(pattern);
    });
  }

  it('gives up on a testee that does not answer the handshake within startTimeoutMs', async () => {
    const error = await rejection(pool.misbehaving('no-handshake', { startTimeoutMs: 300 }));
    expect((error as TesteeError).kind).toBe('start');
    expect(error.message).toMatch(/failed the handshake: no answer within 300 ms \(startTimeoutMs\)/);
  });

  it('names a program that cannot be started', async () => {
    const error = await rejection(pool.start({ command: 'no-such-program-scan-conformance --flag' }));
    expect((error as TesteeError).kind).toBe('start');
    expect(error.message).toMatch(/could not be started \(spawn no-such-program-scan-conformance ENOENT\)/);
  });

  it('rejects an unsplittable command line before starting anything', async () => {
    await expect(pool.start({ command: `python3 'kernel.py` })).rejects.toThrow(/closing '/);
  });
});

/** A handshake answer with the given extra or replaced metadata fields. */
function answer(fields: Record<string, string | undefined>): ProtocolMessage {
  const metadata: Record<string, string> = {};
  const all = { protocol: '1', id: '0', kind: 'handshake', name: 'k', precision: 'float32', families: '{"linear-recurrence": {}}', ...fields };
  for (const [key, value] of Object.entries(all)) if (value !== undefined) metadata[key] = value;
  return { metadata, tensors: {} };
}

describe('handshake fields', () => {
  it('reads every optional field', () => {
    const description = parseHandshake(
      answer({
        accumulation: 'float64',
        description: 'my kernel',
        families: JSON.stringify({
          'linear-recurrence': { step: true, options: { reverse: [false] }, optionalInputs: [] },
          'selective-scan': { errorModel: 'componentwise', layouts: ['time-invariant'] },
          ssd: { chunkSizes: [64, 100, 256], vjp: true, varlen: true },
        }),
        expectedFailures: JSON.stringify([{ family: 'linear-recurrence', property: 'state-passing', options: { reverse: true }, reason: 'no carry-in' }]),
        environment: JSON.stringify({ torch: '2.4.0' }),
      }),
    );
    expect(description.accumulation).toBe('float64');
    expect(description.description).toBe('my kernel');
    expect(description.families['linear-recurrence']).toEqual({ step: true, vjp: false, varlen: false, options: { reverse: [false] }, optionalInputs: [] });
    expect(description.families['selective-scan']).toEqual({ step: false, vjp: false, varlen: false, errorModel: 'componentwise', options: {}, layouts: ['time-invariant'] });
    expect(description.families.ssd).toEqual({ step: false, vjp: true, varlen: true, options: {}, chunkSizes: [64, 100, 256] });
    expect(description.expectedFailures).toEqual([{ family: 'linear-recurrence', property: 'state-passing', options: { reverse: true }, reason: 'no carry-in' }]);
    expect(description.environment).toEqual({ torch: '2.4.0' });
  });

  it('turns declared limits into declines with reasons', () => {
    const { families } = parseHandshake(
      answer({
        families: JSON.stringify({
          'linear-recurrence': { options: { reverse: [false] }, optionalInputs: [] },
          'selective-scan': { layouts: ['time-invariant', 'grouped'], optionalInputs: ['D', 'z', 'deltaBias'] },
        }),
      }),
    );
    const recurrence = families['linear-recurrence']!;
    expect(declineByCapabilities(recurrence, linearRecurrenceProblem('s', 1, 1, 4, { reverse: false, h0: false }))).toBeUndefined();
    expect(declineByCapabilities(recurrence, linearRecurrenceProblem('s', 1, 1, 4, { reverse: true, h0: false }))).toMatch(/options.reverse ∈ \[false\] only.*reverse=true/);
    expect(declineByCapabilities(recurrence, linearRecurrenceProblem('s', 1, 1, 4, { reverse: false, h0: true }))).toMatch(/optional inputs \[\] only.*has h0/);
    const scan = families['selective-scan']!;
    const { h0, ...withoutH0 } = selectiveScanProblem('s', 'time-invariant', 4, false).inputs;
    expect(h0).toBeDefined();
    expect(declineByCapabilities(scan, { family: 'selective-scan', inputs: withoutH0, options: { deltaSoftplus: true } })).toBeUndefined();
    expect(declineByCapabilities(scan, selectiveScanProblem('s', 'time-invariant', 4, false))).toMatch(/has h0/);
    const varying = selectiveScanProblem('s', 'time-varying', 4, false);
    const { h0: _unused, ...varyingInputs } = varying.inputs;
    expect(declineByCapabilities(scan, { ...varying, inputs: varyingInputs })).toMatch(/B\/C layouts \[time-invariant, grouped\] only.*B is time-varying/);
  });

  const invalid: [fields: Record<string, string | undefined>, pattern: RegExp][] = [
    [{ kind: 'error', message: 'unsupported protocol 1' }, /kind: expected 'handshake', got an error answer: unsupported protocol 1/],
    [{ protocol: undefined }, /protocol: expected '1' .*got nothing/],
    [{ id: '3' }, /id: expected '0'.*got "3"/],
    [{ accumulation: 'float8' }, /accumulation: expected one of/],
    [{ families: 'not json' }, /families: expected JSON text, got "not json"/],
    [{ families: '{}' }, /families: expected a JSON object naming at least one of/],
    [{ families: '{"prefix-sum": {"step": "yes"}}' }, /families.prefix-sum.step: expected a boolean \(true or false\), got "yes"/],
    [{ families: '{"prefix-sum": {"vjp": "true"}}' }, /families.prefix-sum.vjp: expected a boolean \(true or false\), got "true"/],
    [{ families: '{"ssd": {"vjp": 1}}' }, /families.ssd.vjp: expected a boolean \(true or false\), got 1/],
    [{ families: '{"lti-ssm": {"vjp": null}}' }, /families.lti-ssm.vjp: expected a boolean \(true or false\), got null/],
    [{ families: '{"ssd": {"varlen": "yes"}}' }, /families.ssd.varlen: expected a boolean \(true or false\), got "yes"/],
    [{ families: '{"mamba3-siso": {"varlen": true}}' }, /families.mamba3-siso.varlen: expected nothing \(only ssd has a variable-length form\), got true/],
    [{ families: '{"prefix-sum": {"fast": true}}' }, /families.prefix-sum.fast: expected one of the capabilities/],
    [{ families: '{"prefix-sum": {"options": {"reverse": []}}}' }, /families.prefix-sum.options.reverse: expected a non-empty array of booleans/],
    [{ families: '{"prefix-sum": {"options": {"deltaSoftplus": [true]}}}' }, /families.prefix-sum.options.deltaSoftplus: expected an option of prefix-sum \(exclusive, reverse\)/],
    [{ families: '{"lti-ssm": {"optionalInputs": ["h0"]}}' }, /families.lti-ssm.optionalInputs: expected an array of strings from \[D\]/],
    [{ families: '{"prefix-sum": {"layouts": ["grouped"]}}' }, /layouts apply to selective-scan only/],
    [{ families: '{"prefix-sum": {"errorModel": "relative"}}' }, /errorModel: expected 'componentwise' or 'normwise'/],
    [{ families: '{"ssd": {"chunkSizes": 64}}' }, /families.ssd.chunkSizes: expected a non-empty array of positive integers .*got 64/],
    [{ families: '{"ssd": {"chunkSizes": []}}' }, /families.ssd.chunkSizes: expected a non-empty array of positive integers .*got \[\]/],
    [{ families: '{"ssd": {"chunkSizes": [64, 0]}}' }, /families.ssd.chunkSizes\[1\]: expected a positive safe integer, got 0/],
    [{ families: '{"ssd": {"chunkSizes": [-64]}}' }, /families.ssd.chunkSizes\[0\]: expected a positive safe integer, got -64/],
    [{ families: '{"ssd": {"chunkSizes": [64.5]}}' }, /families.ssd.chunkSizes\[0\]: expected a positive safe integer, got 64.5/],
    [{ families: '{"ssd": {"chunkSizes": ["64"]}}' }, /families.ssd.chunkSizes\[0\]: expected a positive safe integer, got "64"/],
    [{ families: '{"ssd": {"chunkSizes": [9007199254740992]}}' }, /families.ssd.chunkSizes\[0\]: expected a positive safe integer, got 9007199254740992/],
    [{ families: '{"ssd": {"chunkSizes": [64, 256, 64]}}' }, /families.ssd.chunkSizes\[2\]: expected a size not listed before \(each size once\), got 64 again \(also at \[0\]\)/],
    [{ expectedFailures: '[{"family": "prefix-sum"}]' }, /expectedFailures\[0\].reason: expected a non-empty string/],
    [{ environment: '{"gpu": 1}' }, /environment.gpu: expected a string, got 1/],
  ];
  for (const [fields, pattern] of invalid) {
    it(`names the field of an invalid handshake: ${JSON.stringify(fields)}`, () => {
      let caught: unknown;
      try {
        parseHandshake(answer(fields));
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(TesteeError);
      expect((caught as TesteeError).message).toMatch(pattern);
    });
  }
});
