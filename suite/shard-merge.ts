/**
 * The merge of a sharded run's reports into the report of one unsharded run (`scan-conformance
 * merge`, `check --jobs N`): the same cells in the same order, a fixtures cell's parts joined into
 * the cell the whole replay gives (counts added, the first failure, decline and reasons in case
 * order), accuracy aggregated from every unit's statistics, the summary and verdict computed as
 * check computes them. Shards that do not belong together (another run's plan, seed, settings,
 * code revision or shard count, an index twice) are refused with what differs; missing shards are
 * refused too, or, when asked (a crashed --jobs child, --allow-incomplete), their cells become
 * error cells that say so: never a pass.
 */
import { type CellResult, type ConformanceReport, type ImplementationReport, type PlannedUnit, type ShardRecord, type UnitResult } from './results.ts';
import { errorGrowthOfStats, mergeAccuracy, mergeGradientAccuracy, mergeHistograms } from './accuracy.ts';
import { assembleReport } from './conformance-run.ts';
import { partSuffix } from './runner.ts';

/** Shards that cannot be merged, with the reason. */
export class ShardMergeError extends Error {
  override readonly name = 'ShardMergeError';
}

/** One shard's report and where it came from (for messages). */
export interface ShardInput {
  readonly file: string;
  readonly report: ConformanceReport;
}

/** Options of mergeShards. */
export interface MergeOptions {
  /**
   * Why each missing shard (by index) is missing: its units become error cells with that reason.
   * Without an entry, a missing shard is refused.
   */
  readonly missing?: ReadonlyMap<number, string>;
  /**
   * Whether a later part's counterexample file can be renamed to the cell's own name (it is on this
   * machine): then the merged report names it so, as one run would, and `renames` lists it. Default: never.
   */
  readonly canRename?: (file: string) => boolean;
}

/** A counterexample file to rename: a later part's file becomes the cell's (runner.ts partSuffix). */
export interface CounterexampleRename {
  readonly from: string;
  readonly to: string;
}

/** The merged report and the counterexample files it names under their unsharded names. */
export interface MergedRun {
  readonly report: ConformanceReport;
  readonly renames: readonly CounterexampleRename[];
}

/** The shard record of a report, or a refusal naming the file. */
function recordOf(input: ShardInput): ShardRecord {
  const record = input.report.shard;
  if (record === undefined || typeof record !== 'object' || !Array.isArray(record.plan) || !Array.isArray(record.units)) {
    throw new ShardMergeError(`${input.file}: expected the report.json of one shard (written by check --shard i/n), got a report without a shard record`);
  }
  return record;
}

