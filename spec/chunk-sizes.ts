/**
 * What a family entry's `chunkSizes` must be, for a module's entry and a testee's handshake alike: a
 * run may be asked for any listed size and the chunk-size property runs every entry, so each must be
 * a size a kernel can take, listed once.
 */

/** One thing wrong with a chunkSizes list: the element it is at (none for the list itself), what was expected and what came. */
export interface ChunkSizesProblem {
  readonly index?: number;
  readonly expected: string;
  readonly actual: string;
}

/** Every problem of a declared chunkSizes value (an empty array when it is valid); `describe` words a value the caller's way. */
export function chunkSizesProblems(value: unknown, describe: (value: unknown) => string): ChunkSizesProblem[] {
  if (!Array.isArray(value) || value.length === 0) return [{ expected: 'a non-empty array of positive integers (the chunk sizes a run may ask for)', actual: describe(value) }];
  const sizes = value as unknown[];
  const problems: ChunkSizesProblem[] = [];
  sizes.forEach((size, index) => {
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0) problems.push({ index, expected: 'a positive safe integer', actual: describe(size) });
    else if (sizes.indexOf(size) !== index) problems.push({ index, expected: 'a size not listed before (each size once)', actual: `${size} again (also at [${sizes.indexOf(size)}])` });
  });
  return problems;
}
