/**
 * A decline at run time (a process testee's decline answer, an ImplementationDeclinedError thrown
 * from run) is reported as declined in every cell, fixture replay included, never as "the
 * implementation threw": one run pipeline (suite/pipeline.ts) serves them all.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { reference } from '../../reference/index.ts';
import type { Problem } from '../../spec/families.ts';
import { ImplementationDeclinedError, type ScanImplementation } from '../../spec/implementation.ts';
import { planCells } from '../../suite/cells.ts';
import type { ExpectedOutputs } from '../../suite/compare.ts';
import type { FixtureCase, FixtureSource } from '../../suite/fixture-replay.ts';
import type { PropertyName } from '../../suite/results.ts';
import { runCell } from '../../suite/runner.ts';
import { HAS_PROC, childrenStartedFromNow, misbehavingForThisTest } from './harness.ts';
import { linearRecurrenceProblem } from './problems.ts';

const childrenLeft = childrenStartedFromNow();

afterAll(() => {
  if (HAS_PROC) expect(childrenLeft()).toEqual([]);
});

/** A golden case made on the spot from the reference. */
function fixture(id: string, problem: Problem<'linear-recurrence'>): FixtureCase {
  return { id, family: 'linear-recurrence', regime: 'generic', problem, expected: reference(problem) as unknown as ExpectedOutputs, file: `${id}.safetensors` };
}

/** A fixture source holding the given cases. */
function sourceOf(...cases: FixtureCase[]): FixtureSource {
  return {
    async *cases(family) {
      for (const c of cases) if (c.family === family) yield c;
    },
  };
}

/** The misbehaving testee's decline-answer mode declines problems of length 3 at run time, answers others. */
const DECLINED = fixture('length-3', linearRecurrenceProblem('declined', 1, 2, 3, { reverse: false, h0: true }));
const ANSWERED = fixture('length-5', linearRecurrenceProblem('answered', 2, 3, 5, { reverse: false, h0: true }));

/** Runs the main cell of a linear-recurrence property. */
async function cellOf(implementation: ScanImplementation, property: PropertyName, fixtures?: FixtureSource) {
  const [plan] = planCells(implementation, 'linear-recurrence', property);
  return runCell(implementation, plan, { runs: 4, ...(fixtures && { fixtures }) }, []);
}

describe.concurrent('a decline at run time', () => {
  it('during fixture replay, a process testee declining every fixture makes the fixtures cell declined', async ({ onTestFinished }) => {
    const testee = await misbehavingForThisTest(onTestFinished, 'decline-answer');
    const cell = await cellOf(testee, 'fixtures', sourceOf(DECLINED));
    expect(cell.outcome, cell.reason).toBe('declined');
    expect(cell.runs).toBe(0);
    expect(cell.declined).toBe(1);
    expect(cell.declineReason).toMatch(/lengths that are not a multiple of 4/);
  });

  it('during fixture replay, a declined fixture beside an answered one is counted declined and the cell passes on the other', async ({ onTestFinished }) => {
    const testee = await misbehavingForThisTest(onTestFinished, 'decline-answer');
    const cell = await cellOf(testee, 'fixtures', sourceOf(DECLINED, ANSWERED));
    expect(cell.outcome, cell.counterexample?.message).toBe('pass');
    expect([cell.runs, cell.declined]).toEqual([1, 1]);
    expect(cell.declineReason).toMatch(/lengths that are not a multiple of 4/);
  });

  it('an ImplementationDeclinedError thrown from run is declined in the fixtures cell and in a property cell alike', async () => {
    const declining: ScanImplementation = {
      name: 'test/declines-in-run',
      precision: 'float32',
      families: {
        'linear-recurrence': {
          run: async () => {
            throw new ImplementationDeclinedError('this device has no queue today');
          },
        },
      },
    };
    for (const property of ['fixtures', 'conformance'] as const) {
      const cell = await cellOf(declining, property, sourceOf(DECLINED, ANSWERED));
      expect(cell.outcome, `${property}: ${cell.reason ?? ''}`).toBe('declined');
      expect(cell.runs).toBe(0);
      expect(cell.declined).toBeGreaterThan(0);
      expect(cell.declineReason).toBe('this device has no queue today');
    }
  });
});
