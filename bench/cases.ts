/**
 * The benchmark's cases: standard shapes, tiny ones for --quick, and the lti-ssm crossover grid.
 * "Elements" of a case = batch·dim·N·L recurrence steps (N = 1 for prefix-sum and linear-recurrence;
 * ssd: dim = H·P, so batch·H·P·N·L state-steps).
 */
import seedrandom from 'seedrandom';
import type { AnyProblem, FamilyName } from '../spec/families.ts';
import { dimensionsOf, outputShapes } from '../spec/shapes.ts';
import type { Tensor } from '../spec/tensor.ts';

/** A benchmark case: one family at one shape, its inputs generated deterministically on demand. */
export interface BenchCase {
  readonly id: string;
  readonly title: string;
  readonly family: FamilyName;
  readonly batch: number;
  readonly dim: number;
  readonly stateSize: number;
  readonly length: number;
  /** Part of the crossover grid rather than a standard shape. */
  readonly crossover: boolean;
  /** ssd: heads H (dim = H·P); 1 elsewhere. */
  readonly heads?: number;
  /** ssd: sequences packed in each row (seqIdx); absent: one. */
  readonly packed?: number;
  /** Timed through the backward (`vjp`, with cotangentsOf(case)) instead of run(). */
  readonly backward?: boolean;
}

/** Recurrence steps of a case: batch·dim·N·L (ssd: batch·H·P·N·L state-steps, dim being H·P). */
export function elementsOf(c: BenchCase): number {
  return c.batch * c.dim * c.stateSize * c.length;
}

/** The case with its length cut so that it has at most `maxElements` elements (at least one step), or the case itself when it has no more. */
export function shortenedCase(c: BenchCase, maxElements: number): BenchCase {
  if (elementsOf(c) <= maxElements) return c;
  return { ...c, length: Math.max(1, Math.floor((c.length * maxElements) / elementsOf(c))) };
}

function benchCase(id: string, title: string, family: FamilyName, batch: number, dim: number, stateSize: number, length: number, crossover = false): BenchCase {
  return { id, title, family, batch, dim, stateSize, length, crossover };
}

/** An ssd case: H heads of P channels, N states, one group, `packed` sequences of equal length in each row. */
function ssdCase(id: string, title: string, batch: number, length: number, heads: number, headdim: number, stateSize: number, packed = 1): BenchCase {
  return { ...benchCase(id, title, 'ssd', batch, heads * headdim, stateSize, length), heads, packed };
}

/** The standard shapes of the issue. */
export const STANDARD_CASES: readonly BenchCase[] = [
  benchCase('lr-1x1x2^20', 'linear recurrence (1, 1, L 2^20)', 'linear-recurrence', 1, 1, 1, 2 ** 20),
  benchCase('lr-4x256x4096', 'linear recurrence (4, 256, L 4096)', 'linear-recurrence', 4, 256, 1, 4096),
  benchCase('ss-mamba130m', 'selective scan Mamba-130m-like (1, 1536, N 16, L 2048)', 'selective-scan', 1, 1536, 16, 2048),
  benchCase('ss-long', 'selective scan long (1, 64, N 16, L 65536)', 'selective-scan', 1, 64, 16, 65536),
  benchCase('ps-2^22', 'prefix sum (1, 1, L 2^22)', 'prefix-sum', 1, 1, 1, 2 ** 22),
  benchCase('lti-64x64x2^16', 'lti-ssm (1, 64, N 64, L 2^16)', 'lti-ssm', 1, 64, 64, 2 ** 16),
  ssdCase('ssd-mamba2-130m', 'ssd Mamba-2-130m-like (1, L 2048, H 24, P 64, N 128, G 1)', 1, 2048, 24, 64, 128),
  ssdCase('ssd-packed', 'ssd packed row of 4 sequences (1, L 2048, H 8, P 64, N 64, G 1)', 1, 2048, 8, 64, 64, 4),
  { ...benchCase('lr-1x1x2^20-vjp', 'linear recurrence backward, vjp (1, 1, L 2^20)', 'linear-recurrence', 1, 1, 1, 2 ** 20), backward: true },
];

/** Tiny versions of the standard shapes: the harness end to end in seconds. */
export const QUICK_CASES: readonly BenchCase[] = [
  benchCase('lr-1x1x2^20', 'linear recurrence (1, 1, L 2^12) [quick]', 'linear-recurrence', 1, 1, 1, 2 ** 12),
  benchCase('ss-mamba130m', 'selective scan (1, 8, N 4, L 64) [quick]', 'selective-scan', 1, 8, 4, 64),
  benchCase('ps-2^22', 'prefix sum (1, 1, L 2^12) [quick]', 'prefix-sum', 1, 1, 1, 2 ** 12),
  benchCase('lti-64x64x2^16', 'lti-ssm (1, 4, N 4, L 256) [quick]', 'lti-ssm', 1, 4, 4, 256),
  ssdCase('ssd-mamba2-130m', 'ssd (1, L 128, H 4, P 8, N 8) [quick]', 1, 128, 4, 8, 8),
  ssdCase('ssd-packed', 'ssd packed row of 4 sequences (1, L 128, H 2, P 8, N 8) [quick]', 1, 128, 2, 8, 8, 4),
  { ...benchCase('lr-1x1x2^20-vjp', 'linear recurrence backward, vjp (1, 1, L 2^12) [quick]', 'linear-recurrence', 1, 1, 1, 2 ** 12), backward: true },
];

