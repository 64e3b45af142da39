/**
 * The report's plots, drawn with vega-lite and rendered to SVG in Node (vega's headless View, no
 * browser, no canvas): per family, max e against L on log-log axes with one line per
 * implementation and its bound β dashed; per implementation, a histogram of per-case max e.
 * Every mark carries its series in an aria-label, and each SVG lists its series in data-series.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { FAMILY_NAMES, type FamilyName } from '../../spec/families.ts';
import type { ConformanceReport, ImplementationReport } from '../results.ts';

/** A rendered plot. */
export interface Plot {
  readonly title: string;
  /** What the plot shows and what was left out, in one sentence. */
  readonly caption: string;
  /** The series drawn, as named in the marks' aria-labels. */
  readonly series: readonly string[];
  readonly svg: string;
}

interface GrowthPoint {
  readonly L: number;
  readonly e: number;
  readonly implementation: string;
  readonly quantity: 'max e' | 'bound β';
  readonly series: string;
}

/** The series name of an implementation's measured or bound line. */
export function seriesName(implementation: string, quantity: 'max e' | 'bound β'): string {
  return `${implementation} ${quantity}`;
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

/** Max e and β against L for one family, one line per implementation. */
export async function errorGrowthPlot(family: FamilyName, implementations: readonly ImplementationReport[]): Promise<Plot | undefined> {
  const points: GrowthPoint[] = [];
  let omitted = 0;
  for (const implementation of implementations) {
    for (const bucket of implementation.accuracy.filter((b) => b.family === family)) {
      const L = bucketLength(bucket.lengths);
      const usable = (v: number) => L > 0 && v > 0 && Number.isFinite(v);
      for (const [quantity, value] of [['max e', bucket.maxE], ['bound β', bucket.beta]] as const) {
        if (usable(value)) points.push({ L, e: value, implementation: implementation.name, quantity, series: seriesName(implementation.name, quantity) });
        else omitted++;
      }
    }
  }
  if (points.length === 0) return undefined;
  const series = [...new Set(points.map((p) => p.series))];
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `${family}: max e against L`,
    width: 460,
    height: 280,
    data: { values: points as unknown as Record<string, unknown>[] },
    mark: { type: 'line', point: true, clip: true },
    encoding: {
      x: { field: 'L', type: 'quantitative', scale: { type: 'log' }, title: 'L (length bucket)' },
      y: { field: 'e', type: 'quantitative', scale: { type: 'log' }, title: 'e = |ŷ − y| / (u·S)' },
      color: { field: 'implementation', type: 'nominal' },
      strokeDash: { field: 'quantity', type: 'nominal', title: 'line', scale: { domain: ['max e', 'bound β'], range: [[1, 0], [6, 4]] } },
      detail: { field: 'series', type: 'nominal' },
      description: { field: 'series', type: 'nominal' },
      tooltip: [
        { field: 'series', type: 'nominal' },
        { field: 'L', type: 'quantitative', format: '.0f' },
        { field: 'e', type: 'quantitative', format: '.3g' },
      ],
    },
  };
  return {
    title: `${family}: error against length`,
    caption:
      `Worst e per length bucket (solid) and the bound β at the element of largest bound usage (dashed), log-log.` +
      (omitted > 0 ? ` ${omitted} value${omitted === 1 ? '' : 's'} of 0 (exact) or L = 0 cannot sit on log axes and are left out.` : ''),
    series,
    svg: await renderSvg(spec, series),
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

/** The histogram of per-case max e of one implementation. */
export async function eHistogramPlot(implementation: ImplementationReport): Promise<Plot | undefined> {
  const bins = histogramBins(implementation.eHistogram);
  if (bins.length === 0) return undefined;
  const series = [`${implementation.name} cases`];
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `${implementation.name}: per-case max e`,
    width: 360,
    height: 200,
    data: { values: bins.map((b) => ({ ...b, series: series[0], order: Number.isFinite(b.order) ? b.order : b.order > 0 ? 1e9 : -1e9 })) },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'bin', type: 'ordinal', sort: { field: 'order' }, title: 'max e of a case (decade)' },
      y: { field: 'count', type: 'quantitative', title: 'cases' },
      description: { field: 'series', type: 'nominal' },
      tooltip: [
        { field: 'bin', type: 'nominal' },
        { field: 'count', type: 'quantitative' },
      ],
    },
  };
  return {
    title: `${implementation.name}: histogram of per-case max e`,
    caption: `Cases (generated and fixtures) by their worst e, in decades.`,
    series,
    svg: await renderSvg(spec, series),
  };
}

/** Every plot of a report: the growth plots per family, then a histogram per implementation. */
export async function reportPlots(report: ConformanceReport): Promise<Plot[]> {
  const plots: Plot[] = [];
  for (const family of FAMILY_NAMES) {
    const plot = await errorGrowthPlot(family, report.implementations);
    if (plot !== undefined) plots.push(plot);
  }
  for (const implementation of report.implementations) {
    const plot = await eHistogramPlot(implementation);
    if (plot !== undefined) plots.push(plot);
  }
  return plots;
}
