/** The whole conformance suite (fixtures and properties) for implementations/parallel-scan. */
import { describeFolder } from './describe-folder.ts';

await describeFolder('parallel-scan');
