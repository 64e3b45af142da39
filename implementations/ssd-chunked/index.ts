/** The chunked SSD of Mamba-2 in TypeScript: float64 and float32. */
import { createSsdChunked } from './ssd-chunked.ts';

export default [createSsdChunked('float64'), createSsdChunked('float32')];