/** The lti-ssm crossover grid, N ∈ {1, 4, 16, 64, 256} × L ∈ {2^10, …, 2^18}, one channel. */
export function crossoverCases(quick: boolean): BenchCase[] {
  const states = quick ? [1, 4] : [1, 4, 16, 64, 256];
  const lengths = quick ? [2 ** 6, 2 ** 8] : [2 ** 10, 2 ** 12, 2 ** 14, 2 ** 16, 2 ** 18];
  return states.flatMap((N) =>
    lengths.map((L) => benchCase(`lti-crossover-N${N}-L2^${Math.log2(L)}`, `lti-ssm crossover (1, 1, N ${N}, L 2^${Math.log2(L)})`, 'lti-ssm', 1, 1, N, L, true)),
  );
}

function filled(shape: readonly number[], random: () => number, lo: number, hi: number): Tensor {
  const length = shape.reduce((x, y) => x * y, 1);
  const data = new Float32Array(length);
  for (let i = 0; i < length; i++) data[i] = lo + (hi - lo) * random();
  return { data, shape: [...shape] };
}

/** A cotangent in (−1, 1) for every output of a backward case's problem, the same on every call. */
export function cotangentsOf(c: BenchCase, problem: AnyProblem): Record<string, Tensor> {
  const random = seedrandom(`bench/${c.id}/cotangents`);
  const shapes = outputShapes(problem.family, dimensionsOf(problem)) as Readonly<Record<string, readonly number[]>>;
  return Object.fromEntries(Object.entries(shapes).map(([name, shape]) => [name, filled(shape, random, -1, 1)]));
}

/**
 * The problem of a case, with values of the shape real models feed (decays in (0.5, 1), Mamba's
 * negative A, softplus'd Δ, time-varying B and C), the same on every call.
 */
export function problemOf(c: BenchCase): AnyProblem {
  const random = seedrandom(`bench/${c.id}/${c.batch}x${c.dim}x${c.stateSize}x${c.length}`);
  const { batch, dim, stateSize: N, length: L } = c;
  const sequence = [batch, dim, L];
  switch (c.family) {
    case 'prefix-sum':
      return { family: 'prefix-sum', inputs: { x: filled(sequence, random, -1, 1) }, options: { exclusive: false, reverse: false } };
    case 'linear-recurrence':
      return {
        family: 'linear-recurrence',
        inputs: { a: filled(sequence, random, 0.5, 1), b: filled(sequence, random, -1, 1) },
        options: { reverse: false },
      };
    case 'selective-scan':
      return {
        family: 'selective-scan',
        inputs: {
          u: filled(sequence, random, -1, 1),
          delta: filled(sequence, random, -4, 0),
          A: filled([dim, N], random, -8, -0.5),
          B: filled([batch, N, L], random, -1, 1),
          C: filled([batch, N, L], random, -1, 1),
          D: filled([dim], random, -1, 1),
          z: filled(sequence, random, -2, 2),
          deltaBias: filled([dim], random, -1, 0),
        },
        options: { deltaSoftplus: true },
      };
    case 'lti-ssm':
      return {
        family: 'lti-ssm',
        inputs: {
          Abar: filled([dim, N], random, 0.5, 0.999),
          Bbar: filled([dim, N], random, -0.1, 0.1),
          C: filled([dim, N], random, -1, 1),
          D: filled([dim], random, -1, 1),
          u: filled(sequence, random, -1, 1),
        },
        options: {},
      };
    case 'ssd': {
      const H = c.heads ?? 1;
      const P = dim / H;
      const sequences = c.packed ?? 1;
      // Sequence ids 0 … packed−1 in equal runs along each row.
      const seqIdx = { data: Float32Array.from({ length: batch * L }, (_, i) => Math.floor(((i % L) * sequences) / Math.max(1, L))), shape: [batch, L] };
      return {
        family: 'ssd',
        inputs: {
          x: filled([batch, L, H, P], random, -1, 1),
          dt: filled([batch, L, H], random, -4, 0),
          A: filled([H], random, -8, -0.5),
          B: filled([batch, L, 1, N], random, -1, 1),
          C: filled([batch, L, 1, N], random, -1, 1),
          D: filled([H], random, -1, 1),
          z: filled([batch, L, H, P], random, -2, 2),
          dtBias: filled([H], random, -1, 0),
          ...(sequences > 1 && { seqIdx }),
        },
        options: { dtSoftplus: true },
      };
    }
  }
}
