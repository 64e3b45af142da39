/** zero-input: zero additive inputs give exact zeros everywhere. */
import { guarded, runChecked } from '../pipeline.ts';
import { mapAdditiveInputs } from '../transforms.ts';
import { always, firstDifference, linearOutputs, noParameters, type PropertyDefinition } from './harness.ts';

/** The zero-input property. */
export const zeroInput: PropertyDefinition<'zero-input'> = {
  name: 'zero-input',
  description: 'Zero additive inputs (b, h0, x, u) give exact zeros everywhere.',
  notApplicable: always,
  arbitrary: noParameters,
  check: (context, c) =>
    guarded(async () => {
      const problem = mapAdditiveInputs(c.problem, () => 0);
      const outputs = await runChecked(context, problem);
      const d = firstDifference(outputs, outputs, (_, __, a) => a !== 0, linearOutputs(c.problem.family, outputs));
      if (d === undefined) return { kind: 'pass' };
      return { kind: 'fail', message: `with every additive input zero, ${d.name}[${d.coordinates.join(', ')}] is ${d.a}, not 0` };
    }),
};
