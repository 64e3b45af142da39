/**
 * The set-up every WebGPU test file shares: set the implementations up once, dispose of them after
 * the file, and turn a missing adapter into a visible skip reason (or, with REQUIRE_WEBGPU=1 as CI
 * sets it, into a failing availability test).
 */
import { afterAll, expect, it } from 'vitest';
import { ImplementationUnavailableError } from '../../../spec/implementation.ts';
import type { WebGpuScanImplementation } from '../../../implementations/webgpu/webgpu-implementation.ts';

/** REQUIRE_WEBGPU=1: a missing adapter fails the availability test instead of only skipping. */
export const WEBGPU_REQUIRED = process.env.REQUIRE_WEBGPU === '1';

/** Sets the implementation up: undefined when ready, the reason when no adapter serves it. */
async function trySetup(implementation: WebGpuScanImplementation): Promise<string | undefined> {
  try {
    await implementation.setup();
    return undefined;
  } catch (error) {
    if (error instanceof ImplementationUnavailableError) return error.message;
    throw error;
  }
}

/**
 * Sets up `first`, then each of `others` only when `first` came up (the reason carries over
 * otherwise, sparing set-ups bound to fail); all are disposed of after the file. Returns, in the
 * same order, undefined for each ready implementation and the reason for each unavailable one.
 */
export async function setUpAll(first: WebGpuScanImplementation, ...others: WebGpuScanImplementation[]): Promise<(string | undefined)[]> {
  afterAll(async () => {
    for (const implementation of [first, ...others]) await implementation.dispose();
  });
  const firstUnavailable = await trySetup(first);
  const reasons = [firstUnavailable];
  for (const implementation of others) reasons.push(firstUnavailable ?? (await trySetup(implementation)));
  return reasons;
}

/** A test title's suffix naming why it is skipped; empty when it runs. */
export function skipNote(reason: string | undefined): string {
  return reason === undefined ? '' : ` (skipped: ${reason})`;
}

/** The test that `first` of setUpAll came up: run with an adapter, and under REQUIRE_WEBGPU=1 always. */
export function itIsAvailable(f32Unavailable: string | undefined): void {
  it.runIf(WEBGPU_REQUIRED || f32Unavailable === undefined)(`is available${WEBGPU_REQUIRED ? ' (REQUIRE_WEBGPU=1)' : ''}`, () => {
    expect(f32Unavailable, 'webgpu-f32 setup').toBeUndefined();
  });
}
