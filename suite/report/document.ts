/**
 * The content of a report, independent of format: headings, paragraphs, tables, lists, code and
 * plot slots. report.md and report.html render the same document, so they always say the same.
 */
import { FAMILY_NAMES } from '../../spec/families.ts';
import { growthReading, unresolvedShare, weakChecks, WEAK_CHECK_SHARE, type WeakCheck } from '../accuracy.ts';
import { MAMBA_ALLCLOSE } from '../compare.ts';
import { OUTCOMES } from '../conformance.ts';
import { describeCellFailure } from '../messages.ts';
import { FAILING_OUTCOMES, PROPERTY_NAMES, type CellResult, type ConformanceReport, type ImplementationReport, type Outcome, type RunSettings } from '../results.ts';
import { MIN_NORMAL } from '../../spec/precision.ts';
import type { BenchReading } from './bench.ts';
import { OUTCOME_LABEL, OUTCOME_SYMBOL, OUTCOME_WORD, formatDuration, formatNumber, formatPercent, outcomeCell, verdictText } from './format.ts';

/** One block of a report document. */
export type Block =
  | { readonly kind: 'heading'; readonly level: 1 | 2 | 3; readonly text: string }
  | { readonly kind: 'paragraph'; readonly text: string; readonly strong?: string }
  | { readonly kind: 'table'; readonly headers: readonly string[]; readonly rows: readonly (readonly string[])[]; readonly numeric?: readonly boolean[] }
  | { readonly kind: 'list'; readonly items: readonly string[] }
  | { readonly kind: 'code'; readonly text: string }
  /** Where the HTML report puts plots; Markdown leaves them out. */
  | { readonly kind: 'plots' };

/** Extra content of a report beyond the conformance run. */
export interface DocumentExtras {
  readonly bench?: BenchReading;
}

/** The verdict of a report in words with its symbol: 'PASS ✅' when nothing failed unexpectedly, else 'FAIL ❌'. */
export function reportVerdict(report: ConformanceReport): string {
  return verdictText(report.summary.unexpectedFailures === 0);
}

/** The one-line account of a report's cells (the verdict goes before it). */
export function summaryLine(report: ConformanceReport): string {
  const { summary } = report;
  const counts = OUTCOMES.filter((o) => summary.byOutcome[o] > 0).map((o) => `${summary.byOutcome[o]} ${OUTCOME_LABEL[o]}`);
  const failures = summary.unexpectedFailures === 0 ? 'no unexpected failure' : `${summary.unexpectedFailures} unexpected failure${summary.unexpectedFailures === 1 ? '' : 's'}`;
  const verdict = summary.nothingChecked === undefined ? failures : `${failures}: ${summary.nothingChecked}${report.settings.allowEmpty ? ' (allowed by --allow-empty)' : ''}`;
  return `${verdict} · ${summary.implementations} implementation${summary.implementations === 1 ? '' : 's'}, ${summary.cells} cell${summary.cells === 1 ? '' : 's'}${counts.length > 0 ? `: ${counts.join(', ')}` : ''}`;
}

/** A weak check as a list item: family, then the outputs or the gradient tensor, then its unresolved share. */
export function weakCheckText(check: WeakCheck): string {
  return `${check.family} ${check.gradient ? `gradient ${check.what}` : 'outputs'} (${formatPercent(check.share)})`;
}

/** Every implementation's weak checks, each as `<implementation>: <family> … (<share>)`. */
function weakCheckItems(report: ConformanceReport): string[] {
  return report.implementations.flatMap((i) => weakChecks(i).map((c) => `${i.name}: ${weakCheckText(c)}`));
}

/**
 * Per implementation with any, `<implementation>: <text>, <text>, …`: a command-line line names each
 * implementation once, since a run of several lists dozens of items.
 */
function groupedByImplementation(report: ConformanceReport, textsOf: (implementation: ImplementationReport) => readonly string[]): string[] {
  return report.implementations.flatMap((i) => {
    const texts = textsOf(i);
    return texts.length === 0 ? [] : [`${i.name}: ${texts.join(', ')}`];
  });
}

/**
 * The one line that says which passing checks were weak (bound ≥ |value| on most elements), for the
 * command line under the verdict; undefined when none was.
 */
export function weakCheckLine(report: ConformanceReport): string | undefined {
  const groups = groupedByImplementation(report, (i) => weakChecks(i).map(weakCheckText));
  if (groups.length === 0) return undefined;
  return `weak checks (the bound is at least |value| on most elements, so 0 or a wrong sign would pass there): ${groups.join('; ')}`;
}

