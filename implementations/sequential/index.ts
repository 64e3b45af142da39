/** The sequential baselines: plain float64 loops and the float32 loop every fast kernel is compared with. */
import { createSequential } from './sequential.ts';

export default [createSequential('float64'), createSequential('float32')];
