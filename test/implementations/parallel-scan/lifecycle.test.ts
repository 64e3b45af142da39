/**
 * The worker pool's lifecycle: a process that sets up the threaded implementations, runs them and
 * disposes them (or forgets to) must exit on its own — no leaked thread keeps it alive.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const CHILD = fileURLToPath(new URL('./fixtures/lifecycle-child.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const EXIT_WITHIN_MS = 30_000;

/** Runs the child; resolves with its exit code and output, or 'timeout' if it does not exit. */
function runChild(args: string[]): Promise<{ code: number | null | 'timeout'; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', TSX, CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve({ code: 'timeout', stdout, stderr });
    }, EXIT_WITHIN_MS);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('worker pool lifecycle', () => {
  it.each([
    ['with dispose', ['--dispose']],
    ['without dispose (idle workers are unref’d)', []],
  ])('the process exits by itself after setup and a threaded run, %s', async (_label, args) => {
    const { code, stdout, stderr } = await runChild(args);
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout) as Record<string, { last: number; environment: Record<string, string> }>;
    expect(Object.keys(report).sort()).toEqual(['parallel-scan/chunked-threads-f32', 'parallel-scan/chunked-threads-f64']);
    for (const { last, environment } of Object.values(report)) {
      expect(last).toBeCloseTo(2, 6); // h = 0.5·h + 1 converges to 2
      expect(Number(environment.workers)).toBeGreaterThanOrEqual(1);
    }
  });
});
