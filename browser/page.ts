/**
 * The browser page's entry point (bundled by browser/bundle.ts into page-bundle.js): reads the run from
 * /config.json, runs the shipped WGSL implementations on navigator.gpu and the user's modules
 * through the same suite as `scan-conformance check`, shows each cell as it finishes, renders the
 * same report (suite/report's renderers), offers report.json / .md / .html, and posts the report
 * to the server (POST /report), which writes the files in --headless mode. It imports only
 * platform-neutral modules; browser/bundle.ts fails the build on any node: import.
 */
import type { FamilyName } from '../spec/families.ts';
import { errorMessage } from '../spec/errors.ts';
import type { ScanImplementation } from '../spec/implementation.ts';
import { createWgslImplementation } from '../implementations/webgpu/wgsl-implementation.ts';
import { assembleReportWith, crashedReport, plannedCellCount, runConformanceWith, type ConformanceHost, type ConformanceProgress } from '../suite/conformance.ts';
import { implementationsOfModule, assertUniqueNames } from '../suite/implementation-module.ts';
import { cellSlug, type ReplayPaths } from '../suite/replay-command.ts';
import type { ConformanceReport, ImplementationReport } from '../suite/results.ts';
import { renderHtml } from '../suite/report/html.ts';
import { renderJson } from '../suite/report/json.ts';
import { renderMarkdown } from '../suite/report/markdown.ts';
import { cellProgressLine, verdictLines } from '../suite/report/document.ts';
import { fixtureSourceFromUrl } from './http-fixtures.ts';
import { NAVIGATOR_GPU } from './navigator-gpu.ts';
import { encodeReport, type PageConfig } from './page-config.ts';

// What a module for the page imports from 'scan-conformance' (the page's import map names this
// bundle): the spec's definitions and errors, the reference, the implementation check. One module
// instance with the page's, so an ImplementationDeclinedError a module throws is the suite's own.
export * from '../spec/index.ts';
export { reference, referenceStep } from '../reference/index.ts';
export { InvalidImplementationError, validateImplementation } from '../suite/implementation-check.ts';

/** The page's elements, by id (page.html). */
function element(id: string): HTMLElement {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`page.html has no #${id}`);
  return found;
}

/** Paths in the browser's replay commands: as given (a module path or URL), outputs under --out. */
function browserPaths(reportDir: string): ReplayPaths {
  return {
    commandPath: (file) => file,
    replayOut: (context, cell) => {
      const base = context.reportDir ?? reportDir;
      return /(^|\/)replay-[^/]*$/.test(base) ? base : `${base.replace(/\/$/, '')}/replay-${cellSlug(cell)}`;
    },
  };
}

/** The browser's facts for the report's machine section. */
function browserMachine(): Record<string, string> {
  return {
    browser: navigator.userAgent,
    platform: (navigator as Navigator & { userAgentData?: { platform?: string } }).userAgentData?.platform ?? navigator.platform,
    cpus: String(navigator.hardwareConcurrency),
  };
}

/** Shows one line of progress, and says it on the console (the headless CLI prints it). */
function say(text: string): void {
  element('status').textContent = text;
  console.info(`scan-conformance: ${text}`);
}

/** The implementations of the run: the shipped WGSL ones and the user's modules; a module that fails to load is a crashed report. */
async function implementationsOf(config: PageConfig): Promise<{ runnable: ScanImplementation[]; targets: Map<ScanImplementation, string>; failed: ImplementationReport[] }> {
  const runnable: ScanImplementation[] = [];
  const targets = new Map<ScanImplementation, string>();
  const failed: ImplementationReport[] = [];
  for (const name of config.shipped) {
    const implementation = createWgslImplementation({ storage: name === 'webgpu-f16' ? 'f16' : 'f32', gpu: NAVIGATOR_GPU });
    runnable.push(implementation);
    const target = config.shippedReplayTargets[name];
    if (target !== undefined) targets.set(implementation, target);
  }
  for (const module of config.modules) {
    try {
      const namespace = (await import(/* @vite-ignore */ module.url)) as Record<string, unknown>;
      for (const implementation of implementationsOfModule(namespace, module.url)) {
        if (config.only.length > 0 && !config.only.includes(implementation.name)) continue;
        runnable.push(implementation);
        if (module.replayTarget !== undefined) targets.set(implementation, module.replayTarget);
      }
    } catch (error) {
      failed.push(crashedReport({ name: module.given, precision: 'float32' }, `the module failed to load in the browser (${module.url}): ${errorMessage(error)}; a module for the page imports nothing from Node (node:…, packages by bare name other than scan-conformance), and the browser console says which import failed`));
    }
  }
  assertUniqueNames(runnable);
  return { runnable, targets, failed };
}

