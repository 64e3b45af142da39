/**
 * The report's plots, drawn with vega-lite and rendered to SVG in Node (vega's headless View, no
 * browser, no canvas). Per family: the bound usage (error / bound, the verdict: ≤ 1 passes, a rule
 * at 1) against L, and the worst e of the normal range against L; per implementation, a histogram
 * of per-case max e. Every implementation keeps one colour and its full name in every plot; with
 * many implementations the per-family plots become small multiples, one panel per group of
 * implementations. Axes are fitted to the data. Every mark carries its implementation in an
 * aria-label, and each SVG lists its series in data-series.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { FAMILY_NAMES, type FamilyName } from '../../spec/families.ts';
import type { ConformanceReport, ImplementationReport, LengthBucketStats } from '../results.ts';

/** A rendered plot. */
export interface Plot {
  readonly title: string;
  /** What the plot shows and what was left out, in one or two sentences. */
  readonly caption: string;
  /** The series drawn (implementation names), as named in the marks' aria-labels. */
  readonly series: readonly string[];
  readonly svg: string;
}

/** How a length bucket is marked: within its bound, exactly right (drawn on the axis floor), or past its bound. */
type PointVerdict = 'pass' | 'exact (error 0, on the floor)' | 'FAIL';

const VERDICTS: readonly PointVerdict[] = ['pass', 'exact (error 0, on the floor)', 'FAIL'];
const VERDICT_SHAPES = ['circle', 'triangle-down', 'cross'];

interface LengthPoint {
  readonly L: number;
  /** The plotted value (the floor for exact buckets, the ceiling for non-finite ones). */
  readonly value: number;
  /** The value as measured, for the tooltip. */
  readonly shown: string;
  readonly implementation: string;
  readonly group: string;
  readonly verdict: PointVerdict;
}

/** Above this many implementations the per-family plots split into one panel per group. */
const ONE_PANEL_LIMIT = 8;

/** Vega's tableau10 and tableau20 schemes, spelled out so the colour of an implementation is fixed by its place in the report. */
const TABLEAU10 = ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac'];
const TABLEAU20 = [
  '#4c78a8', '#9ecae9', '#f58518', '#ffbf79', '#54a24b', '#88d27a', '#b79a20', '#f2cf5b', '#439894', '#83bcb6',
  '#e45756', '#ff9d98', '#79706e', '#bab0ac', '#d67195', '#fcbfd2', '#b279a2', '#d6a5c9', '#9e765f', '#d8b5a5',
];

/** One distinct colour per implementation, in report order. */
export function implementationColours(names: readonly string[]): string[] {
  if (names.length <= TABLEAU10.length) return TABLEAU10.slice(0, names.length);
  if (names.length <= TABLEAU20.length) return TABLEAU20.slice(0, names.length);
  return names.map((_, i) => `hsl(${Math.round((360 * i) / names.length)}, 65%, ${i % 2 === 0 ? 42 : 58}%)`);
}

/**
 * The panel an implementation is drawn in when there are many: the part of its name before a
 * '/', or before its last '-' ('parallel-scan/blelloch-f32' → 'parallel-scan', 'tfjs-cpu' → 'tfjs').
 */
export function implementationGroup(name: string): string {
  const slash = name.indexOf('/');
  if (slash > 0) return name.slice(0, slash);
  const dash = name.lastIndexOf('-');
  return dash > 0 ? name.slice(0, dash) : name;
}

let renderedPlots = 0;

/**
 * Renders a vega-lite spec to SVG, headless, and tags the root element with its series. Vega
 * numbers its clip paths from 1 in every SVG; inlined side by side in one page they would
 * collide, so every id gets a prefix unique to the plot.
 */
async function renderSvg(spec: TopLevelSpec, series: readonly string[]): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    const prefix = `plot${++renderedPlots}-`;
    const ids = new Set([...svg.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]));
    const unique = svg.replace(/\b(id="|url\(#|href="#)([^")]+)/g, (match, head: string, id: string) => (ids.has(id) ? `${head}${prefix}${id}` : match));
    const tag = ` data-series="${series.map(escapeAttribute).join('|')}" role="img"`;
    return unique.replace(/^<svg\b/, `<svg${tag}`);
  } finally {
    view.finalize();
  }
}

function escapeAttribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The representative L of a length bucket (its geometric middle, as the growth fit uses). */
function bucketLength(lengths: readonly [number, number]): number {
  return lengths[0] === lengths[1] ? lengths[0] : Math.sqrt(lengths[0] * (lengths[1] + 1));
}

const decadeBelow = (x: number) => 10 ** Math.floor(Math.log10(x));
const decadeAbove = (x: number) => 10 ** Math.ceil(Math.log10(x));

/** A log axis fitted to the positive finite values, reaching `include` too when given; exact (0) values sit on its floor, non-finite ones on its ceiling. */
function fittedDomain(values: readonly number[], include?: number): [number, number] {
  const positive = values.filter((v) => v > 0 && Number.isFinite(v));
  const reach = include === undefined ? positive : [...positive, include];
  if (reach.length === 0) return [0.1, 10];
  let lo = decadeBelow(Math.min(...reach));
  let hi = decadeAbove(Math.max(...reach));
  // A floor for exact values strictly below every measured one, and room above for non-finite ones.
  if (values.some((v) => v === 0)) lo /= 10;
  if (values.some((v) => !Number.isFinite(v))) hi *= 10;
  if (hi <= lo) hi = lo * 10;
  return [lo, hi];
}

interface LengthPlotInput {
  readonly family: FamilyName;
  readonly implementations: readonly ImplementationReport[];
  /** The colour of every implementation of the report. */
  readonly colours: ReadonlyMap<string, string>;
  readonly quantity: (bucket: LengthBucketStats) => number;
  /** A rule drawn across every panel at this value, with its label. */
  readonly rule?: { readonly at: number; readonly label: string };
  readonly title: string;
  readonly yTitle: string;
}

