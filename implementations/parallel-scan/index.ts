/**
 * Parallel-scan implementations: Hillis–Steele, Blelloch and chunked two-level scans in float32
 * and float64 on one thread, and the chunked scan across worker threads. Default export: all of them.
 */
import type { ScanImplementation } from '../../spec/implementation.ts';
import { blelloch } from './algorithms/blelloch.ts';
import { ChunkedScan, DEFAULT_CHUNK_SIZE } from './algorithms/chunked.ts';
import { hillisSteele } from './algorithms/hillis-steele.ts';
import { FLOAT32, FLOAT64 } from './arithmetic.ts';
import { singleThreadedImplementation } from './single-threaded.ts';
import { threadedImplementation } from './threads/threaded.ts';

const HILLIS_STEELE = 'Hillis–Steele log-step scan (O(L log L) combines), one thread';
const BLELLOCH = 'Blelloch work-efficient up-sweep/down-sweep scan, any L (identity padding), one thread';
const CHUNKED = `chunked two-level scan (chunks of ${DEFAULT_CHUNK_SIZE}: scan chunks, scan carries, fix up), one thread`;

const implementations: ScanImplementation[] = [
  singleThreadedImplementation(hillisSteele, FLOAT32, `${HILLIS_STEELE}, float32`),
  singleThreadedImplementation(hillisSteele, FLOAT64, `${HILLIS_STEELE}, float64`),
  singleThreadedImplementation(blelloch, FLOAT32, `${BLELLOCH}, float32`),
  singleThreadedImplementation(blelloch, FLOAT64, `${BLELLOCH}, float64`),
  singleThreadedImplementation(new ChunkedScan(), FLOAT32, `${CHUNKED}, float32`),
  singleThreadedImplementation(new ChunkedScan(), FLOAT64, `${CHUNKED}, float64`),
  threadedImplementation(FLOAT32),
  threadedImplementation(FLOAT64),
];

export default implementations;
