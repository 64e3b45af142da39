// The testee side of the scan-conformance protocol, version 1 (spec/protocol.md), in plain Node
// with no dependencies: frames (4-byte little-endian length + safetensors payload), a safetensors
// subset (F32 and F64 tensors, string metadata) and the request loop. Copy it next to your own
// testee; testee.mjs shows how to use it.

export const PROTOCOL_VERSION = '1';

const DTYPES = {
  F32: { array: Float32Array, bytes: 4 },
  F64: { array: Float64Array, bytes: 8 },
};

/** Thrown by a handler to decline a request (the case is reported as declined, not failed). */
export class Decline extends Error {}

/** Encodes { metadata: {string: string}, tensors: {name: {data: Float32Array|Float64Array, shape}} } as safetensors. */
export function encodeSafetensors({ metadata, tensors }) {
  const header = { __metadata__: metadata };
  let offset = 0;
  const parts = [];
  for (const [name, { data, shape }] of Object.entries(tensors)) {
    const dtype = data instanceof Float64Array ? 'F64' : data instanceof Float32Array ? 'F32' : undefined;
    if (dtype === undefined) throw new TypeError(`tensor ${name}: expected a Float32Array or Float64Array`);
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    header[name] = { dtype, shape: [...shape], data_offsets: [offset, offset + bytes.length] };
    parts.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data starts 8-byte aligned, as the safetensors library does.
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let at = 8 + headerBytes.length;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Decodes a safetensors payload into { metadata, tensors } (F32 and F64 only). */
export function decodeSafetensors(payload) {
  const headerLength = Number(payload.readBigUInt64LE(0));
  const header = JSON.parse(payload.subarray(8, 8 + headerLength).toString('utf8'));
  const dataStart = 8 + headerLength;
  const metadata = header.__metadata__ ?? {};
  const tensors = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const dtype = DTYPES[info.dtype];
    if (dtype === undefined) throw new Error(`tensor ${name}: dtype ${info.dtype} not supported (F32, F64)`);
    const [begin, end] = info.data_offsets;
    // A fresh Uint8Array (not a Buffer, which may share a pool) owns an aligned ArrayBuffer of its own.
    const bytes = new Uint8Array(end - begin);
    bytes.set(payload.subarray(dataStart + begin, dataStart + end));
    tensors[name] = { data: new dtype.array(bytes.buffer), shape: info.shape };
  }
  return { metadata, tensors };
}

/** Prefixes a payload with its 4-byte little-endian length. */
export function encodeFrame(payload) {
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32LE(payload.length, 0);
  return Buffer.concat([prefix, payload]);
}

/** Yields frame payloads read from a stream until it ends. */
export async function* readFrames(stream) {
  // Chunks are kept in a list and joined once a frame is complete: joining on every chunk would
  // copy a large frame once per 64 KiB.
  let chunks = [];
  let buffered = 0;
  let expected;
  for await (const chunk of stream) {
    chunks.push(chunk);
    buffered += chunk.length;
    for (;;) {
      if (expected === undefined) {
        if (buffered < 4) break;
        if (chunks.length > 1) chunks = [Buffer.concat(chunks)];
        expected = chunks[0].readUInt32LE(0);
        chunks[0] = chunks[0].subarray(4);
        buffered -= 4;
      }
      if (buffered < expected) break;
      const all = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      const payload = all.subarray(0, expected);
      chunks = [all.subarray(expected)];
      buffered -= expected;
      expected = undefined;
      yield payload;
    }
  }
}

/** Writes one message as a frame on stdout. */
export function send(metadata, tensors = {}) {
  process.stdout.write(encodeFrame(encodeSafetensors({ metadata: { protocol: PROTOCOL_VERSION, ...metadata }, tensors })));
}

/**
 * Answers requests until shutdown or end of input. `description` holds the handshake fields
 * (name, precision, families as an object, …); `handlers.run(family, options, inputs, settings)` and
 * `handlers.step(family, options, inputs)` return the output tensors, throw Decline to decline, or
 * throw anything else to answer with an error. `settings` is the run request's settings object,
 * `{ chunkSize }` for a family that declared `chunkSizes` when the runner asks for one, else `{}`.
 */
export async function serve(description, handlers) {
  for await (const payload of readFrames(process.stdin)) {
    const { metadata, tensors } = decodeSafetensors(payload);
    const id = metadata.id;
    if (metadata.kind === 'shutdown') return;
    if (metadata.kind === 'handshake') {
      const fields = {};
      for (const [key, value] of Object.entries(description)) fields[key] = typeof value === 'string' ? value : JSON.stringify(value);
      send({ ...fields, id, kind: 'handshake' });
      continue;
    }
    try {
      const handler = metadata.kind === 'step' ? handlers.step : metadata.kind === 'run' ? handlers.run : undefined;
      if (handler === undefined) throw new Error(`unknown request kind ${metadata.kind}`);
      const settings = metadata.settings === undefined ? {} : JSON.parse(metadata.settings);
      const outputs = handler(metadata.family, JSON.parse(metadata.options), tensors, settings);
      send({ id, kind: 'result' }, outputs);
    } catch (error) {
      if (error instanceof Decline) send({ id, kind: 'decline', reason: error.message });
      else send({ id, kind: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    }
  }
}
