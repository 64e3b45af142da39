// The other half: the same implementation's fixture replay (short fixtures) and two more properties.
import { describeConformance } from '../../../suite/vitest.ts';
import { fixtureSourceFromDirectory } from '../../../suite/fixture-source.ts';
import implementation from '../../../examples/my-implementation.ts';

describeConformance(implementation, { fixtures: fixtureSourceFromDirectory(undefined, { maxLength: 8 }), runs: 2, maxLength: 16, properties: ['fixtures', 'state-passing', 'reverse-flip'] });
