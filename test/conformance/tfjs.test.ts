/**
 * The whole conformance suite (fixtures and properties) for implementations/tfjs. Its cpu and wasm
 * backends are slow, so the quick run replays fixtures up to L = 1024 only (the 23 longer ones up
 * to 4096 took most of this file's time); `npm run conformance`, which CI runs, and deep runs
 * replay them all.
 */
import { describeFolder } from './describe-folder.ts';

await describeFolder('tfjs', 1024);