/** The first field (dotted path) where two values differ, or undefined. */
function firstDifference(a: unknown, b: unknown, at: string): { path: string; a: unknown; b: unknown } | undefined {
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    for (const key of keys) {
      const d = firstDifference((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], at === '' ? key : `${at}.${key}`);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  return JSON.stringify(a) === JSON.stringify(b) ? undefined : { path: at, a, b };
}

/** Checks that the shards belong to one run; returns them by index. */
function checkShards(inputs: readonly ShardInput[], options: MergeOptions): Map<number, ShardInput & { record: ShardRecord }> {
  if (inputs.length === 0) throw new ShardMergeError('expected the report.json of every shard of a run, got none');
  const first = { ...inputs[0], record: recordOf(inputs[0]) };
  const byIndex = new Map<number, ShardInput & { record: ShardRecord }>();
  for (const input of inputs) {
    const record = recordOf(input);
    const shown = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v));
    if (record.count !== first.record.count) {
      throw new ShardMergeError(`${input.file}: expected a shard of ${first.record.count} (as ${first.file}), got shard ${record.index}/${record.count}`);
    }
    const difference = firstDifference(first.record.run, record.run, '');
    if (difference !== undefined) {
      throw new ShardMergeError(`${input.file}: expected the run of ${first.file}, got another: ${difference.path} is ${shown(difference.b)} there, ${shown(difference.a)} in ${first.file}`);
    }
    if (record.planHash !== first.record.planHash) {
      throw new ShardMergeError(`${input.file}: expected the split of ${first.file} (plan ${first.record.planHash.slice(0, 12)}, by ${first.record.costSource}), got plan ${record.planHash.slice(0, 12)} (by ${record.costSource}): the shards were split differently (another --timings file?)`);
    }
    if (!Number.isSafeInteger(record.index) || record.index < 1 || record.index > record.count) {
      throw new ShardMergeError(`${input.file}: expected a shard index in 1..${record.count}, got ${record.index}`);
    }
    const twin = byIndex.get(record.index);
    if (twin !== undefined) throw new ShardMergeError(`${input.file}: expected each shard once, got shard ${record.index}/${record.count} twice (also ${twin.file})`);
    const expected = record.plan.filter((u) => u.shard === record.index).map((u) => u.id);
    const got = record.units.map((u) => u.id);
    if (JSON.stringify(expected) !== JSON.stringify(got)) {
      throw new ShardMergeError(`${input.file}: expected the ${expected.length} units the plan gives shard ${record.index}, got ${got.length} others (a report edited or cut short?)`);
    }
    byIndex.set(record.index, { ...input, record });
  }
  const absent = Array.from({ length: first.record.count }, (_, i) => i + 1).filter((i) => !byIndex.has(i) && !options.missing?.has(i));
  if (absent.length > 0) {
    throw new ShardMergeError(
      `expected all ${first.record.count} shards of the run, got ${byIndex.size}: shard${absent.length === 1 ? '' : 's'} ${absent.join(', ')} missing (a merge without every shard would pass cells that never ran)`,
    );
  }
  return byIndex;
}

/** A cell that never ran because its shard is missing. */
function missingCell(unit: PlannedUnit, reason: string): CellResult {
  return {
    implementation: unit.implementation,
    family: unit.family!,
    property: unit.property!,
    ...(unit.regime !== undefined && { regime: unit.regime }),
    ...(unit.options !== undefined && { options: unit.options }),
    outcome: 'error',
    reason: `not run: ${reason}`,
    runs: 0,
    declined: 0,
    durationMs: 0,
  };
}

/**
 * The parts of a fixtures cell (in case order) as the whole replay's cell: runFixtureCell and
 * runCell's rules over the added counts, the first failure and the first decline reason. `errorAt`
 * is the first part that ended in error: the whole replay would have stopped there.
 */
export function mergeFixtureParts(parts: readonly CellResult[]): { cell: CellResult; errorAt?: number } {
  const durationMs = parts.reduce((n, p) => n + p.durationMs, 0);
  const errorAt = parts.findIndex((p) => p.outcome === 'error');
  if (errorAt >= 0) return { cell: { ...parts[errorAt], durationMs }, errorAt };
  const [first] = parts;
  const head = {
    implementation: first.implementation,
    family: first.family,
    property: first.property,
    ...(first.regime !== undefined && { regime: first.regime }),
    ...(first.options !== undefined && { options: first.options }),
  };
  const runs = parts.reduce((n, p) => n + p.runs, 0);
  const declined = parts.reduce((n, p) => n + p.declined, 0);
  const declineReason = parts.find((p) => p.declineReason !== undefined)?.declineReason;
  const notRunCount = parts.reduce((n, p) => n + (p.notRun ?? 0), 0);
  const reasons = [...new Set(parts.flatMap((p) => (p.notRunReason === undefined ? [] : p.notRunReason.split('; '))))];
  const notRun = notRunCount > 0 ? { notRun: notRunCount, ...(reasons.length > 0 && { notRunReason: reasons.join('; ') }) } : {};
  if (runs === 0 && declined === 0) {
    const reason = notRunCount > 0 ? `${notRunCount} fixtures not run: ${reasons.join('; ')}` : 'no fixture of this family matches the cell';
    return { cell: { ...head, outcome: 'not-applicable', reason, runs: 0, declined: 0, ...notRun, durationMs } };
  }
  if (runs === 0) return { cell: { ...head, outcome: 'declined', runs: 0, declined, ...(declineReason && { declineReason }), ...notRun, durationMs } };
  const expectedPart = parts.find((p) => p.outcome === 'expected-failure' || p.outcome === 'unexpected-pass');
  const counterexample = parts.find((p) => p.counterexample !== undefined)?.counterexample;
  const held = counterexample === undefined;
  const outcome = expectedPart !== undefined ? (held ? 'unexpected-pass' : 'expected-failure') : held ? 'pass' : 'fail';
  return {
    cell: {
      ...head,
      outcome,
      runs,
      declined,
      ...(declineReason && { declineReason }),
      ...notRun,
      ...(counterexample && { counterexample }),
      ...(outcome === 'fail' && counterexample && { reason: counterexample.message }),
      ...(expectedPart?.reason !== undefined && { reason: expectedPart.reason }),
      durationMs,
    },
  };
}

