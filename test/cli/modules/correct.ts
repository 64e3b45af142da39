/** A module exporting one correct implementation (default export), for CLI tests. */
import { correctPrefixSum } from './prefix-sums.ts';

export default correctPrefixSum;
