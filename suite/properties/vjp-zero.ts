/** vjp-zero: a zero cotangent gives exactly zero gradients (±0). */
import type { AnyProblem } from '../../spec/families.ts';
import { guarded } from '../pipeline.ts';
import { runVjp, vjpNotApplicable, zeroCotangentsOf } from '../vjp-check.ts';
import { caseArbitrary } from '../arbitraries.ts';
import { firstDifference, restrictRegimes, withParameters, type PropertyDefinition } from './harness.ts';
import fc from 'fast-check';

/** Regimes whose forward values stay finite: where a forward value overflows, 0·∞ = NaN in a gradient is correct arithmetic. */
const FINITE_REGIMES = ['generic', 'decay-near-1', 'decay-near-0', 'zeros', 'oscillating', 'tiny', 'subnormal', 'dyadic-exact', 'softplus-threshold', 'identity-padding'] as const;

/** The vjp-zero property. */
export const vjpZero: PropertyDefinition<'vjp-zero'> = {
  name: 'vjp-zero',
  description: 'A zero cotangent for every output gives exactly zero gradients (+0 or −0) for every differentiable input.',
  notApplicable: vjpNotApplicable,
  arbitrary: (family, constraints) => withParameters(caseArbitrary(family, restrictRegimes(family, constraints, FINITE_REGIMES)), fc.constant({})),
  check: (context, c) =>
    guarded(async () => {
      const gradients = await runVjp(context, c.problem, zeroCotangentsOf(c.problem));
      const d = firstDifference(gradients, gradients, (_, __, g) => g !== 0);
      if (d === undefined) return { kind: 'pass' };
      return { kind: 'fail', message: `with every cotangent zero, the gradient vjp.${d.name}[${d.coordinates.join(', ')}] is ${d.a}, not 0` };
    }),
};
