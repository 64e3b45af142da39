/**
 * The example testees of examples/testees over the process protocol, exactly as
 * `scan-conformance check --command "..."` plugs them in, as npm test's smoke (SMOKE_CAPS); CI's
 * own Python testee run (`.ci/run`: `npm run conformance -- --command …`) runs the whole suite and
 * replays every fixture in float64.
 */
import { execFileSync } from 'node:child_process';
import { describe, it } from 'vitest';
import { processImplementation } from '../../protocol/index.ts';
import { describeConformance } from '../../suite/vitest.ts';
import { quickOptions } from './describe-folder.ts';

const QUICK = quickOptions();

function pythonWithNumpy(): string | undefined {
  try {
    execFileSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'python3 with numpy was not found';
  }
}

describeConformance(await processImplementation({ command: 'node examples/testees/node/testee.mjs' }), QUICK);

const missingPython = pythonWithNumpy();
if (missingPython === undefined) {
  describeConformance(await processImplementation({ command: 'python3 examples/testees/python/numpy_testee.py --float32' }), QUICK);
} else {
  const required = process.env.REQUIRE_PYTHON === '1';
  describe('python testee', () => {
    it.skipIf(!required)(`needs python3 with numpy (skipped: ${missingPython}; REQUIRE_PYTHON=1 makes this a failure)`, () => {
      throw new Error(missingPython);
    });
  });
}
