/** The whole conformance suite under vitest for implementations/mamba3-chunked, with npm test's caps (SHIPPED_CAPS). */
import { describeFolder } from './describe-folder.ts';

await describeFolder('mamba3-chunked');
