/**
 * The parallel-scan backward is a reverse associative scan, so its combine's operand order matters:
 * a backward whose adjoint combine is swapped ((a₁, b₁) ∘ (a₂, b₂) computed as (a₂, b₂) ∘ (a₁, b₁))
 * fails `vjp` with a short counterexample, while the real one passes. Hillis–Steele and Blelloch
 * only (the chunked scan folds with its serial primitives, never calling combine). Shortened runs.
 */
import { describe, expect, it } from 'vitest';
import { blelloch } from '../../../implementations/parallel-scan/algorithms/blelloch.ts';
import { hillisSteele } from '../../../implementations/parallel-scan/algorithms/hillis-steele.ts';
import type { ScanAlgorithm } from '../../../implementations/parallel-scan/algorithms/algorithm.ts';
import { ChunkedScan } from '../../../implementations/parallel-scan/algorithms/chunked.ts';
import { FLOAT32, FLOAT64 } from '../../../implementations/parallel-scan/arithmetic.ts';
import type { AssociativeOperator } from '../../../implementations/parallel-scan/operators.ts';
import { affineOperator } from '../../../implementations/parallel-scan/operators.ts';
import { singleThreadedImplementation } from '../../../implementations/parallel-scan/single-threaded.ts';
import { parallelBackwardScans } from '../../../implementations/parallel-scan/vjp.ts';
import { vjpWithScans } from '../../../implementations/sequential/vjp.ts';
import type { GradientsOf } from '../../../spec/gradients.ts';
import type { FamilyImplementation, ScanImplementation } from '../../../spec/implementation.ts';
import { lengthOf, quickRun } from '../../suite/quick-run.ts';

const LIMITS = { runs: 4, maxLength: 24 };

/** The affine operator with the operands of combine swapped (later element first). */
function swappedAffine(): AssociativeOperator {
  const affine = affineOperator(FLOAT64);
  return {
    ...affine,
    combine: (outA, outB, o, leftA, leftB, l, rightA, rightB, r) => affine.combine(outA, outB, o, rightA, rightB, r, leftA, leftB, l),
  };
}

/** The float64 implementation of `algorithm` whose linear-recurrence vjp runs the swapped adjoint combine. */
function swappedBackward(algorithm: ScanAlgorithm): ScanImplementation {
  const base = singleThreadedImplementation(algorithm, FLOAT64, 'swapped adjoint combine');
  const scans = parallelBackwardScans(algorithm, FLOAT64, swappedAffine());
  const correct = base.families['linear-recurrence'] as FamilyImplementation<'linear-recurrence'>;
  const entry: FamilyImplementation<'linear-recurrence'> = {
    ...correct,
    vjp: async (problem, cotangents) => vjpWithScans('float64', problem, cotangents, scans) as GradientsOf<'linear-recurrence'>,
  };
  return { ...base, name: `${base.name}-swapped-adjoint`, families: { 'linear-recurrence': entry } };
}

describe('the parallel-scan backward (reverse adjoint scan)', () => {
  for (const algorithm of [hillisSteele, blelloch]) {
    it(`${algorithm.name}: passes vjp, and fails it with a short counterexample when the adjoint combine's operands are swapped`, async () => {
      const [right] = await quickRun(singleThreadedImplementation(algorithm, FLOAT64, 'correct'), 'linear-recurrence', ['vjp'], LIMITS);
      expect(right.outcome, right.counterexample?.message ?? right.reason).toBe('pass');
      expect(right.runs - (right.declined ?? 0)).toBeGreaterThan(0);
      const [wrong] = await quickRun(swappedBackward(algorithm), 'linear-recurrence', ['vjp'], LIMITS);
      expect(wrong.outcome, wrong.reason).toBe('fail');
      expect(wrong.counterexample?.message).toMatch(/gradient elements outside rule V; worst vjp\.\w+\[/);
      expect(lengthOf(wrong)).toBeLessThanOrEqual(4);
    });
  }

  // L ≤ 24 stays within one default chunk (64): chunks of 3 make the adjoint's carries cross chunks.
  for (const family of ['linear-recurrence', 'selective-scan'] as const) {
    it(`chunked with chunks of 3 (float32): passes vjp on ${family}, its adjoint carried across chunks`, async () => {
      const [cell] = await quickRun(singleThreadedImplementation(new ChunkedScan(3), FLOAT32, 'chunks of 3'), family, ['vjp'], LIMITS);
      expect(cell.outcome, cell.counterexample?.message ?? cell.reason).toBe('pass');
      expect(cell.runs - (cell.declined ?? 0)).toBeGreaterThan(0);
    });
  }
});
