/** The whole conformance suite under vitest for implementations/fft-conv, with npm test's caps (SHIPPED_CAPS). */
import { describeFolder } from './describe-folder.ts';

await describeFolder('fft-conv');