/**
 * Every cell whose property search the cell time limit cut, each as `<implementation>: <family>
 * <property> (<runs> cases in <limit>)`: the cell's own limit and count, which a describeConformance
 * option may have set apart from the run's settings.
 */
function cutCellItems(report: ConformanceReport): string[] {
  return report.implementations.flatMap((i) => cutCellTexts(i).map((text) => `${i.name}: ${text}`));
}

/** An implementation's cut cells, each as `<family> <property> (<runs> cases in <limit>)`. */
function cutCellTexts(implementation: ImplementationReport): string[] {
  return implementation.cells.flatMap((c) => (c.cutAtTimeLimitMs === undefined ? [] : [`${c.family} ${c.property} (${c.runs} cases in ${formatDuration(c.cutAtTimeLimitMs)})`]));
}

/** How a run's cell time limit reads in a report: '2.0 min', or 'none'. */
function cellTimeLimitText(settings: RunSettings): string {
  return settings.cellTimeLimitMs > 0 ? formatDuration(settings.cellTimeLimitMs) : 'none';
}

/**
 * The one line that names the cells the cell time limit cut (they passed on fewer cases than
 * asked), for the command line under the verdict; undefined when none was cut.
 */
export function cutCellLine(report: ConformanceReport, raisedBy = '--cell-time-limit'): string | undefined {
  const groups = groupedByImplementation(report, cutCellTexts);
  if (groups.length === 0) return undefined;
  return `cut by the cell time limit (passed on fewer cases than asked; ${raisedBy} gives more): ${groups.join('; ')}`;
}

/** The progress line of a finished cell, as check and the browser page print it: `[done/total] implementation · family · property: outcome (runs …)`. */
export function cellProgressLine(cell: CellResult, done: number, total: number): string {
  const cut = cell.cutAtTimeLimitMs === undefined ? '' : `, cut by the ${formatDuration(cell.cutAtTimeLimitMs)} cell time limit`;
  return `[${done}/${Math.max(total, done)}] ${cell.implementation} · ${cell.family} · ${cell.property}${cell.regime ? ` [${cell.regime}]` : ''}: ${cell.outcome} (${cell.runs} runs${cut}, ${Math.round(cell.durationMs)} ms)`;
}

/** What the command line prints at the end of a run: the verdict with the summary line, then the weak checks' and the cut cells' lines when there are some. */
export function verdictLines(report: ConformanceReport): string {
  const notes = [weakCheckLine(report), cutCellLine(report)].filter((line): line is string => line !== undefined);
  return `${reportVerdict(report)} ${summaryLine(report)}\n${notes.map((line) => `${line}\n`).join('')}`;
}

/** Why a check is weak and what it still catches, after a list of weak checks. */
const WEAK_CHECK_MEANING =
  `On at least ${formatPercent(WEAK_CHECK_SHARE)} of their nonzero elements the bound is at least the reference's magnitude, so an output or a gradient of 0 or of the wrong sign would pass there: ` +
  `they catch NaN, ±Inf and errors larger than the values themselves, not rounding. ` +
  `The declared arithmetic's allowance is about as large as the values there: a narrow storage's rounding of inputs that many terms share (float16 angles of mamba3-siso), ` +
  `a storage that may flush subnormals (rule V charges its smallest normal number per operation), or cancellation (S or G far above |value|). ` +
  `spec/tolerance.md, "Metrics reported beside the verdict".`;

