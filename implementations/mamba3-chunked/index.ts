/** The chunked Mamba-3 SISO in TypeScript: float64 and float32. */
import { createMamba3Chunked } from './mamba3-chunked.ts';

export default [createMamba3Chunked('float64'), createMamba3Chunked('float32')];
