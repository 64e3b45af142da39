/**
 * The scan-conformance command line (`npm run conformance`, the `scan-conformance` bin):
 * `check` runs implementations through fixtures and properties and writes report.json, report.md
 * and report.html; `list` shows what would run; `fixtures generate|check` writes or checks
 * fixtures (scripts/fixtures.ts). Run with --help for the flags.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { toolVersion } from '../suite/tool-version.ts';
import { EXIT, HELP, UsageError, parseCliArguments, type CliStreams } from './cli-arguments.ts';

export { EXIT, type CliStreams };

/** Runs the CLI on argv (without node and script) and returns the exit code. */
export async function main(argv: readonly string[], streams: CliStreams = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  try {
    const args = parseCliArguments(argv);
    switch (args.command) {
      case 'help':
        streams.stdout.write(HELP);
        return EXIT.ok;
      case 'version':
        streams.stdout.write(`${toolVersion()}\n`);
        return EXIT.ok;
      case 'list':
        return await (await import('./cli-commands.ts')).list(args, streams);
      case 'check':
        return await (await import('./cli-commands.ts')).check(args, streams);
      case 'merge':
        return await (await import('./cli-commands.ts')).merge(args, streams);
      case 'browser':
        return await (await import('./browser-command.ts')).browser(args, streams);
      case 'sweep':
        return await (await import('./sweep.ts')).sweep(args.argv, streams.stdout);
      case 'fixtures':
        return await (await import('./fixtures.ts')).runFixturesCommand(args.argv, {
          stdout: (text) => void streams.stdout.write(text),
          stderr: (text) => void streams.stderr.write(text),
        });
    }
  } catch (error) {
    if (error instanceof UsageError) {
      const help = argv[0] === 'sweep' ? 'scan-conformance sweep --help' : 'scan-conformance --help';
      streams.stderr.write(`scan-conformance: ${error.message}\nRun '${help}' for the flags.\n`);
      return EXIT.usage;
    }
    throw error;
  }
}

/** Runs main and exits with its code (the process may hold handles a crashed implementation left open). */
export async function runAsProgram(argv: readonly string[] = process.argv.slice(2)): Promise<never> {
  let code: number;
  try {
    code = await main(argv);
  } catch (error) {
    process.stderr.write(`scan-conformance: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    code = EXIT.unexpectedFailure;
  }
  // Let stdout/stderr drain before exiting.
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit(code);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) await runAsProgram();
