/** The whole conformance suite (fixtures and properties) for implementations/tfjs. */
import { describeFolder } from './describe-folder.ts';

await describeFolder('tfjs');
