/**
 * Declares the conformance suite for every implementation a folder under implementations/ registers,
 * as a smoke test in `npm test`: each shipped implementation goes through describeConformance under
 * vitest (setup, the three kinds of cell, dispose, in vitest's shared worker) on a few small cases.
 * The quick verdict itself is `npm run conformance`, the main job, which CI runs after `npm test`
 * with every property and every fixture; deep runs (SCAN_CONFORMANCE_DEEP=1) lift every cap here too.
 */
import path from 'node:path';
import { describeConformance, type DescribeConformanceOptions } from '../../suite/vitest.ts';
import { IMPLEMENTATIONS_DIR, loadImplementationModule } from '../../suite/registry.ts';
import { fixtureSourceFromDirectory } from '../../suite/fixture-source.ts';
import type { PropertyName } from '../../suite/results.ts';
import { deepFromEnvironment } from '../../suite/settings.ts';

/** Caps of a quick run (deep runs have none). */
export interface QuickCaps {
  /** Longest fixture replayed. */
  readonly fixtureMaxLength: number;
  /** Longest generated L. */
  readonly maxLength: number;
  /** Generated cases per cell. */
  readonly runs: number;
  /** The properties declared; the others are left to `npm run conformance`. */
  readonly properties: readonly PropertyName[];
}

/**
 * npm test's smoke of a shipped implementation: one cell of each kind (fixture replay up to L = 8,
 * every family's edge lengths; the comparison with the reference and the gradient comparison on 2
 * generated cases at L ≤ 64, a chunk of 64 and no more), for every family it implements.
 */
export const SMOKE_CAPS: QuickCaps = { runs: 2, maxLength: 64, fixtureMaxLength: 8, properties: ['fixtures', 'conformance', 'vjp'] };

/** describeConformance's options for a quick run under `caps` (a deep run ignores them). */
export function quickOptions(caps: QuickCaps = SMOKE_CAPS): DescribeConformanceOptions {
  if (deepFromEnvironment()) return { fixtures: fixtureSourceFromDirectory(undefined, {}) };
  const { fixtureMaxLength, maxLength, runs, properties } = caps;
  return { fixtures: fixtureSourceFromDirectory(undefined, { maxLength: fixtureMaxLength }), maxLength, runs, properties };
}

/**
 * Loads implementations/<folder>/index.ts and declares describeConformance, fixtures included, for
 * each implementation in it, under `caps` in quick runs.
 */
export async function describeFolder(folder: string, caps: QuickCaps = SMOKE_CAPS): Promise<void> {
  const implementations = await loadImplementationModule(path.join(IMPLEMENTATIONS_DIR, folder, 'index.ts'));
  if (implementations.length === 0) throw new Error(`implementations/${folder} registers no implementation`);
  for (const implementation of implementations) describeConformance(implementation, quickOptions(caps));
}
