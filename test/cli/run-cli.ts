/** Runs the CLI's main in-process from the repository root, for the CLI tests. */
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { main } from '../../scripts/cli.ts';

/** The repository root, where the CLI runs as `npm run conformance` does. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** What one CLI run gave. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs main in-process from the repository root and collects what it printed. */
export async function runCli(argv: string[]): Promise<CliRun> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const chunks = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  stdout.on('data', (c: Buffer) => chunks.stdout.push(c));
  stderr.on('data', (c: Buffer) => chunks.stderr.push(c));
  const cwd = process.cwd();
  process.chdir(ROOT);
  try {
    const code = await main(argv, { stdout, stderr });
    return { code, stdout: Buffer.concat(chunks.stdout).toString(), stderr: Buffer.concat(chunks.stderr).toString() };
  } finally {
    process.chdir(cwd);
  }
}
