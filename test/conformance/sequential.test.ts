/** The whole conformance suite (fixtures and properties) for implementations/sequential. */
import { describeFolder } from './describe-folder.ts';

await describeFolder('sequential');