/** Builds the document of a report. */
export function reportDocument(report: ConformanceReport, extras: DocumentExtras = {}): Block[] {
  const s = report.settings;
  const blocks: Block[] = [
    { kind: 'heading', level: 1, text: 'scan-conformance report' },
    { kind: 'paragraph', strong: `${reportVerdict(report)} `, text: summaryLine(report) },
    {
      kind: 'paragraph',
      text:
        `scan-conformance ${report.tool.version}, spec ${report.specVersion}, ${report.createdAt}; ${s.deep ? 'deep' : 'quick'} mode: ${s.runs} runs per cell, seed ${s.seed}, cell time limit ${cellTimeLimitText(s)}; ` +
        `${ranFamiliesAndProperties(report)}; fixtures: ${fixturesText(s)}.`,
    },
    {
      kind: 'paragraph',
      text:
        `Legend: ${OUTCOMES.map(legendItem).join(' · ')}. ` +
        `e = |ŷ − y| / (u·S): error in units of the declared precision's roundoff u times the condition scale S; β: the bound on e; bound usage = error / bound (≤ 1 passes).`,
    },
    { kind: 'heading', level: 2, text: 'Summary' },
    {
      kind: 'table',
      headers: ['implementation', 'precision', 'status', ...OUTCOMES.map((o) => `${OUTCOME_LABEL[o]} ${OUTCOME_SYMBOL[o]}`), 'time'],
      numeric: [false, false, false, ...OUTCOMES.map(() => true), true],
      rows: report.implementations.map((i) => [
        i.name,
        i.accumulation ? `${i.precision} (accumulates in ${i.accumulation})` : i.precision,
        statusText(i),
        ...OUTCOMES.map((o) => String(i.cells.filter((c) => c.outcome === o).length)),
        formatDuration(i.durationMs),
      ]),
    },
  ];
  const weak = weakCheckItems(report);
  if (weak.length > 0) blocks.push({ kind: 'paragraph', strong: 'Weak checks. ', text: `These passed, but checked little. ${WEAK_CHECK_MEANING}` }, { kind: 'list', items: weak });
  const cut = cutCellItems(report);
  if (cut.length > 0) {
    blocks.push(
      {
        kind: 'paragraph',
        strong: 'Cut cells. ',
        text: `These passed on fewer cases than asked: their search for a counterexample reached the cell time limit (check's --cell-time-limit, 0 for none, gives them more).`,
      },
      { kind: 'list', items: cut },
    );
  }
  if (report.implementations.some((i) => i.accuracy.length > 0)) blocks.push({ kind: 'plots' });
  for (const implementation of report.implementations) blocks.push(...implementationBlocks(implementation));
  blocks.push({ kind: 'heading', level: 2, text: 'Machine' }, { kind: 'table', headers: ['fact', 'value'], rows: Object.entries(report.machine).map(([k, v]) => [k, v]) });
  if (extras.bench !== undefined && extras.bench.kind !== 'absent') blocks.push(...benchBlocks(extras.bench));
  return blocks;
}

/** An outcome as the legend explains it: the cell's text, and the full label where the word is short. */
function legendItem(outcome: Outcome): string {
  const cell = outcomeCell(outcome);
  return OUTCOME_WORD[outcome].toLowerCase() === OUTCOME_LABEL[outcome] ? cell : `${cell} ${OUTCOME_LABEL[outcome]}`;
}

function statusText(implementation: ImplementationReport): string {
  if (implementation.status === 'ok') return 'ran';
  return implementation.status === 'crashed' ? 'CRASHED ❌' : 'unavailable';
}

/** The families and properties of the cells that ran (not the ones a run allowed), in report order. */
function ranFamiliesAndProperties(report: ConformanceReport): string {
  const cells = report.implementations.flatMap((i) => i.cells);
  const families = FAMILY_NAMES.filter((f) => cells.some((c) => c.family === f));
  const properties = PROPERTY_NAMES.filter((p) => cells.some((c) => c.property === p));
  const list = (names: readonly string[], noun: string) => (names.length === 0 ? `no ${noun}` : `${noun} ${names.join(', ')}`);
  return `${list(families, families.length === 1 ? 'family' : 'families')}; ${list(properties, properties.length === 1 ? 'property' : 'properties')}`;
}

/** The fixture folders a run replayed: 'none' when it replayed none. */
function fixturesText(settings: RunSettings): string {
  if (!settings.fixtures) return 'none';
  if (settings.fixtureFolders === undefined || settings.fixtureFolders.length === 0) return 'replayed (folder not recorded)';
  return settings.fixtureFolders.join(', ');
}

