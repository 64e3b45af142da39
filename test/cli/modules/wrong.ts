/** A module exporting one wrong implementation (named export), for CLI tests. */
import { offByOnePrefixSum } from './prefix-sums.ts';

export const implementation = offByOnePrefixSum;
