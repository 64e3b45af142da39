/**
 * Discovers implementations: every folder under implementations/ with an index.ts (index.js
 * in the compiled package), and any user module given by path. A module exports its implementations as the default export
 * (one or an array) or as named exports `implementation` / `implementations`.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ScanImplementation } from '../spec/implementation.ts';
import { ImplementationModuleError, assertUniqueNames, implementationsOfModule } from './implementation-module.ts';
import { ensureTypeScriptLoader } from './typescript-loader.ts';

export { ImplementationModuleError, assertUniqueNames, implementationsOfModule };

/** The implementations/ folder of this package. */
export const IMPLEMENTATIONS_DIR = fileURLToPath(new URL('../implementations/', import.meta.url));

/** Loads the implementations of a module file (TypeScript or JavaScript) given by path. */
export async function loadImplementationModule(modulePath: string): Promise<ScanImplementation[]> {
  const absolute = path.resolve(modulePath);
  const info = await stat(absolute).catch(() => undefined);
  if (!info?.isFile()) throw new ImplementationModuleError(`--impl ${modulePath}: expected a module file, found none at ${absolute}`);
  await ensureTypeScriptLoader(absolute);
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(pathToFileURL(absolute).href)) as Record<string, unknown>;
  } catch (error) {
    throw withModuleFormatHint(error, absolute);
  }
  return implementationsOfModule(namespace, modulePath);
}

/** Node's messages when ES module syntax is loaded as CommonJS. */
const LOADED_AS_COMMONJS = /Cannot use import statement outside a module|Unexpected token 'export'/;

/**
 * The error of a JavaScript module with import/export in a CommonJS package, with what to do (Node
 * says it only in a separate warning); any other error as it came.
 */
export function withModuleFormatHint(error: unknown, file: string): unknown {
  if (!(error instanceof SyntaxError) || !LOADED_AS_COMMONJS.test(error.message) || !/\.c?js$/.test(file)) return error;
  // A .cjs file is CommonJS whatever its package.json says; a .js file is for want of "type": "module".
  const why = file.endsWith('.cjs') ? 'a .cjs file is always CommonJS; name it .mjs' : 'its package.json has no "type": "module"; name it .mjs, or set "type": "module"';
  return new SyntaxError(`${error.message} (${path.basename(file)} loaded as CommonJS: ${why}, or write it in TypeScript, which loads as an ES module here)`, { cause: error });
}

/**
 * The index module of every folder under `directory`, in folder order: index.ts in the source
 * tree, index.js in the compiled package (dist/), whichever exists.
 */
export async function implementationModules(directory: string = IMPLEMENTATIONS_DIR): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true });
  const modules: string[] = [];
  for (const entry of entries.filter((e) => e.isDirectory()).sort((x, y) => x.name.localeCompare(y.name))) {
    for (const file of ['index.ts', 'index.js']) {
      const index = path.join(directory, entry.name, file);
      if (!(await stat(index).catch(() => undefined))?.isFile()) continue;
      modules.push(index);
      break;
    }
  }
  return modules;
}

/** Every implementation shipped under implementations/, sorted by name; names must be unique. */
export async function discoverImplementations(directory: string = IMPLEMENTATIONS_DIR): Promise<ScanImplementation[]> {
  const all: ScanImplementation[] = [];
  for (const index of await implementationModules(directory)) all.push(...(await loadImplementationModule(index)));
  assertUniqueNames(all);
  return all.sort((x, y) => x.name.localeCompare(y.name));
}
