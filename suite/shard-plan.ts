/**
 * The split of a conformance run into shards (`check --shard i/n`, `check --jobs N`): the run's
 * work units (one per cell, implementation × family × property as the runner plans them; a
 * fixtures cell cut into parts by case), each with a cost, dealt to n shards so that their costs
 * are close. The split depends only on what every shard computes alike (the implementations, the
 * settings, the fixtures' manifest, the timings file), so every shard finds the same plan, and its
 * hash lets a merge tell shards of one run from shards of several.
 */
import { createHash } from 'node:crypto';
import type { FamilyName } from '../spec/families.ts';
import { hasStateSize, projectionInputNames } from '../spec/families/index.ts';
import type { Precision } from '../spec/precision.ts';
import type { ScanImplementation } from '../spec/implementation.ts';
import type { FixtureSource } from './fixture-replay.ts';
import { implementationCells } from './lifecycle.ts';
import type { ConformanceReport, PlannedUnit, PropertyName } from './results.ts';
import type { CellSlice, RunOptions } from './runner.ts';
import { MODES } from './settings.ts';

export { parseShardSpec, type ShardSpec } from './shard-spec.ts';

/** A planned unit with the cost it was dealt by. */
export interface CostedUnit extends PlannedUnit {
  readonly cost: number;
}

/** The whole split. */
export interface ShardPlan {
  readonly count: number;
  readonly units: readonly CostedUnit[];
  readonly implementations: readonly { readonly name: string; readonly precision: Precision }[];
  readonly hash: string;
  readonly costSource: string;
}

/**
 * Estimated milliseconds of one generated case on a plain float32 kernel, by what the family's
 * cases hold (state, B/C projections), at the quick mode's longest L; gradient properties cost
 * about three runs. Coarse by design: an earlier report's timings (`--timings`) replace it.
 */
function propertyRunCost(family: FamilyName, property: PropertyName, maxLength: number): number {
  const size = (hasStateSize(family) ? 2.5 : 1) * (projectionInputNames(family).length > 0 ? 4 : 1);
  return 10 * size * (Math.max(maxLength, 8) / MODES.quick.maxLength) * (property.startsWith('vjp') ? 3 : 1);
}

/** Estimated milliseconds of one fixture case of `bytes` bytes (loading, the run, the comparison). */
function fixtureCaseCost(bytes: number): number {
  return 2 + bytes / 5000;
}

/** Estimated milliseconds of an implementation's set-up and dispose, paid by every shard that runs any of its cells. */
const SETUP_COST = 200;

/** The key of a cell in an earlier report's timings. */
function timingKey(implementation: string, family: string, property: string, regime?: string, options?: Readonly<Record<string, boolean>>): string {
  return JSON.stringify([implementation, family, property, regime ?? null, options ?? null]);
}

/** An earlier report's cell durations and per-implementation set-up overhead, by cell. */
export interface Timings {
  readonly source: string;
  readonly cells: ReadonlyMap<string, number>;
  readonly setup: ReadonlyMap<string, number>;
}

/** The timings of an earlier report (merged, unsharded or a shard's: a shard's fixture parts add up). */
export function timingsOf(report: ConformanceReport, source: string): Timings {
  const cells = new Map<string, number>();
  const setup = new Map<string, number>();
  for (const implementation of report.implementations) {
    let inCells = 0;
    for (const c of implementation.cells) {
      const key = timingKey(c.implementation, c.family, c.property, c.regime, c.options);
      cells.set(key, (cells.get(key) ?? 0) + c.durationMs);
      inCells += c.durationMs;
    }
    setup.set(implementation.name, Math.max(implementation.durationMs - inCells, 0));
  }
  return { source, cells, setup };
}

/** Everything a plan depends on. */
export interface PlanInput {
  readonly implementations: readonly ScanImplementation[];
  readonly runOptions: RunOptions;
  readonly count: number;
  readonly timings?: Timings;
}

/**
 * The plan of a run: its units in run order (implementation, then cell, then part), each with a
 * cost and a shard. A fixtures cell is cut into up to n parts of contiguous cases with about equal
 * bytes (a source without sizes keeps it whole). Units are dealt greedily, the costliest first, to
 * the shard whose load (plus the implementation's set-up, when the shard does not set it up yet)
 * would be lowest, ties to the lower shard: deterministic for the same input.
 */
