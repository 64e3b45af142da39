/** identity-padding: appending identity steps changes no original output and not the last state. */
import fc from 'fast-check';
import type { AnyProblem } from '../../spec/families.ts';
import { descriptorOf } from '../../spec/families/index.ts';
import { admitIdentityStep, appendIdentityPadding, identityStepNever } from '../../spec/regimes.ts';
import { caseArbitrary, type CaseConstraints } from '../arbitraries.ts';
import { unravel } from '../compare.ts';
import { guarded, runChecked } from '../pipeline.ts';
import { paddedTimeIndex } from '../transforms.ts';
import { isReversed, judged, pairAllowance, pairViolated, withParameters, type PropertyDefinition } from './harness.ts';

/** The identity-padding property. */
export const identityPadding: PropertyDefinition<'identity-padding'> = {
  name: 'identity-padding',
  description: 'Appending identity steps (a = 1, b = 0; Δ\' = 0, u = 0) changes no original output and not the last state.',
  // A convolution kernel (FFT, normwise) computes only problems with the family's convolution
  // inputs held constant (selective-scan's Δ); an identity step (Δ' = 0) breaks that, so every
  // padded case would be declined and only empty ones would pass.
  notApplicable: (family, entry) =>
    identityStepNever(family) ??
    (entry.errorModel === 'normwise' && descriptorOf(family).convolutionWhenConstant !== undefined
      ? `a convolution (normwise) implementation of ${family} computes only problems with ${descriptorOf(family).convolutionWhenConstant?.join(', ')} constant over time, and identity steps change it`
      : undefined),
  arbitrary: (family, constraints) => {
    // Cases draw from options under which an identity step exists (selective-scan: Δ' = Δ, no softplus).
    const needs = descriptorOf(family).identityStepNeeds;
    return withParameters(
      caseArbitrary(family, { ...constraints, ...(needs !== undefined ? { options: { ...constraints.options, ...needs } } : {}) } as CaseConstraints<typeof family>),
      fc.record({ padding: fc.integer({ min: 1, max: 70 }) }),
    );
  },
  check: (context, c) =>
    guarded(async () => {
      const count = c.parameters.padding as number;
      // Problems whose inputs rule out an identity step (an ssd dtLimit away from 0) are moved to the nearest that has one.
      const base = admitIdentityStep(c.problem);
      const padded = appendIdentityPadding(base, count);
      const original = await runChecked(context, base);
      const longer = await runChecked(context, padded);
      // Both runs' bounds: the padded run is a longer problem (an FFT's transform grows with it).
      const short = judged(base as AnyProblem, context.declaration);
      const long = judged(padded as AnyProblem, context.declaration);
      const atStart = isReversed(c.problem as AnyProblem);
      for (const name of Object.keys(original)) {
        const a = original[name].data;
        const b = longer[name].data;
        for (let i = 0; i < a.length; i++) {
          const j = paddedTimeIndex(c.problem.family, name, original[name].shape, i, count, atStart);
          if (pairViolated(short, i, a[i], long, j, b[j], name, context.declaration.precision)) {
            const allowance = pairAllowance(short, i, long, j, name);
            const coordinates = unravel(i, original[name].shape);
            return { kind: 'fail', message: `after ${count} identity steps, ${name}[${coordinates.join(', ')}] changed from ${a[i]} to ${b[j]} (allowance ${allowance.toExponential(3)})` };
          }
        }
      }
      return { kind: 'pass' };
    }),
};
