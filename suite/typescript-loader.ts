/**
 * TypeScript for a user's implementation module under the compiled package (the source tree runs
 * under tsx or vitest, which load TypeScript already).
 */
import { register } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder of this package's own modules (the source tree, or dist/ when compiled). */
const PACKAGE_DIR = fileURLToPath(new URL('../', import.meta.url));
const COMPILED = import.meta.url.endsWith('.js');

let registered = false;

/**
 * Registers tsx's loader before the first user module outside this package is imported (Node caches a
 * failed import), with ./typescript-as-module-hooks on top, so that a TypeScript module written as an
 * ES module loads as one in a CommonJS project too. Only then, not at start: every module loaded
 * through the hooks costs a round trip to their thread, a large part of the CLI's start when all of
 * its own modules went through them.
 */
export async function ensureTypeScriptLoader(file: string): Promise<void> {
  const within = path.relative(PACKAGE_DIR, file);
  const ours = within !== '' && !within.startsWith('..') && !path.isAbsolute(within);
  if (registered || ours || !COMPILED) return;
  (await import('tsx/esm/api')).register();
  register(new URL('./typescript-as-module-hooks.js', import.meta.url));
  registered = true;
}
