#!/usr/bin/env node
// The scan-conformance command: the compiled CLI (dist/, in an installed package) or, in a source
// checkout, scripts/cli.ts under tsx's loader. The compiled CLI registers tsx's loader itself when a
// user's implementation module is loaded (`--impl ./my-impl.ts`), and only then: every module loaded
// through the loader's hooks costs time, a large part of the command's start.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const compiled = fileURLToPath(new URL('../dist/scripts/cli.js', import.meta.url));
const source = fileURLToPath(new URL('../scripts/cli.ts', import.meta.url));
const cli = existsSync(source) ? source : compiled;
if (cli === source) (await import('tsx/esm/api')).register();
const { runAsProgram } = await import(pathToFileURL(cli).href);
await runAsProgram(process.argv.slice(2));