/** The sections of one implementation. */
function implementationBlocks(implementation: ImplementationReport): Block[] {
  const blocks: Block[] = [{ kind: 'heading', level: 2, text: implementation.name }];
  const facts = [
    `precision ${implementation.precision}${implementation.accumulation ? `, accumulates in ${implementation.accumulation}` : ''}`,
    implementation.description?.replace(/\.\s*$/, ''),
    `ran in ${formatDuration(implementation.durationMs)}`,
  ].filter((x): x is string => x !== undefined);
  blocks.push({ kind: 'paragraph', text: `${facts.join('; ')}.` });
  if (implementation.status !== 'ok') {
    blocks.push({ kind: 'paragraph', strong: `${implementation.status}: `, text: implementation.statusReason ?? 'no reason given' });
  }
  const families = FAMILY_NAMES.filter((f) => implementation.cells.some((c) => c.family === f));
  if (families.length > 0) {
    const properties = PROPERTY_NAMES.filter((p) => implementation.cells.some((c) => c.property === p));
    blocks.push(
      { kind: 'heading', level: 3, text: 'Properties' },
      {
        kind: 'table',
        headers: ['family', 'error model', ...properties],
        rows: families.map((family) => [
          family,
          implementation.errorModels[family] ?? 'componentwise',
          ...properties.map((property) => cellSymbols(implementation.cells.filter((c) => c.family === family && c.property === property))),
        ]),
      },
    );
  }
  if (implementation.accuracy.length > 0) blocks.push(...accuracyBlocks(implementation));
  if ((implementation.gradientAccuracy ?? []).length > 0) blocks.push(...gradientAccuracyBlocks(implementation));
  const weak = weakChecks(implementation);
  if (weak.length > 0) blocks.push({ kind: 'paragraph', strong: 'Weak checks: ', text: `${weak.map(weakCheckText).join('; ')}. ${WEAK_CHECK_MEANING}` });
  const environment = Object.entries(implementation.environment);
  if (environment.length > 0) {
    blocks.push({ kind: 'heading', level: 3, text: 'Environment' }, { kind: 'table', headers: ['key', 'value'], rows: environment.map(([k, v]) => [k, v]) });
  }
  const expected = implementation.cells.filter((c) => c.outcome === 'expected-failure');
  if (expected.length > 0) {
    blocks.push({ kind: 'heading', level: 3, text: 'Expected failures' }, { kind: 'list', items: expected.map((c) => `${cellName(c)}: ${c.reason ?? 'no reason given'}`) });
  }
  const declined = implementation.cells.filter((c) => c.outcome === 'declined' || (c.declined > 0 && c.outcome !== 'not-applicable'));
  if (declined.length > 0) {
    blocks.push(
      { kind: 'heading', level: 3, text: 'Declined cases' },
      { kind: 'list', items: declined.map((c) => `${cellName(c)}: ${c.declined} declined (${c.declineReason ?? 'no reason given'})${c.outcome === 'declined' ? ', none run' : `, ${c.runs} run`}`) },
    );
  }
  // Fixtures of a form the implementation has no entry point for (ssd's varlen without runVarlen): counted, never passed.
  const notRun = implementation.cells.filter((c) => (c.notRun ?? 0) > 0);
  if (notRun.length > 0) {
    blocks.push(
      { kind: 'heading', level: 3, text: 'Fixtures not run' },
      { kind: 'list', items: notRun.map((c) => `${cellName(c)}: ${c.notRun} not run (${c.notRunReason ?? 'no reason given'}), ${c.runs} run`) },
    );
  }
  const failures = implementation.cells.filter((c) => FAILING_OUTCOMES.includes(c.outcome));
  if (failures.length > 0) {
    blocks.push({ kind: 'heading', level: 3, text: 'Failures' });
    for (const cell of failures) blocks.push({ kind: 'code', text: describeCellFailure(cell) });
  }
  const informational = implementation.cells.filter((c) => c.outcome === 'informational');
  if (informational.length > 0) {
    blocks.push({ kind: 'heading', level: 3, text: 'Informational (reported, not required)' });
    for (const cell of informational) blocks.push({ kind: 'code', text: describeCellFailure(cell) });
  }
  return blocks;
}

