/**
 * The conformance suite for implementations/tfjs, kept small: its cpu and wasm backends are slow
 * and all three share one process, so `npm test` runs only the fixtures (tfjs-wasm, the fastest, up to
 * L = 33; cpu and webgpu up to L = 8: every family's edge lengths, not the L = 9 option
 * combinations, which are the same TypeScript on every backend), the comparison with the reference and the state properties
 * (step, state-passing) at L ≤ 130 (still two chunks of 64 and a tail). Every other property, the
 * gradient properties (TensorFlow.js autodiff; test/implementations/tfjs/tfjs-vjp.test.ts checks
 * the vjp where it is wired) and every fixture run in `npm run conformance`, which CI runs, and in
 * deep runs (SCAN_CONFORMANCE_DEEP=1 lifts these caps).
 */
import { PROPERTY_NAMES, type PropertyName } from '../../suite/results.ts';
import { describeFolder } from './describe-folder.ts';

const KEPT: readonly PropertyName[] = ['fixtures', 'conformance', 'step', 'state-passing'];

await describeFolder('tfjs', (name) => ({
  fixtureMaxLength: name === 'tfjs-wasm' ? 33 : 8,
  maxLength: 130,
  leaveOut: PROPERTY_NAMES.filter((p) => !KEPT.includes(p)),
}));
