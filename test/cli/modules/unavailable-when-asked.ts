/** A correct prefix sum whose setup says the machine cannot run it while SCAN_CONFORMANCE_TEST_UNAVAILABLE=1 (a device busy in one shard), for the merge tests. */
import { ImplementationUnavailableError, type ScanImplementation } from '../../../spec/implementation.ts';
import { prefixSumF32 } from './prefix-sums.ts';

const sometimesUnavailable: ScanImplementation = {
  name: 'test/sometimes-unavailable',
  precision: 'float32',
  families: { 'prefix-sum': { run: async (problem) => prefixSumF32(problem, false) } },
  async setup() {
    if (process.env.SCAN_CONFORMANCE_TEST_UNAVAILABLE === '1') throw new ImplementationUnavailableError('no adapter (simulated)');
  },
};

export default sometimesUnavailable;
