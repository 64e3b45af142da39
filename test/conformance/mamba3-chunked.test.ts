/** npm test's smoke of implementations/mamba3-chunked under vitest (SMOKE_CAPS); `npm run conformance` runs its whole suite. */
import { describeFolder } from './describe-folder.ts';

await describeFolder('mamba3-chunked');