export async function planShards(input: PlanInput): Promise<ShardPlan> {
  const { runOptions, count, timings } = input;
  const runs = runOptions.runs ?? MODES.quick.runs;
  const maxLength = runOptions.maxLength ?? MODES.quick.maxLength;
  const sizes = new Map<FamilyName, readonly number[]>();
  const sizesOf = async (family: FamilyName): Promise<readonly number[] | undefined> => {
    const source: FixtureSource | undefined = runOptions.fixtures;
    if (source?.sizes === undefined) return undefined;
    if (!sizes.has(family)) sizes.set(family, await source.sizes(family));
    return sizes.get(family);
  };

  const drafts: (Omit<CostedUnit, 'shard'> & { readonly estimate: number; readonly measured?: number })[] = [];
  for (const implementation of input.implementations) {
    const name = implementation.name;
    const cells = implementationCells(implementation, runOptions);
    if (cells.length === 0) {
      drafts.push({ id: `${name}`, implementation: name, cost: 0, estimate: 0 });
      continue;
    }
    for (const [index, plan] of cells.entries()) {
      const head = {
        implementation: name,
        cell: index,
        family: plan.family,
        property: plan.property,
        ...(plan.only?.regime !== undefined && { regime: plan.only.regime }),
        ...(plan.only?.options !== undefined && { options: plan.only.options }),
      };
      const id = `${name}|${index}|${plan.family}|${plan.property}`;
      const measured = timings?.cells.get(timingKey(name, plan.family, plan.property, head.regime, head.options));
      const caseSizes = plan.property === 'fixtures' ? await sizesOf(plan.family) : undefined;
      if (caseSizes === undefined) {
        const estimate = plan.property === 'fixtures' ? 0 : runs * propertyRunCost(plan.family, plan.property, maxLength);
        drafts.push({ id, ...head, cost: 0, estimate, ...(measured !== undefined && { measured }) });
        continue;
      }
      const caseCosts = caseSizes.map(fixtureCaseCost);
      const total = caseCosts.reduce((a, b) => a + b, 0);
      for (const part of cutIntoParts(caseCosts, Math.min(count, caseCosts.length))) {
        const estimate = part.cost;
        const share = total === 0 ? 1 / part.count : part.cost / total;
        drafts.push({
          id: part.count === 1 ? id : `${id}#${part.index}/${part.count}`,
          ...head,
          ...(part.count > 1 && { part: { index: part.index, count: part.count, start: part.start, end: part.end } }),
          cost: 0,
          estimate,
          ...(measured !== undefined && { measured: measured * share }),
        });
      }
    }
  }

  // Measured and estimated costs on one scale: estimates scaled by the median ratio of the units that have both.
  const ratios = drafts.filter((d) => d.measured !== undefined && d.estimate > 0).map((d) => d.measured! / d.estimate).sort((a, b) => a - b);
  const scale = ratios.length === 0 ? 1 : ratios[Math.floor(ratios.length / 2)];
  const costed = drafts.map(({ estimate, measured, ...unit }) => ({ ...unit, cost: measured ?? estimate * scale }));
  const setupCost = (name: string) => timings?.setup.get(name) ?? SETUP_COST * (ratios.length === 0 ? 1 : scale);

  const order = costed.map((_, i) => i).sort((a, b) => costed[b].cost - costed[a].cost || a - b);
  const loads = new Array<number>(count).fill(0);
  const present = Array.from({ length: count }, () => new Set<string>());
  const shardOf = new Array<number>(costed.length);
  for (const i of order) {
    const unit = costed[i];
    let best = 0;
    let bestLoad = Number.POSITIVE_INFINITY;
    for (let s = 0; s < count; s++) {
      const load = loads[s] + unit.cost + (present[s].has(unit.implementation) ? 0 : setupCost(unit.implementation));
      if (load < bestLoad) [best, bestLoad] = [s, load];
    }
    loads[best] = bestLoad;
    present[best].add(unit.implementation);
    shardOf[i] = best + 1;
  }
  const units = costed.map((unit, i) => ({ ...unit, shard: shardOf[i] }));
  const implementations = input.implementations.map((i) => ({ name: i.name, precision: i.precision }));
  const costSource = timings === undefined ? 'case sizes' : `the timings of ${timings.source}`;
  const hash = createHash('sha256')
    .update(JSON.stringify({ count, implementations, units: units.map(({ cost: _, ...u }) => u), costs: units.map((u) => u.cost) }))
    .digest('hex');
  return { count, units, implementations, hash, costSource };
}

/** Contiguous parts of a list of case costs, `parts` of them with about equal cost each (none empty). */
function cutIntoParts(costs: readonly number[], parts: number): { index: number; count: number; start: number; end: number; cost: number }[] {
  if (parts <= 1) return [{ index: 1, count: 1, start: 0, end: costs.length, cost: costs.reduce((a, b) => a + b, 0) }];
  const total = costs.reduce((a, b) => a + b, 0);
  const out: { index: number; count: number; start: number; end: number; cost: number }[] = [];
  let start = 0;
  let sum = 0;
  for (let p = 1; p <= parts; p++) {
    // Each part takes cases until it reaches its share of the cost, leaving one case for every part after it.
    const target = (total * p) / parts;
    let end = start;
    let cost = 0;
    while (end < costs.length - (parts - p) && (end === start || sum + costs[end] <= target || p === parts)) {
      sum += costs[end];
      cost += costs[end];
      end++;
    }
    out.push({ index: p, count: parts, start, end, cost });
    start = end;
  }
  return out;
}

/** The slices of each implementation a shard runs, in plan order. */
export function slicesOfShard(plan: ShardPlan, shard: number): Map<string, CellSlice[]> {
  const out = new Map<string, CellSlice[]>();
  for (const unit of plan.units) {
    if (unit.shard !== shard) continue;
    const list = out.get(unit.implementation) ?? [];
    if (unit.cell !== undefined) list.push({ cell: unit.cell, ...(unit.part !== undefined && { part: unit.part }) });
    out.set(unit.implementation, list);
  }
  return out;
}
