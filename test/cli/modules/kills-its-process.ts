/** A correct implementation and one whose set-up ends its process (a crashing --jobs child), for the sharding tests. */
import type { ScanImplementation } from '../../../spec/implementation.ts';
import { correctPrefixSum } from './prefix-sums.ts';

const killsItsProcess: ScanImplementation = {
  name: 'test/kills-its-process',
  precision: 'float32',
  families: { 'linear-recurrence': { run: async () => ({}) as never } },
  async setup() {
    process.stderr.write('test/kills-its-process: exiting with code 70 in set-up\n');
    process.exit(70);
  },
};

export default [correctPrefixSum, killsItsProcess];
