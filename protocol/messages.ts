/**
 * Messages of the testee protocol (spec/protocol.md): string metadata plus named tensors, carried
 * as a safetensors payload inside a frame.
 */
import { decodeSafetensors, encodeSafetensors, type SafetensorsData, type SafetensorsDtype } from '../fixtures/safetensors.ts';
import { TesteeError } from './errors.ts';
import { errorMessage } from '../spec/errors.ts';

/** The protocol version this runner speaks. */
export const PROTOCOL_VERSION = '1';

/** A tensor as the protocol carries it; requests hold F32 inputs, answers whatever the testee sent. */
export interface ProtocolTensor {
  readonly data: SafetensorsData;
  readonly shape: readonly number[];
  /** The dtype as written in the payload (answers); implied by `data` when absent (requests). */
  readonly dtype?: SafetensorsDtype;
}

/** One message: metadata strings (safetensors' __metadata__) and named tensors. */
export interface ProtocolMessage {
  readonly metadata: Readonly<Record<string, string>>;
  readonly tensors: Readonly<Record<string, ProtocolTensor>>;
}

/** Encodes a message as a safetensors payload. */
export function encodeMessage(message: ProtocolMessage): Uint8Array {
  return encodeSafetensors(message.tensors, message.metadata);
}

/** Decodes a safetensors payload; throws TesteeError('protocol') naming what is malformed. */
export function decodeMessage(payload: Uint8Array, where: string): ProtocolMessage {
  try {
    // A plain Uint8Array view: Buffer#slice does not copy, so a Buffer's tensors could alias its pool.
    return decodeSafetensors(new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength));
  } catch (error) {
    throw new TesteeError('protocol', `${where}: expected a safetensors payload, got bytes that do not parse: ${errorMessage(error)}`);
  }
}