/** The counterexample of a cell under its unsharded file name, when a later part's failure won. */
function withUnshardedFile(cell: CellResult, winningPart: number | undefined, renames: CounterexampleRename[], canRename: (file: string) => boolean): CellResult {
  const c = cell.counterexample;
  if (c?.file === undefined || winningPart === undefined || winningPart <= 1 || !canRename(c.file)) return cell;
  const suffix = `${partSuffix(winningPart)}.safetensors`;
  if (!c.file.endsWith(suffix)) return cell;
  const plain = `${c.file.slice(0, -suffix.length)}.safetensors`;
  renames.push({ from: c.file, to: plain });
  return { ...cell, counterexample: { ...c, file: plain, ...(c.caseReplay !== undefined && { caseReplay: c.caseReplay.split(c.file).join(plain) }) } };
}

/** Merges the reports of a sharded run into the report of the whole run. */
export function mergeShards(inputs: readonly ShardInput[], options: MergeOptions = {}): MergedRun {
  const shards = checkShards(inputs, options);
  const some = [...shards.values()].sort((a, b) => a.record.index - b.record.index);
  const record = some[0]?.record ?? recordOf(inputs[0]);
  const { run } = record;
  const renames: CounterexampleRename[] = [];
  const unitResults = new Map<string, { result: UnitResult; implementation: ImplementationReport }>();
  for (const shard of some) {
    for (const result of shard.record.units) {
      const unit = shard.record.plan.find((u) => u.id === result.id);
      const implementation = shard.report.implementations.find((i) => i.name === unit?.implementation);
      if (unit === undefined || implementation === undefined) throw new ShardMergeError(`${shard.file}: expected a report of ${unit?.implementation ?? result.id} for unit ${result.id}, got none`);
      unitResults.set(result.id, { result, implementation });
    }
  }
  const missingReason = (unit: PlannedUnit) => options.missing?.get(unit.shard) ?? `shard ${unit.shard}/${record.count} did not report`;

  const implementations: ImplementationReport[] = [];
  for (const { name, precision } of record.implementations) {
    const units = record.plan.filter((u) => u.implementation === name);
    const reports = [...new Set(units.flatMap((u) => unitResults.get(u.id)?.implementation ?? []))];
    const cells: CellResult[] = [];
    const accuracy: UnitResult[] = [];
    for (let i = 0; i < units.length; ) {
      // A cell's units: one, or the consecutive parts of a fixtures cell.
      let j = i + 1;
      while (j < units.length && units[j].cell !== undefined && units[j].cell === units[i].cell) j++;
      const group = units.slice(i, j);
      i = j;
      const parts: { cell: CellResult; result?: UnitResult; part?: number }[] = [];
      for (const unit of group) {
        const found = unitResults.get(unit.id);
        if (unit.cell === undefined) {
          if (found !== undefined) accuracy.push(found.result);
          continue;
        }
        if (found === undefined) {
          parts.push({ cell: missingCell(unit, missingReason(unit)), ...(unit.part && { part: unit.part.index }) });
          continue;
        }
        // An implementation unavailable (or crashed in set-up) in every shard ran no cell, as in one
        // run; unavailable in one shard only (a busy device), the cells that shard had did not run.
        if (found.result.cell === undefined) {
          if (!reports.some((r) => r.status === 'ok')) continue;
          const why = found.implementation.statusReason === undefined ? '' : `: ${found.implementation.statusReason}`;
          parts.push({ cell: missingCell(unit, `${name} was ${found.implementation.status} in shard ${unit.shard}/${record.count}${why}`), ...(unit.part && { part: unit.part.index }) });
          continue;
        }
        const cell = found.implementation.cells[found.result.cell];
        if (cell === undefined) throw new ShardMergeError(`unit ${unit.id}: expected cell ${found.result.cell} of ${name} in its shard's report, got none`);
        parts.push({ cell, result: found.result, ...(unit.part && { part: unit.part.index }) });
      }
      if (parts.length === 0) continue;
      if (parts.length === 1 && group[0].part === undefined) {
        cells.push(parts[0].cell);
        if (parts[0].result) accuracy.push(parts[0].result);
        continue;
      }
      const { cell, errorAt } = mergeFixtureParts(parts.map((p) => p.cell));
      const winning = cell.outcome === 'error' ? undefined : parts.find((p) => p.cell.counterexample !== undefined)?.part;
      cells.push(withUnshardedFile(cell, winning, renames, options.canRename ?? (() => false)));
      // The whole replay stops at a part's error: the parts after it measured nothing.
      for (const p of errorAt === undefined ? parts : parts.slice(0, errorAt + 1)) if (p.result) accuracy.push(p.result);
    }
    implementations.push(mergeImplementation(name, precision, reports, cells, accuracy, units.every((u) => !unitResults.has(u.id)) ? missingReason(units[0]) : undefined));
  }
  // Implementations whose module failed to load are reported by every shard: once here, as one run does.
  for (const shard of some) {
    for (const implementation of shard.report.implementations) {
      if (!record.implementations.some((i) => i.name === implementation.name) && !implementations.some((i) => i.name === implementation.name)) implementations.push(implementation);
    }
  }
  const assembled = assembleReport(implementations, run.settings, run.requireAvailable);
  const last = some.reduce((a, b) => (a.report.createdAt >= b.report.createdAt ? a : b));
  return { report: { ...assembled, createdAt: last.report.createdAt, machine: some[0].report.machine }, renames };
}

