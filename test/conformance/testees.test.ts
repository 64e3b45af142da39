/**
 * The example testees of examples/testees through the whole suite over the process protocol,
 * exactly as `scan-conformance check --command "..."` plugs them in.
 */
import { execFileSync } from 'node:child_process';
import { describe, it } from 'vitest';
import { processImplementation } from '../../protocol/index.ts';
import { describeConformance } from '../../suite/vitest.ts';

function pythonWithNumpy(): string | undefined {
  try {
    execFileSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'python3 with numpy was not found';
  }
}

describeConformance(await processImplementation({ command: 'node examples/testees/node/testee.mjs' }));

const missingPython = pythonWithNumpy();
if (missingPython === undefined) {
  describeConformance(await processImplementation({ command: 'python3 examples/testees/python/numpy_testee.py --float32' }));
} else {
  const required = process.env.REQUIRE_PYTHON === '1';
  describe('python testee', () => {
    it.skipIf(!required)(`needs python3 with numpy (skipped: ${missingPython}; REQUIRE_PYTHON=1 makes this a failure)`, () => {
      throw new Error(missingPython);
    });
  });
}
