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

export { ImplementationModuleError, assertUniqueNames, implementationsOfModule };

/** The implementations/ folder of this package. */
export const IMPLEMENTATIONS_DIR = fileURLToPath(new URL('../implementations/', import.meta.url));

/** The folder of this package's own modules (the source tree, or dist/ when compiled). */
const PACKAGE_DIR = fileURLToPath(new URL('../', import.meta.url));

let typeScriptLoaderRegistered = false;

/**
 * Lets a user's module be TypeScript, or import TypeScript, before it is first imported (Node caches
 * a failed import). Only the compiled package needs it (the source runs under tsx or vitest already),
 * and only for modules outside it: every module loaded through tsx's hooks costs a round trip to its
 * loader thread, a large part of the compiled CLI's start when all its own modules went through them.
 */
async function ensureTypeScriptLoader(file: string): Promise<void> {
  const within = path.relative(PACKAGE_DIR, file);
  const ours = within !== '' && !within.startsWith('..') && !path.isAbsolute(within);
  if (typeScriptLoaderRegistered || ours || !import.meta.url.endsWith('.js')) return;
  (await import('tsx/esm/api')).register();
  typeScriptLoaderRegistered = true;
}

/** Loads the implementations of a module file (TypeScript or JavaScript) given by path. */
export async function loadImplementationModule(modulePath: string): Promise<ScanImplementation[]> {
  const absolute = path.resolve(modulePath);
  const info = await stat(absolute).catch(() => undefined);
  if (!info?.isFile()) throw new ImplementationModuleError(`--impl ${modulePath}: expected a module file, found none at ${absolute}`);
  await ensureTypeScriptLoader(absolute);
  const namespace = (await import(pathToFileURL(absolute).href)) as Record<string, unknown>;
  return implementationsOfModule(namespace, modulePath);
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
