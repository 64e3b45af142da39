/**
 * Evidence that the tolerance model is sound (correct kernels in several evaluation orders never
 * fail it, in every regime) and sharp (each deliberately wrong kernel fails the quick run with a
 * shrunk counterexample of L ≤ 8).
 */
import { describe, expect, it } from 'vitest';
import type { FamilyName } from '../../spec/families.ts';
import type { ScanImplementation } from '../../spec/implementation.ts';
import { planCells } from '../../suite/cells.ts';
import type { PropertyName } from '../../suite/results.ts';
import { runCell } from '../../suite/runner.ts';
import { MODES, deepFromEnvironment } from '../../suite/settings.ts';
import { discoverImplementations } from '../../suite/registry.ts';
import { WRONG_VARIANTS, kahanF32 } from './variants.ts';

const deep = deepFromEnvironment();
const registered = await discoverImplementations();
const byName = (name: string) => {
  const found = registered.find((i) => i.name === name);
  if (found === undefined) throw new Error(`expected a registered implementation '${name}'; registered: ${registered.map((i) => i.name).join(', ')}`);
  return found;
};

async function conformanceCell(implementation: ScanImplementation, family: FamilyName, runs: number, maxLength: number, property: PropertyName = 'conformance') {
  const [plan] = planCells(implementation, family, property);
  await implementation.setup?.();
  try {
    return await runCell(implementation, plan, { runs, maxLength, seed: 20261125 }, []);
  } finally {
    await implementation.dispose?.();
  }
}

describe('soundness: correct kernels in different evaluation orders pass in every regime', () => {
  // Quick: many runs on short sequences; deep (SCAN_CONFORMANCE_DEEP=1): the deep mode's runs and lengths.
  const runs = deep ? MODES.deep.runs : 60;
  const maxLength = deep ? MODES.deep.maxLength : 600;
  const correct = [
    { name: 'sequential-f32', order: 'sequential' },
    { name: 'parallel-scan/hillis-steele-f32', order: 'log-step tree' },
    { name: 'parallel-scan/blelloch-f32', order: 'work-efficient tree' },
    { name: 'parallel-scan/chunked-f32', order: 'chunked two-level' },
  ];
  for (const { name, order } of correct) {
    for (const family of ['prefix-sum', 'linear-recurrence', 'selective-scan', 'lti-ssm'] as const) {
      it(`${name} (${order}) · ${family}`, async () => {
        const cell = await conformanceCell(byName(name), family, runs, maxLength);
        expect(cell.counterexample?.message).toBeUndefined();
        expect(cell.outcome).toBe('pass');
        expect(cell.runs).toBe(runs);
      });
    }
  }
  it('test/kahan-f32 (compensated) · linear-recurrence', async () => {
    const cell = await conformanceCell(kahanF32, 'linear-recurrence', runs, maxLength);
    expect(cell.counterexample?.message).toBeUndefined();
    expect(cell.outcome).toBe('pass');
  });
});

describe('sharpness: each wrong kernel fails the quick run with a small counterexample', () => {
  for (const { implementation, family } of WRONG_VARIANTS) {
    it(`${implementation.name} fails ${family} conformance, shrunk to L ≤ 8`, async () => {
      const cell = await conformanceCell(implementation, family, MODES.quick.runs, MODES.quick.maxLength);
      expect(cell.outcome).toBe('fail');
      expect(cell.counterexample).toBeDefined();
      expect(cell.counterexample!.request.dims.length).toBeLessThanOrEqual(8);
      expect(cell.counterexample!.message).toMatch(/outside the tolerance/);
      expect(cell.counterexample!.replay).toContain(`--seed ${cell.counterexample!.seed}`);
    });
  }
});
