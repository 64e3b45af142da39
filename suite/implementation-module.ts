/**
 * What a loaded implementation module exports, on any platform (suite/registry.ts loads modules
 * from files on Node; the browser page imports them by URL): the default export (one or an array)
 * or the named exports `implementation` / `implementations`, each validated.
 */
import type { ScanImplementation } from '../spec/implementation.ts';
import { validateImplementation } from './implementation-check.ts';

/** Thrown when a module does not export implementations in a shape the registry understands. */
export class ImplementationModuleError extends Error {
  override readonly name = 'ImplementationModuleError';
}

/**
 * Reads the implementations a loaded module exports, each validated (validateImplementation:
 * an InvalidImplementationError lists every problem), or says what it found instead.
 */
export function implementationsOfModule(moduleNamespace: Record<string, unknown>, where: string): ScanImplementation[] {
  const candidates = [moduleNamespace.default, moduleNamespace.implementations, moduleNamespace.implementation].filter(
    (c) => c !== undefined,
  );
  if (candidates.length === 0) {
    throw new ImplementationModuleError(
      `${where}: expected a default export (a ScanImplementation or an array of them) or a named export 'implementation' or 'implementations', got exports [${Object.keys(moduleNamespace).join(', ')}]`,
    );
  }
  const found: ScanImplementation[] = [];
  for (const candidate of candidates) {
    for (const item of Array.isArray(candidate) ? candidate : [candidate]) {
      if (found.includes(item as ScanImplementation)) continue;
      found.push(validateImplementation(item, where));
    }
  }
  return found;
}

/** Throws when two implementations share a name (reports and expected failures key on it). */
export function assertUniqueNames(implementations: readonly ScanImplementation[]): void {
  const seen = new Set<string>();
  for (const { name } of implementations) {
    if (seen.has(name)) throw new ImplementationModuleError(`implementation name '${name}' is registered twice; names must be unique`);
    seen.add(name);
  }
}
