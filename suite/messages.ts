/** Human-readable accounts of cell results, shared by the vitest integration, the CLI and reports. */
import type { CellResult } from './results.ts';

/** A multi-line account of a failing cell: what failed, the shrunk counterexample, how to replay it. */
export function describeCellFailure(cell: CellResult): string {
  const lines = [`${cell.implementation} · ${cell.family} · ${cell.property}: ${cell.outcome}`];
  if (cell.outcome === 'unexpected-pass') {
    lines.push(`listed as an expected failure (${cell.reason ?? 'no reason'}) but it passed ${cell.runs} runs: remove the entry`);
  } else if (cell.reason !== undefined && cell.counterexample === undefined) {
    lines.push(cell.reason);
  }
  const c = cell.counterexample;
  if (c !== undefined) {
    lines.push(c.message);
    const { family, regime, dims, options, optionalInputs, projections } = c.request;
    lines.push(
      `counterexample (after ${c.shrinks} shrinks): ${family}, regime ${regime}, batch ${dims.batch}, dim ${dims.dim}, L ${dims.length}` +
        `${dims.stateSize !== undefined && dims.stateSize > 1 ? `, N ${dims.stateSize}` : ''}, options ${JSON.stringify(options)}` +
        `${optionalInputs ? `, inputs ${JSON.stringify(optionalInputs)}` : ''}${projections ? `, B/C ${projections.B}/${projections.C}` : ''}` +
        `, value seed ${c.valueSeed}${Object.keys(c.parameters).length > 0 ? `, ${JSON.stringify(c.parameters)}` : ''}`,
    );
    if (c.worst !== undefined) {
      const w = c.worst;
      lines.push(`worst element ${w.output}[${w.coordinates.join(', ')}]: expected ${w.expected}, got ${w.got}, |error| ${w.error}, bound ${w.bound}${Number.isNaN(w.e) ? '' : `, e ${w.e}`}`);
    }
    if (c.path !== '') lines.push(`replay: fast-check seed ${c.seed}, path "${c.path}" — ${c.replay}`);
    else lines.push(`replay: ${c.replay}`);
    if (c.file !== undefined) {
      lines.push(
        c.caseReplay !== undefined
          ? `inputs, expected and actual outputs: ${c.file} — replay exactly this case: ${c.caseReplay}`
          : `the case's inputs, expected and actual outputs (before the property's own transform; replay it with the command above): ${c.file}`,
      );
    }
  }
  return lines.join('\n');
}
