#!/usr/bin/env node
// A linear-recurrence testee that misbehaves on purpose, one way per mode (argv[2]); the
// misbehaviour triggers on a problem of length 3, so other lengths show the runner recovering.
// Used by test/protocol/misbehaviour.test.ts and handshake.test.ts.
import { spawn } from 'node:child_process';
import { decodeSafetensors, encodeFrame, encodeSafetensors, readFrames, send } from '../../../examples/testees/node/protocol.mjs';

const mode = process.argv[2];
const TRIGGER_LENGTH = 3;

const handshake = {
  protocol: '1',
  kind: 'handshake',
  name: 'misbehaving',
  precision: 'float64',
  families: JSON.stringify({ 'linear-recurrence': { step: true } }),
};
if (mode === 'wrong-version') handshake.protocol = '2';
if (mode === 'missing-name') delete handshake.name;
if (mode === 'bad-families') handshake.families = JSON.stringify({ 'cumulative-product': {} });
if (mode === 'bad-precision') handshake.precision = 'float128';
if (mode.startsWith('vjp-')) handshake.families = JSON.stringify({ 'linear-recurrence': { step: true, vjp: true } });

if (mode === 'exit-before-handshake') {
  process.stderr.write('cannot import my_kernel: no such module\n');
  process.exit(1);
}
if (mode === 'ignore-sigterm') {
  process.on('SIGTERM', () => process.stderr.write('SIGTERM ignored\n'));
  setInterval(() => {}, 1_000);
}
if (mode === 'grandchild') {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  process.stderr.write(`grandchild pid ${child.pid}\n`);
}

function linearRecurrence({ a, b, h0 }) {
  const [batch, dim, length] = a.shape;
  const h = new Float64Array(a.data.length);
  const last = new Float64Array(batch * dim);
  for (let c = 0; c < batch * dim; c++) {
    let state = h0 === undefined ? 0 : h0.data[c];
    for (let t = 0; t < length; t++) {
      state = a.data[c * length + t] * state + b.data[c * length + t];
      h[c * length + t] = state;
    }
    last[c] = state;
  }
  return { h: { data: h, shape: [batch, dim, length] }, lastState: { data: last, shape: [batch, dim] } };
}

/** A safetensors payload with one int32 tensor, which the protocol does not allow. */
function int32Answer(id, shape) {
  const count = shape.reduce((x, y) => x * y, 1);
  const header = { __metadata__: { protocol: '1', id, kind: 'result' }, h: { dtype: 'I32', shape, data_offsets: [0, 4 * count] } };
  const json = Buffer.from(JSON.stringify(header));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([prefix, json, Buffer.alloc(4 * count)]);
}

async function misbehave(id, inputs) {
  const [batch, dim, length] = inputs.a.shape;
  const result = linearRecurrence(inputs);
  const frame = encodeFrame(encodeSafetensors({ metadata: { protocol: '1', id, kind: 'result' }, tensors: result }));
  switch (mode) {
    case 'crash':
    case 'always-crash':
      process.stderr.write('Segmentation fault (simulated)\n');
      process.exit(139);
    case 'exit-early':
      process.exit(0);
    case 'hang':
    case 'grandchild':
      // A busy kernel: it notices neither the shutdown request nor the end of its input.
      setInterval(() => {}, 1_000);
      return new Promise(() => {});
    case 'garbage':
      process.stdout.write('hello from a stray print()\n');
      return new Promise(() => {});
    case 'bad-payload':
      process.stdout.write(encodeFrame(Buffer.from('this is not a safetensors payload')));
      return;
    case 'truncated-exit':
      process.stdout.write(frame.subarray(0, 100), () => process.exit(2));
      return new Promise(() => {});
    case 'truncated-hang':
      process.stdout.write(frame.subarray(0, 100));
      return new Promise(() => {});
    case 'wrong-shape':
      send({ id, kind: 'result' }, { ...result, h: { data: new Float64Array(batch * dim * (length + 1)), shape: [batch, dim, length + 1] } });
      return;
    case 'missing-output':
      send({ id, kind: 'result' }, { h: result.h });
      return;
    case 'proto-output': {
      // The header written by hand: an object's '__proto__' key would not reach JSON.
      const [h, last] = [Buffer.from(result.h.data.buffer), Buffer.from(result.lastState.data.buffer)];
      const entries = [
        ['h', { dtype: 'F64', shape: result.h.shape, data_offsets: [0, h.length] }],
        ['lastState', { dtype: 'F64', shape: result.lastState.shape, data_offsets: [h.length, h.length + last.length] }],
        ['__proto__', { dtype: 'F64', shape: [3], data_offsets: [h.length + last.length, h.length + last.length + 24] }],
      ];
      const header = Buffer.from(`{"__metadata__":${JSON.stringify({ protocol: '1', id, kind: 'result' })},${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`);
      const length = Buffer.alloc(8);
      length.writeBigUInt64LE(BigInt(header.length));
      process.stdout.write(encodeFrame(Buffer.concat([length, header, h, last, Buffer.alloc(24)])));
      return;
    }
    case 'wrong-dtype':
      process.stdout.write(encodeFrame(int32Answer(id, [batch, dim, length])));
      return;
    case 'wrong-id':
      send({ id: String(Number(id) + 100), kind: 'result' }, result);
      return;
    case 'error-answer':
      send({ id, kind: 'error', message: 'CUDA error: out of memory (simulated)' });
      return;
    case 'decline-answer':
      send({ id, kind: 'decline', reason: 'lengths that are not a multiple of 4' });
      return;
    default:
      process.stdout.write(frame);
  }
}

