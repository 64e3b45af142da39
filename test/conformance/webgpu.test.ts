/** The whole conformance suite (fixtures and properties) for implementations/webgpu. */
import { describeFolder } from './describe-folder.ts';

await describeFolder('webgpu');
