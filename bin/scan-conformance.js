#!/usr/bin/env node
// The scan-conformance command. It registers tsx's loader first, so that a user's implementation
// module may be TypeScript (`npx scan-conformance check --impl ./my-impl.ts`), then runs the
// compiled CLI (dist/, in an installed package) or, in a source checkout, scripts/cli.ts.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { register } from 'tsx/esm/api';

register();
const compiled = fileURLToPath(new URL('../dist/scripts/cli.js', import.meta.url));
const source = fileURLToPath(new URL('../scripts/cli.ts', import.meta.url));
const cli = existsSync(source) ? source : compiled;
const { runAsProgram } = await import(pathToFileURL(cli).href);
await runAsProgram(process.argv.slice(2));
