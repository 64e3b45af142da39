/**
 * `scan-conformance browser`: serves the page (browser/page.ts, bundled at package build time)
 * that runs the suite in a browser on navigator.gpu, with the fixtures and the user's modules;
 * with --headless it drives headless Chromium through playwright-core, receives the report,
 * writes report.json / .md / .html with check's writer and exits as check does.
 */
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { PAGE_BUNDLE } from '../browser/bundle-name.ts';
import { DEFAULT_CHROMIUM, chromiumUnavailable, launchChromium } from '../browser/chromium.ts';
import type { PageConfig, PageModule, PageUnavailable } from '../browser/page-config.ts';
import { startPageServer, type ServedFolder } from '../browser/server.ts';
import { FIXTURES_DIR } from '../fixtures/folder.ts';
import { errorMessage } from '../spec/errors.ts';
import { describeCellFailure } from '../suite/messages.ts';
import { IMPLEMENTATIONS_DIR, implementationModules, loadImplementationModule } from '../suite/registry.ts';
import { commandPath, moduleTarget } from '../suite/replay.ts';
import { FAILING_OUTCOMES, type ConformanceReport } from '../suite/results.ts';
import { MODES, deepFromEnvironment, requireAvailableFromEnvironment, runOptionsFromEnvironment } from '../suite/settings.ts';
import { toolVersion } from '../suite/tool-version.ts';
import { verdictLines } from '../suite/report/document.ts';
import { writeReports } from '../suite/report/write.ts';
import { EXIT, UsageError, fromEnvironment, type BrowserArguments, type CliStreams } from './cli-arguments.ts';

/** The shipped WGSL implementations, which the page builds on navigator.gpu. */
const WGSL_IMPLEMENTATIONS = ['webgpu-f32', 'webgpu-f16'] as const;

let bundled: Promise<string> | undefined;

/**
 * The bundled page: browser/page-bundle.js beside the compiled modules (the package's build made
 * it), or, in a source checkout, bundled once per process into a temporary folder.
 */
export function pageScript(): Promise<string> {
  const compiled = fileURLToPath(new URL(`../browser/${PAGE_BUNDLE}`, import.meta.url));
  if (existsSync(compiled)) return Promise.resolve(compiled);
  bundled ??= (async () => {
    const { bundlePage } = await import('../browser/bundle.ts');
    return (await bundlePage(await mkdtemp(path.join(os.tmpdir(), 'scan-conformance-page-')))).file;
  })();
  return bundled;
}

/** What a caller (a test) may do with the page once its report has arrived, before Chromium closes. */
export interface BrowserHooks {
  readonly onFinished?: (page: Page) => Promise<void>;
}

/** The registered implementations the browser cannot run, with the reason; names checked against --only. */
async function nodeOnlyImplementations(only: readonly string[]): Promise<{ unavailable: PageUnavailable[]; names: string[] }> {
  const unavailable: PageUnavailable[] = [];
  const names: string[] = [];
  for (const index of await implementationModules(IMPLEMENTATIONS_DIR)) {
    const folder = path.basename(path.dirname(index));
    let loaded;
    try {
      loaded = await loadImplementationModule(index);
    } catch (error) {
      unavailable.push({ name: `implementations/${folder}`, precision: 'float32', reason: `runs on Node only, and its module failed to load there: ${errorMessage(error)}` });
      continue;
    }
    for (const implementation of loaded) {
      names.push(implementation.name);
      if ((WGSL_IMPLEMENTATIONS as readonly string[]).includes(implementation.name)) continue;
      if (only.length > 0 && !only.includes(implementation.name)) continue;
      unavailable.push({
        name: implementation.name,
        precision: implementation.precision,
        reason: `runs on Node only (implementations/${folder}/): the browser page runs the WGSL implementations and --implementation modules; check it with npx scan-conformance check --only ${implementation.name}`,
      });
    }
    for (const implementation of loaded) await implementation.dispose?.().catch(() => undefined);
  }
  return { unavailable, names };
}

