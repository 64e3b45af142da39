/**
 * npm test's smoke of implementations/tfjs under vitest (SMOKE_CAPS): its three backends share one
 * process and one engine (exclusive-backend.ts), which this file runs them through in turn;
 * `npm run conformance` runs their whole suite.
 */
import { describeFolder } from './describe-folder.ts';

await describeFolder('tfjs');
