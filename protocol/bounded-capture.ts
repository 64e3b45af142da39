/**
 * Keeps a bounded record of a stream that may never end (a testee's stderr): the first half of the
 * budget holds how it started (the banner, the first warning), the second half the latest bytes
 * (the traceback before a crash); what falls between is counted, not stored.
 */
export class BoundedCapture {
  private readonly headLimit: number;
  private readonly tailLimit: number;
  private head: Buffer = Buffer.alloc(0);
  private tailChunks: Buffer[] = [];
  private tailBytes = 0;
  private droppedBytes = 0;

  /** A capture that stores at most `limitBytes` bytes. */
  constructor(readonly limitBytes: number) {
    if (!Number.isSafeInteger(limitBytes) || limitBytes < 0) {
      throw new RangeError(`stderrLimitBytes: expected a non-negative integer, got ${limitBytes}`);
    }
    this.headLimit = Math.floor(limitBytes / 2);
    this.tailLimit = limitBytes - this.headLimit;
  }

  /** Appends a chunk, dropping the middle once the budget is spent. */
  append(chunk: Buffer): void {
    let rest = chunk;
    if (this.head.length < this.headLimit) {
      const take = Math.min(this.headLimit - this.head.length, rest.length);
      this.head = Buffer.concat([this.head, rest.subarray(0, take)]);
      rest = rest.subarray(take);
    }
    if (rest.length === 0) return;
    // Copy: Node may reuse the chunk's memory, and a subarray would pin the whole chunk.
    this.tailChunks.push(Buffer.from(rest));
    this.tailBytes += rest.length;
    while (this.tailBytes > this.tailLimit) {
      const first = this.tailChunks[0];
      const excess = this.tailBytes - this.tailLimit;
      if (first.length <= excess) {
        this.tailChunks.shift();
        this.tailBytes -= first.length;
        this.droppedBytes += first.length;
      } else {
        this.tailChunks[0] = first.subarray(excess);
        this.tailBytes -= excess;
        this.droppedBytes += excess;
      }
    }
  }

  /** Bytes seen in total, stored or not. */
  get totalBytes(): number {
    return this.head.length + this.tailBytes + this.droppedBytes;
  }

  /** The captured text, with a marker saying how many bytes were left out in the middle. */
  text(): string {
    const tail = Buffer.concat(this.tailChunks).toString('utf8');
    const head = this.head.toString('utf8');
    if (this.droppedBytes === 0) return head + tail;
    return `${head}\n[… ${this.droppedBytes} bytes of stderr not kept (limit ${this.limitBytes} bytes) …]\n${tail}`;
  }

  /** The last `maxChars` characters of the capture, for error messages. */
  lastText(maxChars: number): string {
    const all = this.text();
    return all.length <= maxChars ? all : `…${all.slice(all.length - maxChars)}`;
  }
}