/** One implementation's report from its shards' reports, its cells in run order and the accuracy of its units. */
function mergeImplementation(
  name: string,
  precision: ImplementationReport['precision'],
  reports: readonly ImplementationReport[],
  cells: readonly CellResult[],
  units: readonly UnitResult[],
  allMissing: string | undefined,
): ImplementationReport {
  const [first] = reports;
  const head = {
    name,
    precision: first?.precision ?? precision,
    ...(first?.accumulation && { accumulation: first.accumulation }),
    ...(first?.description && { description: first.description }),
    errorModels: first?.errorModels ?? {},
  };
  const reasons = (status: ImplementationReport['status']) => [...new Set(reports.filter((r) => r.status === status).map((r) => r.statusReason ?? ''))].join('; ');
  const status: ImplementationReport['status'] = allMissing !== undefined || reports.some((r) => r.status === 'crashed') ? 'crashed' : reports.some((r) => r.status === 'unavailable') ? 'unavailable' : 'ok';
  const statusReason = allMissing !== undefined ? `not run: ${allMissing}` : status === 'ok' ? undefined : reasons(status);
  const durationMs = reports.reduce((n, r) => n + r.durationMs, 0);
  const environment = reports.find((r) => Object.keys(r.environment).length > 0)?.environment ?? {};
  if (status !== 'ok' && cells.length === 0) {
    return { ...head, environment, status, statusReason: statusReason ?? '', cells: [], accuracy: [], growth: [], eHistogram: {}, durationMs };
  }
  const accuracy = mergeAccuracy(units.map((u) => u.accuracy));
  const gradientAccuracy = mergeGradientAccuracy(units.map((u) => u.gradientAccuracy));
  return {
    ...head,
    environment,
    status,
    ...(statusReason && { statusReason }),
    cells,
    accuracy,
    ...(gradientAccuracy.length > 0 && { gradientAccuracy }),
    growth: errorGrowthOfStats(accuracy),
    eHistogram: mergeHistograms(units.map((u) => u.eHistogram)),
    durationMs,
  };
}