/** A progress listener that lists every finished cell on the page. */
function progressList(total: number): (event: ConformanceProgress) => void {
  const list = element('cells');
  const bar = element('progress') as HTMLProgressElement;
  bar.max = Math.max(total, 1);
  let done = 0;
  return (event) => {
    if (event.kind === 'implementation-start') say(`${event.implementation} (${event.index + 1}/${event.total}): ${event.plannedCells} cells`);
    if (event.kind === 'cell') {
      done++;
      bar.value = Math.min(done, bar.max);
      const c = event.cell;
      const line = cellProgressLine(c, done, total);
      const item = document.createElement('li');
      item.textContent = line;
      item.dataset.outcome = c.outcome;
      list.append(item);
      say(line);
    }
    if (event.kind === 'implementation-end' && event.report.status !== 'ok') say(`${event.report.name}: ${event.report.status}: ${event.report.statusReason ?? ''}`);
  };
}

/** Offers the three report files as downloads, rendered by the CLI's own renderers. */
async function offerDownloads(report: ConformanceReport, html: string): Promise<void> {
  const files: [string, string, string][] = [
    ['report.json', renderJson(report), 'application/json'],
    ['report.md', renderMarkdown(report), 'text/markdown'],
    ['report.html', html, 'text/html'],
  ];
  const downloads = element('downloads');
  downloads.replaceChildren('Download: ');
  for (const [name, text, type] of files) {
    const link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([text], { type }));
    link.download = name;
    link.textContent = name;
    downloads.append(link, ' ');
  }
}

/** Shows the report: report.html's body and style inside the page. */
function showReport(html: string): void {
  const parsed = new DOMParser().parseFromString(html, 'text/html');
  const style = parsed.querySelector('style');
  if (style !== null) document.head.append(style);
  element('report').replaceChildren(...Array.from(parsed.body.childNodes).map((n) => document.importNode(n, true)));
}

/** Runs the page's whole job. */
async function main(): Promise<void> {
  const response = await fetch('/config.json');
  if (!response.ok) throw new Error(`/config.json: expected the run's configuration, got HTTP ${response.status}`);
  const config = (await response.json()) as PageConfig;
  say('loading implementations…');
  const { runnable, targets, failed } = await implementationsOf(config);
  const runOptions = {
    runs: config.runs,
    maxLength: config.maxLength,
    ...(config.seed !== undefined && { seed: config.seed }),
    ...(config.families !== undefined && { families: config.families as FamilyName[] }),
    ...(config.properties !== undefined && { properties: config.properties }),
    ...(config.timeoutMs !== undefined && { timeoutMs: config.timeoutMs }),
    ...(config.cellTimeLimitMs !== undefined && { cellTimeLimitMs: config.cellTimeLimitMs }),
    ...(config.fixtures && { fixtures: fixtureSourceFromUrl('/fixtures/', { maxLength: config.maxLength, folder: config.fixturesFolder }) }),
    reportDir: config.reportDir,
  };
  const host: ConformanceHost = { run: { paths: browserPaths(config.reportDir) }, toolVersion: config.toolVersion, machine: browserMachine };
  let report = await runConformanceWith(host, {
    implementations: runnable,
    runOptions,
    deep: config.deep,
    requireAvailable: config.requireAvailable,
    replayTargets: targets,
    allowEmpty: config.allowEmpty,
    onProgress: progressList(runnable.reduce((n, i) => n + plannedCellCount(i, runOptions), 0)),
  });
  const unavailable: ImplementationReport[] = config.unavailable.map((u) => ({
    ...crashedReport(u, u.reason),
    status: 'unavailable' as const,
  }));
  if (failed.length > 0 || unavailable.length > 0) {
    report = { ...assembleReportWith(host, [...report.implementations, ...failed, ...unavailable], report.settings, config.requireAvailable), createdAt: report.createdAt };
  }
  const adapters = [...new Set(report.implementations.map((i) => i.environment).filter((e) => e.architecture !== undefined).map((e) => [e.vendor, e.architecture, e.device, e.description].filter(Boolean).join(' ')))];
  element('adapter').textContent = adapters.length > 0 ? `adapter: ${adapters.join('; ')}` : 'adapter: none (no WebGPU implementation was set up)';
  const html = await renderHtml(report);
  showReport(html);
  await offerDownloads(report, html);
  say(verdictLines(report).trimEnd());
  const posted = await fetch('/report', { method: 'POST', headers: { 'content-type': 'application/json' }, body: encodeReport(report) });
  if (!posted.ok) throw new Error(`POST /report: the server answered HTTP ${posted.status}: ${await posted.text()}`);
  document.body.dataset.state = 'done';
}

main().catch(async (error: unknown) => {
  const message = `the page failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
  say(message);
  document.body.dataset.state = 'failed';
  await fetch('/failure', { method: 'POST', body: message }).catch(() => undefined);
});
