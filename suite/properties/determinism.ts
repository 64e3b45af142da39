/** determinism: two runs on the same input are bit-identical (reported, not required). */
import { guarded, runChecked } from '../pipeline.ts';
import { always, firstDifference, noParameters, same, type PropertyDefinition } from './harness.ts';

/** The determinism property. */
export const determinism: PropertyDefinition<'determinism'> = {
  name: 'determinism',
  description: 'Two runs on the same input are bit-identical (reported, not required).',
  notApplicable: always,
  arbitrary: noParameters,
  check: (context, c) =>
    guarded(async () => {
      const first = await runChecked(context, c.problem);
      const second = await runChecked(context, c.problem);
      const d = firstDifference(first, second, (_, __, a, b) => !same(a, b));
      if (d === undefined) return { kind: 'pass' };
      return { kind: 'fail', message: `two runs differ at ${d.name}[${d.coordinates.join(', ')}]: ${d.a} then ${d.b}` };
    }),
};
