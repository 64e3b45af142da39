/**
 * Framing of the testee protocol (spec/protocol.md#frames): each message is a 4-byte little-endian
 * unsigned length followed by that many bytes of safetensors payload.
 */

/** Bytes of the length prefix. */
export const FRAME_PREFIX_BYTES = 4;

/** Largest length a 4-byte prefix can state. */
export const MAX_ENCODABLE_FRAME_BYTES = 0xffff_ffff;

/** Default upper bound on a frame's payload, so a garbage prefix cannot make the runner allocate gigabytes. */
export const DEFAULT_MAX_FRAME_BYTES = 1024 ** 3;

/** Thrown when a byte stream does not hold well-formed frames (oversized length, a frame cut short). */
export class FrameError extends Error {
  override readonly name = 'FrameError';
}

/** Prefixes a payload with its 4-byte little-endian length. */
export function encodeFrame(payload: Uint8Array, maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES): Buffer {
  const limit = Math.min(maxFrameBytes, MAX_ENCODABLE_FRAME_BYTES);
  if (payload.length > limit) {
    throw new FrameError(`frame: expected a payload of at most ${limit} bytes, got ${payload.length}`);
  }
  const frame = Buffer.allocUnsafe(FRAME_PREFIX_BYTES + payload.length);
  frame.writeUInt32LE(payload.length, 0);
  frame.set(payload, FRAME_PREFIX_BYTES);
  return frame;
}

/**
 * Cuts a byte stream that arrives in arbitrary chunks into frame payloads. Chunks are kept as they
 * come and joined once a frame is complete, so memory follows the bytes actually received, never
 * the length a prefix claims.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private expected: number | undefined;

  /** A decoder that rejects frames whose stated payload exceeds `maxFrameBytes`. */
  constructor(readonly maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES) {
    if (!Number.isSafeInteger(maxFrameBytes) || maxFrameBytes < 0) {
      throw new RangeError(`maxFrameBytes: expected a non-negative integer, got ${maxFrameBytes}`);
    }
  }

  /** Feeds bytes; returns the payloads of every frame completed by them. Throws FrameError on an oversized length. */
  push(chunk: Uint8Array): Buffer[] {
    if (chunk.length > 0) {
      this.chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
      this.buffered += chunk.length;
    }
    const payloads: Buffer[] = [];
    for (;;) {
      if (this.expected === undefined) {
        if (this.buffered < FRAME_PREFIX_BYTES) break;
        const length = this.take(FRAME_PREFIX_BYTES).readUInt32LE(0);
        if (length > this.maxFrameBytes) {
          throw new FrameError(
            `frame: expected a length prefix of at most ${this.maxFrameBytes} bytes (maxFrameBytes), got ${length}` +
              ` (prefix bytes ${hex(length)}; is the testee printing to stdout? Only frames may go there, logs belong on stderr)`,
          );
        }
        this.expected = length;
      }
      if (this.buffered < this.expected) break;
      payloads.push(this.take(this.expected));
      this.expected = undefined;
    }
    return payloads;
  }

  /** Describes a frame received only in part ('12 of 400 payload bytes'), or undefined between frames. */
  partial(): string | undefined {
    if (this.expected !== undefined) return `${this.buffered} of ${this.expected} payload bytes of a frame`;
    if (this.buffered > 0) return `${this.buffered} of the ${FRAME_PREFIX_BYTES} bytes of a length prefix`;
    return undefined;
  }

  /** Forgets everything buffered (after the stream it came from is abandoned). */
  reset(): void {
    this.chunks = [];
    this.buffered = 0;
    this.expected = undefined;
  }

  private take(count: number): Buffer {
    const joined = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.buffered);
    // A view, not a copy: payloads are decoded (and their tensors copied out) at once, then dropped.
    const taken = joined.subarray(0, count);
    const rest = joined.subarray(count);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return taken;
  }
}

function hex(length: number): string {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32LE(length, 0);
  const ascii = [...bytes].every((b) => b >= 0x20 && b < 0x7f) ? ` = ASCII ${JSON.stringify(bytes.toString('latin1'))}` : '';
  return `${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ')}${ascii}`;
}
