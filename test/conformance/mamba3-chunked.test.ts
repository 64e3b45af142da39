/**
 * The whole conformance suite (fixtures and properties) for implementations/mamba3-chunked, with 4
 * generated cases per cell instead of the quick mode's 8 to keep npm test near two minutes;
 * `npm run conformance`, which CI runs, and deep runs keep the full counts.
 */
import { describeFolder } from './describe-folder.ts';

await describeFolder('mamba3-chunked', { runs: 4 });
