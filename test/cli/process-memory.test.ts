/** scripts/process-memory.ts: a process's peak memory from /proc, which the sweep records for each run. */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatMemory, peakResidentBytes, watchPeakMemory } from '../../scripts/process-memory.ts';

const HAS_PROC = existsSync('/proc/self/status');

describe('peak memory of a process', () => {
  it.skipIf(!HAS_PROC)(`reads VmHWM: this process's peak is at least its resident set now${HAS_PROC ? '' : ' (skipped: no /proc here)'}`, async () => {
    const now = process.memoryUsage().rss;
    const peak = await peakResidentBytes(process.pid);
    expect(peak).toBeGreaterThanOrEqual(now);
    // Not some other number of the status file: the same order as the resident set (no test process holds 4 GB).
    expect(peak).toBeLessThan(now + 4e9);
  });

  it('says nothing, rather than 0, for a process that is not there', async () => {
    // Linux's largest possible pid is 2^22; no process has a pid beyond it.
    expect(await peakResidentBytes(2 ** 22 + 1)).toBeUndefined();
  });

  it.skipIf(!HAS_PROC)(`watches a child that holds 200 MB for a few seconds and keeps its peak${HAS_PROC ? '' : ' (skipped: no /proc here)'}`, async () => {
    // A run shorter than the sweep's 5 s interval: the first polls come sooner (an installed
    // package's short sweep run had been measured at the 4 MB of a process just started). Polls
    // come at 0, 0.1, 0.3, 0.7, 1.5, 3.1 and 6.3 s, so a 3.5 s hold is seen however late a loaded
    // machine starts the child (up to 6 s).
    const child = spawn(process.execPath, ['-e', "const b = Buffer.alloc(200e6, 1); setTimeout(() => b.length, 3500)"], { stdio: 'ignore' });
    const watch = watchPeakMemory(child.pid!);
    await new Promise((resolve) => child.on('close', resolve));
    await watch.stop();
    expect(watch.peak()).toBeGreaterThan(200e6);
  });

  it('formats bytes as GB with a decimal, or whole MB below a GB', () => {
    expect(formatMemory(18.6e9)).toBe('18.6 GB');
    expect(formatMemory(999e6)).toBe('999 MB');
    expect(formatMemory(1e9)).toBe('1.0 GB');
  });
});
