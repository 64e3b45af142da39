/** A decoded fixture as fixture replay reads it, on any platform (Node's fixture folders, the browser page's fetched fixtures). */
import { VARLEN_FORM, VJP_FORM } from '../fixtures/manifest.ts';
import type { AnyFixtureCase } from '../fixtures/decode.ts';
import type { AnyProblem } from '../spec/families.ts';
import type { ExpectedOutputs } from './compare.ts';
import type { FixtureCase } from './fixture-replay.ts';

/** A loaded fixture (ordinary, varlen or gradient) as the suite reads it; `select` are the flags that pick it again in a replay. */
export function fixtureCaseOf(fixture: AnyFixtureCase, file: string, select: readonly string[]): FixtureCase {
  const fields = { id: fixture.id, regime: fixture.regime, expected: fixture.expected as unknown as ExpectedOutputs, file, select };
  if (fixture.form === VARLEN_FORM) return { ...fields, form: VARLEN_FORM, family: 'ssd', problem: fixture.problem };
  if (fixture.form === VJP_FORM) {
    const { cotangents, expectedGradients } = fixture as { cotangents: object; expectedGradients: object };
    return { ...fields, form: VJP_FORM, family: fixture.family, problem: fixture.problem as AnyProblem, cotangents, expectedGradients } as FixtureCase;
  }
  return { ...fields, family: fixture.family, problem: fixture.problem as AnyProblem };
}

