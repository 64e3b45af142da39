/**
 * Chunked two-level scan, the structure of mamba_ssm's CUDA kernel: (1) scan every chunk on its
 * own, (2) scan the chunk carries — the state entering each chunk, (3) fix up each chunk with it.
 * Phase 1 chains are independent across chunks, so they are interleaved (instruction-level
 * parallelism); across threads, each thread runs the three phases on its time slice and phase 2
 * continues the previous slice's carry chain (drivers.ts).
 */
import type { ScanArray } from '../arithmetic.ts';
import type { AssociativeOperator } from '../operators.ts';
import type { ScanAlgorithm } from './algorithm.ts';

/** Default chunk length, chosen by measurement (README of this folder). */
export const DEFAULT_CHUNK_SIZE = 64;

/** The chunked algorithm with a given chunk length. */
export class ChunkedScan implements ScanAlgorithm {
  readonly name = 'chunked' as const;
  /** The state entering each chunk (index k) and leaving the last (index chunks), reused across calls. */
  private carries = new Float64Array(64);

  constructor(readonly chunkSize: number = DEFAULT_CHUNK_SIZE) {
    if (!Number.isInteger(chunkSize) || chunkSize < 1) {
      throw new RangeError(`ChunkedScan: chunkSize: expected a positive integer, got ${chunkSize}`);
    }
  }

  /** Chunks are scanned in place, so the buffers need only the sequence. */
  bufferLength(length: number): number {
    return length;
  }

  /** Inclusive scan of [0, length) in place (element 0 carries the initial state). */
  scan(op: AssociativeOperator, A: ScanArray, B: ScanArray, length: number): void {
    if (length === 0) return;
    this.scanChunks(op, A, B, length);
    // Chunk 0 starts with the initial state folded in: its states are final already.
    this.propagate(op, A, B, length, B[Math.min(this.chunkSize, length) - 1], 1);
    this.fixUp(op, A, B, length, 1);
  }

  /** Phase 1: every chunk of [0, length) scanned from its own start. */
  scanChunks(op: AssociativeOperator, A: ScanArray, B: ScanArray, length: number): void {
    op.foldChunks(A, B, 0, length, this.chunkSize);
  }

  /**
   * Phase 2: the carries from chunk `first` on, given the state entering it; returns the state
   * after the last position.
   */
  propagate(op: AssociativeOperator, A: ScanArray, B: ScanArray, length: number, entering: number, first: number): number {
    const size = this.chunkSize;
    const chunks = Math.ceil(length / size);
    if (chunks + 1 > this.carries.length) this.carries = new Float64Array(Math.max(chunks + 1, 2 * this.carries.length));
    const carries = this.carries;
    carries[first] = entering;
    for (let k = first; k < chunks; k++) carries[k + 1] = op.advance(A, B, Math.min((k + 1) * size, length) - 1, carries[k]);
    return carries[Math.max(chunks, first)];
  }

  /** Phase 3: chunks from `first` on take the states their carries give. */
  fixUp(op: AssociativeOperator, A: ScanArray, B: ScanArray, length: number, first: number): void {
    op.applyCarries(A, B, length, this.chunkSize, this.carries, first);
  }
}
