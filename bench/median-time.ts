/** Median wall time of repeated calls, for the ad hoc cost scripts of this folder (the benchmark proper uses tinybench). */

/** Median milliseconds of `repeats` awaited calls of `work`, after `warmups` calls that are not timed. */
export async function medianMs(work: () => unknown, repeats: number, warmups = 1): Promise<number> {
  for (let i = 0; i < warmups; i++) await work();
  const times: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const start = performance.now();
    await work();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[repeats >> 1];
}
