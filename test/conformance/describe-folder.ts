/** Declares the conformance suite for every implementation a folder under implementations/ registers. */
import path from 'node:path';
import { describeConformance } from '../../suite/vitest.ts';
import { IMPLEMENTATIONS_DIR, loadImplementationModule } from '../../suite/registry.ts';
import type { FixtureSource } from '../../suite/fixture-replay.ts';

/** Loads implementations/<folder>/index.ts and declares describeConformance for each implementation in it. */
export async function describeFolder(folder: string, fixtures?: FixtureSource): Promise<void> {
  const implementations = await loadImplementationModule(path.join(IMPLEMENTATIONS_DIR, folder, 'index.ts'));
  if (implementations.length === 0) throw new Error(`implementations/${folder} registers no implementation`);
  for (const implementation of implementations) describeConformance(implementation, fixtures === undefined ? {} : { fixtures });
}
