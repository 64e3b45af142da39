/** Declares the conformance suite for every implementation a folder under implementations/ registers. */
import path from 'node:path';
import { describeConformance } from '../../suite/vitest.ts';
import { IMPLEMENTATIONS_DIR, loadImplementationModule } from '../../suite/registry.ts';
import { fixtureSourceFromDirectory } from '../../suite/fixture-source.ts';
import { MODES, deepFromEnvironment } from '../../suite/settings.ts';

/**
 * Loads implementations/<folder>/index.ts and declares describeConformance, fixtures included, for
 * each implementation in it; quick runs replay fixtures up to `quickFixtureLength` (default: the
 * quick mode's, suite/settings.ts), deep runs (and `npm run conformance`) all of them.
 */
export async function describeFolder(folder: string, quickFixtureLength: number = MODES.quick.fixtureMaxLength): Promise<void> {
  const implementations = await loadImplementationModule(path.join(IMPLEMENTATIONS_DIR, folder, 'index.ts'));
  if (implementations.length === 0) throw new Error(`implementations/${folder} registers no implementation`);
  const fixtures = fixtureSourceFromDirectory(undefined, deepFromEnvironment() ? {} : { maxLength: quickFixtureLength });
  for (const implementation of implementations) describeConformance(implementation, { fixtures });
}
