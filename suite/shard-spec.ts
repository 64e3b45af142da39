/** Which shard of a sharded run (`check --shard i/n`): kept apart so that the command line parses it without loading the suite. */

/** Shard i of n (1 ≤ i ≤ n). */
export interface ShardSpec {
  readonly index: number;
  readonly count: number;
}

/** Parses `i/n` (1 ≤ i ≤ n); a RangeError naming what was expected otherwise. */
export function parseShardSpec(text: string): ShardSpec {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (match === null || !Number.isSafeInteger(index) || !Number.isSafeInteger(count) || count < 1 || index < 1 || index > count) {
    throw new RangeError(`expected i/n with 1 ≤ i ≤ n (shard i of n, e.g. 2/3), got '${text}'`);
  }
  return { index, count };
}
