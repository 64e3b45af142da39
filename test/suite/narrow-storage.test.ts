/**
 * No false red for the storage precisions no shipped implementation declares (issue 15): the
 * sequential float32 kernel behind float16 or bfloat16 storage (test/suite/modules/narrow-storage.ts)
 * passes where rounding dt and its bias into storage moved a step Δ by more than the 2·u_in the
 * model allowed before: softplus(dt + bias) on its flat tail passes the absolute error
 * u_in·(|dt| + |bias|) of its argument on as a relative error of the step (spec/tolerance-terms.ts#stepInputError).
 */
import { describe, expect, it } from 'vitest';
import { UNIT_ROUNDOFF } from '../../spec/precision.ts';
import { stepInputError } from '../../spec/tolerance-terms.ts';
import { softplus } from '../../spec/families/selective-scan/discretization.ts';
import { fixtureSourceFromDirectory } from '../../suite/fixture-source.ts';
import { planCells } from '../../suite/cells.ts';
import type { PropertyName } from '../../suite/results.ts';
import type { FamilyName } from '../../spec/families.ts';
import { runCell } from '../../suite/runner.ts';
import narrowStorage from './modules/narrow-storage.ts';

const byName = (name: string) => narrowStorage.find((i) => i.name === name)!;
const uBfloat16 = UNIT_ROUNDOFF.bfloat16;

describe('a step Δ = softplus(dt + bias) of inputs rounded into a narrow storage', () => {
  it('errs relatively by the moved argument times softplus\' slope over Δ, never less than 2·u_in, and 0 with nothing rounded', () => {
    // decay-near-1 puts dt + bias near −8: softplus ≈ exp, so an argument moved by 8·u_in moves Δ by about 8·u_in of itself.
    const [dt, bias] = [-7.5, -0.5];
    const delta = softplus(dt + bias);
    const error = stepInputError(dt, bias, true, delta, uBfloat16);
    expect(error / uBfloat16).toBeGreaterThan(7.5);
    expect(error / uBfloat16).toBeLessThan(8.5);
    // Without softplus, cancellation in dt + bias: |dt| + |bias| over |Δ|.
    expect(stepInputError(3, -2.5, false, 0.5, uBfloat16) / uBfloat16).toBeCloseTo(11, 6);
    expect(stepInputError(0.25, 0.25, false, 0.5, uBfloat16)).toBe(2 * uBfloat16);
    expect(stepInputError(-7.5, -0.5, true, delta, 0)).toBe(0);
    expect(stepInputError(2, -2, false, 0, uBfloat16)).toBe(2 * uBfloat16);
  });

  it.each(['emulated/bfloat16-preserve', 'emulated/bfloat16-flush'])('%s passes the ssd fixture it failed (decay-near-1, softplus, dtBias, dtLimit)', async (name) => {
    const implementation = byName(name);
    const [plan] = planCells(implementation, 'ssd', 'fixtures');
    const fixtures = fixtureSourceFromDirectory(undefined, { ids: ['ssd/decay-near-1/L00008-b1h4p2n3g4-softplus-D-z-bias-limit-packed'] });
    const cell = await runCell(implementation, plan, { runs: 1, seed: 42, fixtures }, []);
    expect(cell.runs).toBe(1);
    expect(cell.outcome, cell.reason).toBe('pass');
  });
});

describe('a float16 kernel that flushes its subnormal inputs', () => {
  // softplus-threshold puts Δ near 100: a flushed x or u loses |Δ·B| times itself, about 50 times
  // what charging its magnitude alone allowed (rule U's flushed inputs, weighted by flushCofactors).
  it.each([
    ['ssd', 'scaling', 1, '2:4:3:3:2:3:3:3:3:2'],
    ['selective-scan', 'scaling', 2, '0:5:5:2:3:5:4:4:16:5:2:9:3:5'],
    // A C element under 2^-14 flushed takes y = 1.4·10⁻⁴ to 0: C multiplies the state, no constant co-factor bounds it (spec/flush-envelope.ts).
    ['ssd', 'conformance', 6, '10:3:2:1:4:4:4:3:3'],
  ] as const)('passes the %s %s case it failed (seed %i)', async (family, property, seed, path) => {
    const implementation = byName('emulated/float16-flush');
    const [plan] = planCells(implementation, family as FamilyName, property as PropertyName);
    const cell = await runCell(implementation, plan, { seed, path, maxLength: 800 }, []);
    expect(cell.runs).toBeGreaterThan(0);
    expect(cell.outcome, cell.reason).toBe('pass');
  });
});
