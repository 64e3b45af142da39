/** Implementations that crash: setup throws; run throws. The CLI must report both and go on. */
import type { ScanImplementation } from '../../../spec/implementation.ts';

const setupThrows: ScanImplementation = {
  name: 'test/setup-throws',
  precision: 'float32',
  families: { 'prefix-sum': { run: async () => ({ y: { data: new Float32Array(0), shape: [0, 0, 0] } }) } },
  async setup() {
    throw new Error('no device here');
  },
};

const runThrows: ScanImplementation = {
  name: 'test/run-throws',
  precision: 'float32',
  families: {
    'prefix-sum': {
      run: async () => {
        throw new Error('kernel exploded');
      },
    },
  },
};

export default [setupThrows, runThrows];
