/**
 * Runs every kernel once on a tiny problem during setup. lavapipe (and other drivers) compile a
 * pipeline to machine code at its first real dispatch, not at creation; doing it here keeps that
 * one-time cost out of the first timed or time-limited run.
 */
import type { FamilyImplementation } from '../../spec/implementation.ts';
import type { FamilyName } from '../../spec/families.ts';
import type { Tensor } from '../../spec/tensor.ts';
import { ROW_SCAN_TILE } from './wgsl-row-scan.ts';

type Families = { readonly [F in FamilyName]: FamilyImplementation<F> };

/** Runs each family whose kernels were compiled (every entry point: two tiles for the row scans), each step and each vjp once on zeros. */
export async function warmUp(families: Families, compiled: (family: FamilyName) => boolean): Promise<void> {
  const zeros = (...shape: number[]): Tensor => ({ data: new Float32Array(shape.reduce((p, s) => p * s, 1)), shape });
  const length = ROW_SCAN_TILE + 1;
  if (compiled('prefix-sum')) {
  await families['prefix-sum'].run({ family: 'prefix-sum', inputs: { x: zeros(1, 1, length) }, options: { exclusive: false, reverse: false } });
  await families['prefix-sum'].step!({ x: zeros(1, 1), state: zeros(1, 1) }, { exclusive: false, reverse: false });
  }
  if (compiled('linear-recurrence')) {
  await families['linear-recurrence'].run({
    family: 'linear-recurrence',
    inputs: { a: zeros(1, 1, length), b: zeros(1, 1, length), h0: zeros(1, 1) },
    options: { reverse: false },
  });
  await families['linear-recurrence'].vjp!(
    { family: 'linear-recurrence', inputs: { a: zeros(1, 1, length), b: zeros(1, 1, length), h0: zeros(1, 1) }, options: { reverse: false } },
    { h: zeros(1, 1, length), lastState: zeros(1, 1) },
  );
  await families['linear-recurrence'].step!({ a: zeros(1, 1), b: zeros(1, 1), state: zeros(1, 1) }, { reverse: false });
  }
  if (compiled('selective-scan')) {
  await families['selective-scan'].run({
    family: 'selective-scan',
    inputs: { u: zeros(1, 1, 2), delta: zeros(1, 1, 2), A: zeros(1, 1), B: zeros(1, 1), C: zeros(1, 1), D: zeros(1), z: zeros(1, 1, 2) },
    options: { deltaSoftplus: true },
  });
  await families['selective-scan'].vjp!(
    {
      family: 'selective-scan',
      inputs: { u: zeros(1, 1, 2), delta: zeros(1, 1, 2), A: zeros(1, 1), B: zeros(1, 1), C: zeros(1, 1), D: zeros(1), z: zeros(1, 1, 2), h0: zeros(1, 1, 1) },
      options: { deltaSoftplus: true },
    },
    { y: zeros(1, 1, 2), lastState: zeros(1, 1, 1) },
  );
  }
  if (compiled('lti-ssm')) {
  await families['lti-ssm'].run({ family: 'lti-ssm', inputs: { Abar: zeros(1, 1), Bbar: zeros(1, 1), C: zeros(1, 1), D: zeros(1), u: zeros(1, 1, 2) }, options: {} });
  }
  if (compiled('ssd')) {
  // Two steps: every one of ssd's five entry points dispatches at least one workgroup.
  await families.ssd.run({
    family: 'ssd',
    inputs: { x: zeros(1, 2, 1, 1), dt: zeros(1, 2, 1), A: zeros(1), B: zeros(1, 2, 1, 1), C: zeros(1, 2, 1, 1), D: zeros(1), z: zeros(1, 2, 1, 1) },
    options: { dtSoftplus: true },
  });
  }
}