/** The page's configuration from the command line, and the local folders the server maps. */
async function pageConfig(args: BrowserArguments): Promise<{ config: PageConfig; folders: ServedFolder[] }> {
  const explicit = args.implementations.length > 0 || args.testeeCommands.length > 0;
  const registered = !explicit || args.all;
  const onlyOthers = args.only.filter((n) => !(WGSL_IMPLEMENTATIONS as readonly string[]).includes(n));
  const shipped = registered ? WGSL_IMPLEMENTATIONS.filter((n) => args.only.length === 0 || args.only.includes(n)) : [];
  const unavailable: PageUnavailable[] = [];
  if (registered && (args.only.length === 0 || onlyOthers.length > 0)) {
    const node = await nodeOnlyImplementations(args.only);
    unavailable.push(...node.unavailable);
    for (const name of onlyOthers) {
      if (!node.names.includes(name) && args.implementations.length === 0) {
        throw new UsageError(`--only: expected the name of an implementation (${node.names.join(', ')}), got '${name}'`);
      }
    }
  }
  for (const command of args.testeeCommands) {
    unavailable.push({
      name: command,
      precision: 'float32',
      reason: `a testee speaks the process protocol over a child process's stdin and stdout, which a browser page cannot start; check it with npx scan-conformance check --command ${JSON.stringify(command)}`,
    });
  }
  const modules: PageModule[] = [];
  const folders: ServedFolder[] = [];
  for (const [i, m] of args.implementations.entries()) {
    if (/^https?:\/\//.test(m)) {
      modules.push({ url: m, given: m });
      continue;
    }
    const file = path.resolve(m);
    if (!existsSync(file)) throw new UsageError(`--implementation: expected an ES module file, found none at ${commandPath(file)}`);
    const prefix = `/modules/${i}/`;
    folders.push({ prefix, folder: path.dirname(file) });
    modules.push({ url: `${prefix}${encodeURIComponent(path.basename(file))}`, given: m, replayTarget: moduleTarget(file) });
  }
  const webgpuIndex = ['index.ts', 'index.js'].map((f) => path.join(IMPLEMENTATIONS_DIR, 'webgpu', f)).find((f) => existsSync(f));
  const environment = fromEnvironment(() => runOptionsFromEnvironment());
  const deep = deepFromEnvironment();
  const mode = deep ? MODES.deep : MODES.quick;
  const config: PageConfig = {
    toolVersion: toolVersion(),
    shipped,
    shippedReplayTargets: webgpuIndex === undefined ? {} : Object.fromEntries(shipped.map((n) => [n, moduleTarget(webgpuIndex)])),
    modules,
    unavailable,
    only: args.only,
    runs: args.runs ?? environment.runs ?? mode.runs,
    maxLength: args.maxLength ?? environment.maxLength ?? mode.maxLength,
    ...((args.seed ?? environment.seed) !== undefined && { seed: args.seed ?? environment.seed }),
    ...(args.families !== undefined && { families: args.families }),
    ...(args.properties !== undefined && { properties: args.properties }),
    ...(args.timeoutMs !== undefined && { timeoutMs: args.timeoutMs }),
    ...((args.cellTimeLimitMs ?? environment.cellTimeLimitMs) !== undefined && { cellTimeLimitMs: args.cellTimeLimitMs ?? environment.cellTimeLimitMs }),
    fixtures: args.fixtures,
    fixturesFolder: FIXTURES_DIR,
    deep,
    requireAvailable: requireAvailableFromEnvironment(),
    allowEmpty: args.allowEmpty === true,
    reportDir: commandPath(args.out),
  };
  return { config, folders };
}

/** Writes the reports and says what check says; returns check's exit code. */
async function finish(report: ConformanceReport, args: BrowserArguments, streams: CliStreams): Promise<number> {
  const written = await writeReports(report, args.out);
  for (const implementation of report.implementations) {
    for (const cell of implementation.cells.filter((c) => FAILING_OUTCOMES.includes(c.outcome))) streams.stderr.write(`\n${describeCellFailure(cell)}\n`);
    if (implementation.status !== 'ok') streams.stderr.write(`\n${implementation.name}: ${implementation.status}: ${implementation.statusReason ?? ''}\n`);
  }
  streams.stdout.write(`reports written to ${written.json}, ${written.markdown}, ${written.html}${written.stepSummary ? ` (and appended to ${written.stepSummary})` : ''}\n`);
  streams.stdout.write(verdictLines(report));
  return report.summary.unexpectedFailures === 0 ? EXIT.ok : EXIT.unexpectedFailure;
}

/** `scan-conformance browser`: serves the page; with --headless runs it in Chromium; returns check's exit code. */
export async function browser(args: BrowserArguments, streams: CliStreams, hooks: BrowserHooks = {}): Promise<number> {
  const executable = args.browser ?? DEFAULT_CHROMIUM;
  if (args.headless) {
    const missing = chromiumUnavailable(executable);
    if (missing !== undefined) throw new UsageError(`--browser: expected a Chromium executable, got ${missing}`);
  }
  const { config, folders } = await pageConfig(args);
  const server = await startPageServer({ config, pageScript: await pageScript(), fixturesDir: FIXTURES_DIR, folders, port: args.port });
  try {
    if (!args.headless) {
      streams.stdout.write(`open ${server.url} in a browser with WebGPU; the reports are written to ${args.out} when the page finishes (Ctrl-C to stop)\n`);
      return await finish(await server.outcome, args, streams);
    }
    const chromium = await launchChromium(executable);
    try {
      const page = await chromium.newPage();
      page.on('console', (message) => {
        if (message.text().startsWith('scan-conformance: ')) streams.stderr.write(`${message.text().slice('scan-conformance: '.length)}\n`);
        // The browser's own errors (a module that failed to load says why only here).
        else if (message.type() === 'error') streams.stderr.write(`browser console: ${message.text()}\n`);
      });
      page.on('pageerror', (error) => streams.stderr.write(`page error: ${error.message}\n`));
      const crashed = new Promise<never>((_, reject) => {
        page.on('crash', () => reject(new Error('the Chromium page crashed')));
        page.on('close', () => reject(new Error('the Chromium page closed before it sent its report')));
      });
      crashed.catch(() => undefined);
      await page.goto(server.url);
      const report = await Promise.race([server.outcome, crashed]);
      const code = await finish(report, args, streams);
      await hooks.onFinished?.(page);
      return code;
    } finally {
      await chromium.close();
    }
  } catch (error) {
    if (error instanceof UsageError) throw error;
    streams.stderr.write(`scan-conformance browser: ${errorMessage(error)}\n`);
    return EXIT.unexpectedFailure;
  } finally {
    await server.close();
  }
}
