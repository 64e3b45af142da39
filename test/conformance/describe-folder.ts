/** Declares the conformance suite for every implementation a folder under implementations/ registers. */
import path from 'node:path';
import { describeConformance } from '../../suite/vitest.ts';
import { IMPLEMENTATIONS_DIR, loadImplementationModule } from '../../suite/registry.ts';
import { fixtureSourceFromDirectory } from '../../suite/fixture-source.ts';
import { deepFromEnvironment } from '../../suite/settings.ts';

/** Quick runs replay the committed fixtures up to this length; deep runs (and `npm run conformance`) replay all of them. */
const QUICK_FIXTURE_LENGTH = 4096;

/**
 * Loads implementations/<folder>/index.ts and declares describeConformance, fixtures included, for
 * each implementation in it; quick runs replay fixtures up to `quickFixtureLength`.
 */
export async function describeFolder(folder: string, quickFixtureLength = QUICK_FIXTURE_LENGTH): Promise<void> {
  const implementations = await loadImplementationModule(path.join(IMPLEMENTATIONS_DIR, folder, 'index.ts'));
  if (implementations.length === 0) throw new Error(`implementations/${folder} registers no implementation`);
  const fixtures = fixtureSourceFromDirectory(undefined, deepFromEnvironment() ? {} : { maxLength: quickFixtureLength });
  for (const implementation of implementations) describeConformance(implementation, { fixtures });
}