/**
 * A vjp answer that echoes the request (gradient.a = cotangent.h, gradient.b = a, gradient.h0 =
 * cotangent.lastState: shapes right, values meaningless) so a test sees what arrived, or in the
 * vjp-* modes an answer broken one way on a problem of length 3.
 */
function vjpAnswer(id, tensors) {
  const echo = { 'gradient.a': tensors['cotangent.h'], 'gradient.b': tensors.a };
  if (tensors.h0 !== undefined) echo['gradient.h0'] = tensors['cotangent.lastState'];
  if (tensors.a.shape[2] !== TRIGGER_LENGTH || mode === 'vjp-echo') return send({ id, kind: 'result' }, echo);
  const [batch, dim, length] = tensors.a.shape;
  switch (mode) {
    case 'vjp-crash':
      process.stderr.write('Segmentation fault in backward (simulated)\n');
      process.exit(139);
    case 'vjp-missing-gradient': {
      const { 'gradient.h0': _dropped, ...rest } = echo;
      return send({ id, kind: 'result' }, rest);
    }
    case 'vjp-wrong-shape':
      return send({ id, kind: 'result' }, { ...echo, 'gradient.b': { data: new Float64Array(batch * dim * length), shape: [batch, length, dim] } });
    case 'vjp-unprefixed':
      return send({ id, kind: 'result' }, { a: echo['gradient.a'], b: echo['gradient.b'] });
    case 'vjp-decline':
      return send({ id, kind: 'decline', reason: 'no backward pass for length 3' });
    default:
      throw new Error(`unknown vjp mode ${mode}`);
  }
}

const STDERR_FLOOD_BYTES = 4 * 1024 * 1024;

for await (const payload of readFrames(process.stdin)) {
  const { metadata, tensors } = decodeSafetensors(payload);
  const { id, kind } = metadata;
  if (kind === 'shutdown') {
    if (mode === 'ignore-sigterm') continue;
    process.exit(0);
  }
  if (kind === 'handshake') {
    if (mode === 'no-handshake') continue;
    send({ ...handshake, id });
    continue;
  }
  if (kind === 'step') {
    const state = new Float64Array(tensors.state.data.length);
    for (let i = 0; i < state.length; i++) state[i] = tensors.a.data[i] * tensors.state.data[i] + tensors.b.data[i];
    send({ id, kind: 'result' }, { y: { data: state, shape: tensors.state.shape }, state: { data: state.slice(), shape: tensors.state.shape } });
    continue;
  }
  if (kind === 'vjp') {
    vjpAnswer(id, tensors);
    continue;
  }
  if (mode === 'stderr-flood') {
    // Synchronous writes to a pipe block when nobody reads it: this only finishes if the runner drains stderr.
    const line = Buffer.from(`${'noise '.repeat(20)}\n`);
    for (let written = 0; written < STDERR_FLOOD_BYTES; written += line.length) process.stderr.write(line);
  }
  if (tensors.a.shape[2] === TRIGGER_LENGTH || mode === 'always-crash' || mode === 'exit-early') {
    await misbehave(id, tensors);
  } else {
    send({ id, kind: 'result' }, linearRecurrence(tensors));
  }
}
// ignore-sigterm also ignores the end of its input: only SIGKILL ends it.
if (mode === 'ignore-sigterm') await new Promise(() => {});
