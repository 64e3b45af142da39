/**
 * Declares the conformance suite for every implementation a folder under implementations/ registers,
 * smaller in `npm test` than in `npm run conformance`: the tests check that each shipped
 * implementation goes through the whole suite under vitest, while `npm run conformance` (the main
 * job, which CI runs after `npm test`) is the quick verdict itself, with 8 cases per property and
 * every fixture; deep runs lift every cap.
 */
import path from 'node:path';
import { describeConformance, type DescribeConformanceOptions } from '../../suite/vitest.ts';
import { IMPLEMENTATIONS_DIR, loadImplementationModule } from '../../suite/registry.ts';
import { fixtureSourceFromDirectory } from '../../suite/fixture-source.ts';
import { PROPERTY_NAMES, type PropertyName } from '../../suite/results.ts';
import { MODES, deepFromEnvironment } from '../../suite/settings.ts';

/** Caps of a quick run for a slow folder (deep runs and `npm run conformance` have none). */
export interface QuickCaps {
  /** Longest fixture replayed (default: the quick mode's, suite/settings.ts). */
  readonly fixtureMaxLength?: number;
  /** Longest generated L (default: the quick mode's). */
  readonly maxLength?: number;
  /** Generated cases per cell (default: the quick mode's). */
  readonly runs?: number;
  /** Properties left to `npm run conformance` (CI) in quick runs, each file saying why. */
  readonly leaveOut?: readonly PropertyName[];
}

/**
 * The shipped implementations' caps in `npm test`: 2 generated cases per property at L ≤ 300 and
 * the fixtures up to L = 257, past the chunks of 64 of parallel-scan, ssd-chunked, mamba3-chunked
 * and tfjs (webgpu's tiles of 1024 take longer fixtures: test/conformance/webgpu.test.ts).
 */
export const SHIPPED_CAPS: QuickCaps = { runs: 2, maxLength: 300, fixtureMaxLength: 257 };

/** describeConformance's options for a quick run under `caps` (a deep run ignores them). */
export function quickOptions(caps: QuickCaps = {}): DescribeConformanceOptions {
  const deep = deepFromEnvironment();
  const fixtures = fixtureSourceFromDirectory(undefined, deep ? {} : { maxLength: caps.fixtureMaxLength ?? MODES.quick.fixtureMaxLength });
  const lengths = deep || caps.maxLength === undefined ? {} : { maxLength: caps.maxLength };
  const runs = deep || caps.runs === undefined ? {} : { runs: caps.runs };
  const properties = deep || caps.leaveOut === undefined ? {} : { properties: PROPERTY_NAMES.filter((p) => !caps.leaveOut!.includes(p)) };
  return { fixtures, ...lengths, ...runs, ...properties };
}

/**
 * Loads implementations/<folder>/index.ts and declares describeConformance, fixtures included, for
 * each implementation in it; quick runs keep to `caps` (or to caps(name), per implementation),
 * deep runs (and `npm run conformance`) do not.
 */
export async function describeFolder(folder: string, caps: QuickCaps | ((name: string) => QuickCaps) = SHIPPED_CAPS): Promise<void> {
  const implementations = await loadImplementationModule(path.join(IMPLEMENTATIONS_DIR, folder, 'index.ts'));
  if (implementations.length === 0) throw new Error(`implementations/${folder} registers no implementation`);
  for (const implementation of implementations) describeConformance(implementation, quickOptions(typeof caps === 'function' ? caps(implementation.name) : caps));
}
