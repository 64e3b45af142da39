/** The whole conformance suite (fixtures and properties) for implementations/ssd-chunked. */
import { describeFolder } from './describe-folder.ts';

await describeFolder('ssd-chunked');
