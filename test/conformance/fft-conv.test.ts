/** The whole conformance suite (fixtures and properties) for implementations/fft-conv, as for every implementation folder. */
import { describeFolder } from './describe-folder.ts';

await describeFolder('fft-conv');