/** The accuracy and error-growth tables of one implementation. */
function accuracyBlocks(implementation: ImplementationReport): Block[] {
  const allclose = MAMBA_ALLCLOSE[implementation.precision];
  const minNormal = MIN_NORMAL[implementation.precision];
  const buckets = implementation.accuracy;
  const underflow = buckets.reduce((n, b) => n + b.underflowElements, 0);
  const nonFinite = buckets.reduce((n, b) => n + b.nanElements + b.infElements, 0);
  return [
    { kind: 'heading', level: 3, text: 'Accuracy' },
    {
      kind: 'paragraph',
      text:
        `Per family and length bucket, over every case that ran (fixtures and generated). max e, p99 e, max abs, max rel and max ULP describe the normal range: ` +
        `elements whose condition scale S is at least ${formatNumber(minNormal)}, the smallest normal ${implementation.precision} number. Under it rounding errors are absolute, ` +
        `so those elements are counted apart (${underflow === 0 ? 'none in this run' : `${underflow} in this run`}) with their largest |error|, as are NaN and ±Inf outputs (${nonFinite === 0 ? 'none' : nonFinite}). ` +
        `Bound usage and the verdict cover every element. bound ≥ |y|: the share of the normal-range elements with y ≠ 0 whose bound is at least |y|, where an output of 0 or of the wrong sign would pass.`,
    },
    {
      kind: 'table',
      headers: [
        'family',
        'L',
        'cases',
        'max e',
        'p99 e',
        'β',
        'bound usage',
        'bound ≥ |y|',
        'max abs',
        'max rel',
        'max ULP',
        `allclose (rtol ${allclose.rtol}, atol ${allclose.atol})`,
        'under the floor',
        'NaN',
        '±Inf',
        'verdict',
      ],
      numeric: [false, false, true, true, true, true, true, true, true, true, true, false, true, true, true, false],
      rows: buckets.map((b) => [
        b.family,
        b.label,
        String(b.cases),
        formatNumber(b.maxE),
        formatNumber(b.p99E),
        formatNumber(b.beta),
        formatNumber(b.maxBoundUsage),
        b.nonzeroElements === 0 ? 'n/a' : formatPercent(unresolvedShare(b)),
        formatNumber(b.maxAbsError),
        formatNumber(b.maxRelError),
        formatNumber(b.maxUlp),
        b.allclose ? 'yes' : 'no',
        b.underflowElements === 0 ? '0' : `${b.underflowElements}, max abs ${formatNumber(b.underflowMaxAbsError)}`,
        String(b.nanElements),
        String(b.infElements),
        verdictText(b.passed),
      ]),
    },
    { kind: 'heading', level: 3, text: 'Error growth' },
    {
      kind: 'table',
      headers: ['family', 'error model', 'slope of log max e against log L', 'length buckets fitted', 'reading'],
      numeric: [false, false, true, true, false],
      rows: implementation.growth.map((g) => [
        g.family,
        implementation.errorModels[g.family] ?? 'componentwise',
        g.slope === null ? 'n/a' : (Math.abs(g.slope) < 0.005 ? 0 : g.slope).toFixed(2),
        String(g.points),
        growthReading(g, implementation.errorModels[g.family]),
      ]),
    },
  ];
}

/** The gradient accuracy table of one implementation: per family × gradient tensor, from the vjp property's cases. */
function gradientAccuracyBlocks(implementation: ImplementationReport): Block[] {
  const stats = implementation.gradientAccuracy ?? [];
  return [
    { kind: 'heading', level: 3, text: 'Gradient accuracy' },
    {
      kind: 'paragraph',
      text:
        `Per family and gradient tensor, over the cases the vjp property ran (the passing ones and the first failing one). ` +
        `e = |ĝ − g| / (u·G): the gradient's error in units of the declared storage's roundoff u times the reference's gradient condition scale G; ` +
        `bound usage = error / rule V's bound (≤ 1 passes; spec/tolerance.md, "Gradients"); ` +
        `bound ≥ |g|: the share of the elements with |g| at least the storage's smallest normal number whose bound is at least |g|, where a gradient of 0 or of the wrong sign would pass.`,
    },
    {
      kind: 'table',
      headers: ['family', 'gradient', 'cases', 'elements', 'max e (u·G)', 'bound usage', 'bound ≥ |g|', 'verdict'],
      numeric: [false, false, true, true, true, true, true, false],
      rows: stats.map((g) => [
        g.family,
        g.tensor,
        String(g.cases),
        String(g.elements),
        formatNumber(g.maxE),
        formatNumber(g.maxBoundUsage),
        g.nonzeroElements === 0 ? 'n/a' : formatPercent(unresolvedShare(g)),
        verdictText(g.passed),
      ]),
    },
  ];
}

/** The outcomes of the cells of one family × property in words and symbols (several when expected failures split it). */
function cellSymbols(cells: readonly CellResult[]): string {
  if (cells.length === 0) return '';
  return cells.map((c) => `${outcomeCell(c.outcome)}${c.regime || c.options ? ` (${restriction(c)})` : ''}`).join(' ');
}

function restriction(cell: CellResult): string {
  return [cell.regime, cell.options && Object.entries(cell.options).map(([k, v]) => `${k}=${v}`).join(',')].filter(Boolean).join(' ');
}

function cellName(cell: CellResult): string {
  const r = restriction(cell);
  return `${cell.family} · ${cell.property}${r ? ` [${r}]` : ''}`;
}

function benchBlocks(bench: Exclude<BenchReading, { kind: 'absent' }>): Block[] {
  const heading: Block = { kind: 'heading', level: 2, text: 'Benchmark' };
  if (bench.kind === 'unusable') return [heading, { kind: 'paragraph', text: `The benchmark report was not included: ${bench.reason}` }];
  const t = bench.table;
  return [
    heading,
    {
      kind: 'paragraph',
      text: `From ${t.source}${t.generatedAt ? `, generated ${t.generatedAt}` : ''}${t.command ? ` by \`${t.command}\`` : ''}: throughput in millions of elements per second (ratio to sequential-f32).`,
    },
    { kind: 'table', headers: t.headers, rows: t.rows },
  ];
}
