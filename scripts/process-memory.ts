/**
 * The peak memory of another process, as Linux reports it: VmHWM in /proc/<pid>/status, the
 * high-water mark of its resident set (shared memory mapped by it included, as a GPU driver's
 * buffers on lavapipe are). Node has no call for a child's peak while it runs, and a sweep's
 * runs are long: polling a high-water mark misses only the growth of the last interval.
 */
import { readFile } from 'node:fs/promises';

/** The peak resident set of process `pid` so far, in bytes; undefined where /proc does not say (not Linux, or the process has ended). */
export async function peakResidentBytes(pid: number): Promise<number | undefined> {
  let status: string;
  try {
    status = await readFile(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kibibytes = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status)?.[1];
  return kibibytes === undefined ? undefined : Number(kibibytes) * 1024;
}

/**
 * Polls peakResidentBytes of `pid` until stopped, first after `firstMs` and then at doubling
 * intervals up to `everyMs` (a run of seconds is sampled often, one of an hour every few seconds);
 * `peak()` is the largest value seen, undefined when none was readable. A lower bound: what the
 * process grows by after the last poll is not seen (the high-water mark is gone with the process).
 */
export function watchPeakMemory(pid: number, everyMs = 5_000, firstMs = 100): { peak(): number | undefined; stop(): Promise<void> } {
  let peak: number | undefined;
  let pending: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const poll = (wait: number) => {
    pending = peakResidentBytes(pid).then((bytes) => {
      if (bytes !== undefined) peak = Math.max(peak ?? 0, bytes);
      if (stopped) return;
      timer = setTimeout(() => poll(Math.min(2 * wait, everyMs)), wait);
      timer.unref();
    });
  };
  poll(Math.min(firstMs, everyMs));
  return {
    peak: () => peak,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await pending;
    },
  };
}

/** Bytes as GB with one decimal (or MB below one GB), for summaries. */
export function formatMemory(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${Math.round(bytes / 1e6)} MB`;
}
