/**
 * npm test's smoke of implementations/webgpu under vitest (SMOKE_CAPS), on Dawn. Its scan tiles of
 * 1024 elements are crossed by the fixtures past L = 1024 that `npm run conformance` replays.
 */
import { describeFolder } from './describe-folder.ts';

await describeFolder('webgpu');
