// One half of the sharded suite: generated-case properties of the example implementation (step is not applicable: it has none).
import { describeConformance } from '../../../suite/vitest.ts';
import implementation from '../../../examples/my-implementation.ts';

describeConformance(implementation, { fixtures: false, runs: 2, maxLength: 16, properties: ['conformance', 'zero-input', 'step'] });