/** A value against L per family, one line per implementation, small multiples per group when there are many. */
async function lengthPlot(input: LengthPlotInput): Promise<{ svg: string; series: string[]; omitted: number; exact: number; capped: number } | undefined> {
  const { family, implementations, colours, quantity, rule } = input;
  const raw: { L: number; value: number; implementation: string; passed: boolean }[] = [];
  let omitted = 0;
  for (const implementation of implementations) {
    for (const bucket of implementation.accuracy.filter((b) => b.family === family)) {
      const L = bucketLength(bucket.lengths);
      if (L <= 0) omitted++;
      else raw.push({ L, value: quantity(bucket), implementation: implementation.name, passed: bucket.passed });
    }
  }
  if (raw.length === 0) return undefined;
  // With a rule, a decade above it stays in view: its label sits there, and so would a failure.
  const [lo, hi] = fittedDomain(
    raw.map((p) => p.value),
    rule === undefined ? undefined : rule.at * 10,
  );
  // Only the implementations with data here get a legend entry (fft-conv has no prefix sums).
  const names = implementations.map((i) => i.name).filter((n) => raw.some((p) => p.implementation === n));
  const many = names.length > ONE_PANEL_LIMIT;
  const points: LengthPoint[] = raw.map((p) => ({
    L: p.L,
    value: p.value === 0 ? lo : Number.isFinite(p.value) ? p.value : hi,
    shown: p.value === 0 ? '0 (exact)' : Number.isFinite(p.value) ? p.value.toPrecision(3) : `${p.value} (NaN or Inf output)`,
    implementation: p.implementation,
    group: implementationGroup(p.implementation),
    verdict: !p.passed ? 'FAIL' : p.value === 0 ? 'exact (error 0, on the floor)' : 'pass',
  }));
  const series = names;
  const Ls = points.map((p) => p.L);
  const x = { field: 'L', type: 'quantitative', scale: { type: 'log', domain: [decadeBelow(Math.min(...Ls)), decadeAbove(Math.max(...Ls))] }, title: 'L (length bucket)' } as const;
  // '~g': 1e+8 rather than 100,000,000 on axes spanning many decades.
  const y = { field: 'value', type: 'quantitative', scale: { type: 'log', domain: [lo, hi] }, axis: { format: '~g' }, title: input.yTitle } as const;
  const color = {
    field: 'implementation',
    type: 'nominal',
    title: 'implementation',
    scale: { domain: names, range: names.map((n) => colours.get(n) ?? '#000') },
    legend: { labelLimit: 0, symbolLimit: 0, columns: 1 },
  } as const;
  const layers: Record<string, unknown>[] = [
    { mark: { type: 'line', clip: true }, encoding: { x, y, color, detail: { field: 'implementation' }, description: { field: 'implementation', type: 'nominal' } } },
    {
      mark: { type: 'point', filled: true, size: 60, opacity: 0.9, clip: true },
      encoding: {
        x,
        y,
        color,
        shape: { field: 'verdict', type: 'nominal', title: 'verdict', scale: { domain: VERDICTS, range: VERDICT_SHAPES } },
        description: { field: 'implementation', type: 'nominal' },
        tooltip: [
          { field: 'implementation', type: 'nominal' },
          { field: 'L', type: 'quantitative', format: '.0f' },
          { field: 'shown', type: 'nominal', title: input.yTitle },
          { field: 'verdict', type: 'nominal' },
        ],
      },
    },
  ];
  if (rule !== undefined) {
    layers.push(
      // One datum of their own: on the points' data the rule and its label would be drawn once per point.
      { data: { values: [{}] }, mark: { type: 'rule', color: '#222', strokeWidth: 1.5, strokeDash: [6, 3] }, encoding: { y: { datum: rule.at, type: 'quantitative' } } },
      {
        data: { values: [{}] },
        mark: { type: 'text', align: 'left', baseline: 'bottom', dx: 3, dy: -2, color: '#222', fontSize: 11 },
        encoding: { y: { datum: rule.at, type: 'quantitative' }, x: { value: 0 }, text: { value: rule.label } },
      },
    );
  }
  const panel = { width: many ? 300 : 460, height: many ? 200 : 280 };
  // Full names in every legend: vega cuts labels at 160 px by default.
  const config = { legend: { labelLimit: 0 } };
  const spec = (
    many
      ? {
          $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
          config,
          title: input.title,
          data: { values: points },
          facet: { field: 'group', type: 'nominal', title: null, sort: [...new Set(names.map(implementationGroup))] },
          columns: 3,
          spec: { ...panel, layer: layers },
        }
      : { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', config, title: input.title, data: { values: points }, ...panel, layer: layers }
  ) as unknown as TopLevelSpec;
  return {
    svg: await renderSvg(spec, series),
    series,
    omitted,
    exact: raw.filter((p) => p.value === 0).length,
    capped: raw.filter((p) => !Number.isFinite(p.value)).length,
  };
}

/** What a length plot left out or moved, in a sentence (empty when nothing). */
function placementNote(r: { omitted: number; exact: number; capped: number }): string {
  const notes = [
    r.omitted > 0 && `${r.omitted} bucket${r.omitted === 1 ? '' : 's'} at L = 0 cannot sit on a log axis and ${r.omitted === 1 ? 'is' : 'are'} left out`,
    r.exact > 0 && `${r.exact} exact bucket${r.exact === 1 ? '' : 's'} (error 0) sit on the floor of the axis`,
    r.capped > 0 && `${r.capped} non-finite value${r.capped === 1 ? '' : 's'} (NaN or Inf outputs) sit on its ceiling`,
  ].filter((n): n is string => typeof n === 'string');
  return notes.length === 0 ? '' : ` ${notes.join('; ')}.`;
}

/** Per family: the bound usage (error / bound) of each implementation against L, with the line at 1 that separates pass from fail. */
export async function boundUsagePlot(family: FamilyName, implementations: readonly ImplementationReport[], colours: ReadonlyMap<string, string>): Promise<Plot | undefined> {
  const r = await lengthPlot({
    family,
    implementations,
    colours,
    quantity: (b) => b.maxBoundUsage,
    rule: { at: 1, label: 'bound: error = bound (above fails)' },
    title: `${family}: bound usage against L`,
    yTitle: 'bound usage = error / bound',
  });
  if (r === undefined) return undefined;
  return {
    title: `${family}: bound usage against length`,
    caption:
      `The largest error / bound per length bucket, log-log: the verdict (at or under the dashed line at 1 passes; a cross marks a bucket that failed).` +
      placementNote(r),
    series: r.series,
    svg: r.svg,
  };
}

/** Per family: the worst e of the normal range against L, one line per implementation. */
export async function errorGrowthPlot(family: FamilyName, implementations: readonly ImplementationReport[], colours: ReadonlyMap<string, string>): Promise<Plot | undefined> {
  const r = await lengthPlot({
    family,
    implementations,
    colours,
    quantity: (b) => b.maxE,
    title: `${family}: max e against L`,
    yTitle: 'max e = |ŷ − y| / (u·S)',
  });
  if (r === undefined) return undefined;
  return {
    title: `${family}: error against length`,
    caption: `The worst e per length bucket over the normal range (elements under the underflow floor are counted in the accuracy table instead), log-log; the slope is the error-growth table's.${placementNote(r)}`,
    series: r.series,
    svg: r.svg,
  };
}

/** The decade bins of a histogram in order: exact, then 10^k ascending, then non-finite. */
function histogramBins(histogram: Readonly<Record<string, number>>): { bin: string; order: number; count: number }[] {
  return Object.entries(histogram)
    .map(([key, count]) => {
      if (key === 'zero') return { bin: '0 (exact)', order: -Infinity, count };
      if (key === 'inf') return { bin: 'non-finite', order: Infinity, count };
      const k = Number(key);
      return { bin: `[1e${k}, 1e${k + 1})`, order: k, count };
    })
    .sort((a, b) => a.order - b.order);
}

/** The histogram of per-case max e of one implementation, in its colour. */
export async function eHistogramPlot(implementation: ImplementationReport, colour: string): Promise<Plot | undefined> {
  const bins = histogramBins(implementation.eHistogram);
  if (bins.length === 0) return undefined;
  const series = [implementation.name];
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `${implementation.name}: per-case max e`,
    width: 300,
    height: 160,
    data: { values: bins.map((b) => ({ ...b, implementation: implementation.name, order: Number.isFinite(b.order) ? b.order : b.order > 0 ? 1e9 : -1e9 })) },
    mark: { type: 'bar', color: colour },
    encoding: {
      x: { field: 'bin', type: 'ordinal', sort: { field: 'order' }, title: 'max e of a case (decade)' },
      y: { field: 'count', type: 'quantitative', title: 'cases' },
      description: { field: 'implementation', type: 'nominal' },
      tooltip: [
        { field: 'bin', type: 'nominal' },
        { field: 'count', type: 'quantitative' },
      ],
    },
  };
  return {
    title: `${implementation.name}: histogram of per-case max e`,
    caption: `Cases (generated and fixtures) by their worst e over the normal range, in decades.`,
    series,
    svg: await renderSvg(spec, series),
  };
}

/** Every plot of a report: per family the bound usage, then the error growth; then a histogram per implementation. */
export async function reportPlots(report: ConformanceReport): Promise<Plot[]> {
  const names = report.implementations.map((i) => i.name);
  const palette = implementationColours(names);
  const colours = new Map(names.map((n, i) => [n, palette[i]]));
  const plots: Plot[] = [];
  for (const family of FAMILY_NAMES) {
    for (const draw of [boundUsagePlot, errorGrowthPlot]) {
      const plot = await draw(family, report.implementations, colours);
      if (plot !== undefined) plots.push(plot);
    }
  }
  for (const [i, implementation] of report.implementations.entries()) {
    const plot = await eHistogramPlot(implementation, palette[i]);
    if (plot !== undefined) plots.push(plot);
  }
  return plots;
}
