/** The driver of the wrong-kernel tests: a quick run of some cells of one family, generated cases only, the default seed. */
import type { FamilyName } from '../../spec/families.ts';
import type { ScanImplementation } from '../../spec/implementation.ts';
import type { CellResult, PropertyName } from '../../suite/results.ts';
import { runImplementation } from '../../suite/runner.ts';
import { MODES } from '../../suite/settings.ts';

/** A quick run of some cells of `family` without fixtures (what `check --no-fixtures` does), with the default seed; `limits` shortens it further. */
export async function quickRun(
  implementation: ScanImplementation,
  family: FamilyName,
  properties: readonly PropertyName[],
  limits: { readonly runs?: number; readonly maxLength?: number } = {},
): Promise<readonly CellResult[]> {
  const report = await runImplementation(implementation, { runs: limits.runs ?? MODES.quick.runs, maxLength: limits.maxLength ?? MODES.quick.maxLength, families: [family], properties });
  return report.cells;
}

/** The length L of a failing cell's shrunk counterexample. */
export function lengthOf(cell: CellResult | undefined): number | undefined {
  return cell?.counterexample?.request.dims.length;
}
