/** The whole conformance suite under vitest for implementations/sequential, with npm test's caps (SHIPPED_CAPS). */
import { describeFolder } from './describe-folder.ts';

await describeFolder('sequential');
