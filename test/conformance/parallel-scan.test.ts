/** The whole conformance suite under vitest for implementations/parallel-scan, with npm test's caps (SHIPPED_CAPS). */
import { describeFolder } from './describe-folder.ts';

await describeFolder('parallel-scan');
