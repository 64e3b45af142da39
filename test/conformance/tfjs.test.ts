/**
 * The whole conformance suite (fixtures and properties) for implementations/tfjs. Its cpu and wasm
 * backends are slow, so the quick run replays fixtures up to L = 33 only (the longer ones took
 * most of this file's time) and generates L ≤ 130 (still two chunks of 64 and a tail; the quick
 * mode's number of cases, which the expected failures of tfjs-webgpu need to show). The gradient
 * properties (TensorFlow.js autodiff, twice this file's time) are left to `npm run conformance`;
 * test/implementations/tfjs/tfjs-vjp.test.ts checks the vjp where it is wired;
 * `npm run conformance`, which CI runs, and deep runs keep the quick mode's lengths and replay
 * every fixture.
 */
import { describeFolder } from './describe-folder.ts';

await describeFolder('tfjs', {
  fixtureMaxLength: 33,
  maxLength: 130,
  leaveOut: ['vjp', 'vjp-dot-product', 'vjp-zero', 'vjp-linearity', 'vjp-state-passing', 'vjp-batch-permutation'],
});
