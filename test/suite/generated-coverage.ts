/**
 * Measures how often the cases of a property cell reach the bug classes that generated inputs
 * must reach without fixtures: grouped B/C with G ≥ 2 and dim/G ≥ 2, delta past float32 exp's
 * overflow under softplus, and lengths of three or more chunks with a ragged tail. It samples
 * exactly what a cell's fast-check run draws (fc.sample gives the runs of fc.check for a seed).
 *
 *   npx tsx test/suite/generated-coverage.ts [seeds=250] [property=conformance]
 */
import fc from 'fast-check';
import type { FamilyName, Problem } from '../../spec/families.ts';
import { CHUNK_SIZES } from '../../suite/arbitraries.ts';
import { PROPERTIES, type PropertyCase } from '../../suite/properties/index.ts';
import type { PropertyName } from '../../suite/results.ts';
import { MODES } from '../../suite/settings.ts';

/** Largest float32 x whose exp is finite in float32 (exp(88.7228…) ≈ 3.40e38). */
const EXP_OVERFLOW_F32 = 88.72283935546875;

/** Shares (0…1) of a cell's cases in each bug class, over `cases` cases, and of cells with at least one such case. */
export interface Coverage {
  readonly cases: number;
  readonly cells: number;
  /** selective-scan: a grouped B or C with G ≥ 2 groups of dim/G ≥ 2 channels, L ≥ 1. */
  readonly groupedShare: number;
  /** selective-scan: deltaSoftplus with some delta + deltaBias past float32 exp's overflow. */
  readonly expOverflowShare: number;
  /** Per chunk size c: L > 2c (a third chunk exists) and L not a multiple of c. */
  readonly chunkCrossingShare: Readonly<Record<number, number>>;
  /** The same three, as the share of cells (seeds) with at least one such case. */
  readonly cellsGrouped: number;
  readonly cellsExpOverflow: number;
  readonly cellsChunkCrossing: Readonly<Record<number, number>>;
}

/** Whether a selective-scan case has a grouped B or C with G ≥ 2 and dim/G ≥ 2 (and anything to compute). */
export function hasWideGroups(c: PropertyCase<FamilyName>): boolean {
  const { request } = c;
  const { dim, groups = 1, batch, length } = request.dims;
  const grouped = request.projections?.B === 'grouped' || request.projections?.C === 'grouped';
  return grouped && groups >= 2 && dim / groups >= 2 && batch * length > 0;
}

/** Whether a selective-scan case applies softplus to some delta + deltaBias past float32 exp's overflow. */
export function hasExpOverflow(c: PropertyCase<FamilyName>): boolean {
  if (c.problem.family !== 'selective-scan') return false;
  const { inputs, options } = c.problem as unknown as Problem<'selective-scan'>;
  if (!options.deltaSoftplus) return false;
  const [, dim, L] = inputs.delta.shape;
  return inputs.delta.data.some((v, i) => Math.fround(v + (inputs.deltaBias?.data[Math.floor(i / L) % dim] ?? 0)) > EXP_OVERFLOW_F32);
}

/** Whether L spans three or more chunks of c with a partial last one. */
export function crossesChunks(length: number, chunk: number): boolean {
  return length > 2 * chunk && length % chunk !== 0;
}

/** The cases of one cell (family × property) of `runs` runs for each seed, in quick mode by default. */
export function cellCases(family: FamilyName, seeds: readonly number[], property: PropertyName = 'conformance', runs: number = MODES.quick.runs, maxLength: number = MODES.quick.maxLength): PropertyCase<FamilyName>[] {
  const definition = PROPERTIES.find((p) => p.name === property);
  if (definition === undefined) throw new RangeError(`property: expected one of ${PROPERTIES.map((p) => p.name).join(', ')}, got ${property}`);
  return seeds.flatMap((seed) => fc.sample(definition.arbitrary(family, { maxLength }), { numRuns: runs, seed }));
}

/** The coverage of a family's cell over seeds 1…seedCount. */
export function measureCoverage(family: FamilyName, seedCount: number, property: PropertyName = 'conformance'): Coverage {
  const cells = Array.from({ length: seedCount }, (_, i) => cellCases(family, [i + 1], property));
  const cases = cells.flat();
  const share = (predicate: (c: PropertyCase<FamilyName>) => boolean) => cases.filter(predicate).length / cases.length;
  const cellShare = (predicate: (c: PropertyCase<FamilyName>) => boolean) => cells.filter((cell) => cell.some(predicate)).length / cells.length;
  const crossing = (size: number) => (k: PropertyCase<FamilyName>) => crossesChunks(k.request.dims.length, size);
  return {
    cases: cases.length,
    cells: cells.length,
    groupedShare: share(hasWideGroups),
    expOverflowShare: share(hasExpOverflow),
    chunkCrossingShare: Object.fromEntries(CHUNK_SIZES.map((c) => [c, share(crossing(c))])),
    cellsGrouped: cellShare(hasWideGroups),
    cellsExpOverflow: cellShare(hasExpOverflow),
    cellsChunkCrossing: Object.fromEntries(CHUNK_SIZES.map((c) => [c, cellShare(crossing(c))])),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const seedCount = Number(process.argv[2] ?? 250);
  const property = (process.argv[3] ?? 'conformance') as PropertyName;
  const percent = (x: number) => `${(100 * x).toFixed(1)} %`;
  console.log(`quick mode (${MODES.quick.runs} runs per cell, L ≤ ${MODES.quick.maxLength}), ${property} cell, seeds 1…${seedCount}`);
  for (const family of ['prefix-sum', 'linear-recurrence', 'selective-scan', 'lti-ssm'] as const) {
    const c = measureCoverage(family, seedCount, property);
    const both = (cases: number, cells: number) => `${percent(cases)} of cases, ${percent(cells)} of cells`;
    console.log(`${family} (${c.cases} cases in ${c.cells} cells):`);
    for (const size of CHUNK_SIZES) console.log(`  L > 2·${size}, not a multiple of ${size}: ${both(c.chunkCrossingShare[size], c.cellsChunkCrossing[size])}`);
    if (family === 'selective-scan') {
      console.log(`  grouped B/C, G ≥ 2 and dim/G ≥ 2: ${both(c.groupedShare, c.cellsGrouped)}`);
      console.log(`  softplus of delta past float32 exp overflow: ${both(c.expOverflowShare, c.cellsExpOverflow)}`);
    }
  }
}
