/**
 * `scan-conformance browser --headless` end to end, in headless Chromium (Debian's `chromium`,
 * driven by playwright-core) on WebGPU through SwiftShader: the shipped webgpu-f32 passes its
 * prefix-sum and linear-recurrence fixtures, conformance and step cells, and the report names the
 * SwiftShader adapter, and beside it a module that imports 'scan-conformance' by name
 * (test/browser/modules/imports-the-package.js) gets the page's own classes, its thrown
 * ImplementationDeclinedError counted as declines; a deliberately wrong WGSL kernel (test/browser/modules/wrong-first-step.js)
 * fails, its counterexample shown in the page and in report.json; the page's screenshot goes to
 * reports/browser-report.png, or with UPDATE_SCREENSHOT=1 to docs/browser-report.png (the README shows it). The bundle the page ran has no node: import.
 * Without Chromium the tests are skipped with the reason shown, unless REQUIRE_CHROMIUM=1 (CI).
 */
import { mkdir, mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { chromiumUnavailable } from '../../browser/chromium.ts';
import { parseCliArguments, type BrowserArguments } from '../../scripts/cli-arguments.ts';
import { browser, pageScript } from '../../scripts/browser-command.ts';
import type { ConformanceReport } from '../../suite/results.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WRONG = path.join(ROOT, 'test/browser/modules/wrong-first-step.js');
const REQUIRED = process.env.REQUIRE_CHROMIUM === '1';
const unavailable = chromiumUnavailable();
const label = unavailable === undefined ? '' : ` (skipped: ${unavailable})`;
/** Few properties, so that a run stays near ten seconds. */
const QUICK = ['--property', 'fixtures', '--property', 'conformance', '--property', 'step', '--family', 'prefix-sum', '--family', 'linear-recurrence'];

/** Runs the command as the CLI would, with a look at the finished page; returns the exit code, the output and report.json. */
async function run(flags: readonly string[], onFinished?: (page: Page) => Promise<void>): Promise<{ code: number; stdout: string; stderr: string; report: ConformanceReport }> {
  const out = await mkdtemp(path.join(os.tmpdir(), 'scan-conformance-browser-test-'));
  const args = parseCliArguments(['browser', '--headless', ...flags, '--out', out]) as BrowserArguments;
  let stdout = '';
  let stderr = '';
  const streams = { stdout: { write: (t: string) => ((stdout += t), true) }, stderr: { write: (t: string) => ((stderr += t), true) } } as never;
  const code = await browser(args, streams, onFinished === undefined ? {} : { onFinished });
  const report = JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8')) as ConformanceReport;
  return { code, stdout, stderr, report };
}

describe('the README on the browser command', () => {
  it('shows the command, the wrong kernel and the screenshot, all of which exist', async () => {
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    const command = 'npx scan-conformance browser --headless --only webgpu-f32 --family prefix-sum';
    expect(readme).toContain(command);
    expect(parseCliArguments(command.split(' ').slice(2))).toMatchObject({ command: 'browser', headless: true, only: ['webgpu-f32'], families: ['prefix-sum'] });
    expect(readme).toContain('--implementation test/browser/modules/wrong-first-step.js');
    expect(readme).toContain('![The browser page after the wrong kernel\'s run: progress, downloads, the report](docs/browser-report.png)');
    for (const file of [WRONG, path.join(ROOT, 'docs/browser-report.png')]) await expect(readFile(file)).resolves.toBeDefined();
  });
});

describe('scan-conformance browser --headless', () => {
  it.runIf(unavailable !== undefined && REQUIRED)('Chromium is present (REQUIRE_CHROMIUM=1)', () => {
    throw new Error(`REQUIRE_CHROMIUM=1 but ${unavailable}`);
  });

  it.skipIf(unavailable !== undefined)(`passes the shipped webgpu-f32 on SwiftShader, and names the adapter; a module importing 'scan-conformance' by name gets the page's own classes${label}`, async () => {
    let adapterLine = '';
    const module = path.join(ROOT, 'test/browser/modules/imports-the-package.js');
    const { code, stdout, report } = await run(['--all', '--only', 'webgpu-f32', '--implementation', module, '--only', 'browser/imports-the-package', ...QUICK], async (page) => {
      adapterLine = await page.locator('#adapter').innerText();
    });
    expect(stdout).toMatch(/PASS ✅ no unexpected failure · 2 implementations, 9 cells: 8 pass, 1 not applicable/);
    expect(code).toBe(0);
    const importer = report.implementations.find((i) => i.name === 'browser/imports-the-package');
    expect(importer?.status).toBe('ok');
    for (const property of ['fixtures', 'conformance']) {
      const cell = importer?.cells.find((c) => c.family === 'linear-recurrence' && c.property === property);
      expect(cell?.outcome, property).toBe('pass');
      expect(cell?.runs, property).toBeGreaterThan(0);
      // The reverse problems, declined by the error the module imported and threw, not failed as a kernel error.
      expect(cell?.declined, property).toBeGreaterThan(0);
    }
    const webgpu = report.implementations.find((i) => i.name === 'webgpu-f32')!;
    expect(webgpu.name).toBe('webgpu-f32');
    expect(webgpu.cells.map((c) => c.outcome)).toEqual(Array(6).fill('pass'));
    expect(webgpu.cells.every((c) => c.runs > 0)).toBe(true);
    expect(webgpu.environment.architecture).toBe('swiftshader');
    expect(webgpu.environment.api).toMatch(/^WebGPU \(browser navigator\.gpu, .*HeadlessChrome/);
    expect(adapterLine).toMatch(/swiftshader/);
    expect(report.machine.browser).toMatch(/HeadlessChrome/);
  }, 120_000);

  it.skipIf(unavailable !== undefined)(`fails a wrong WGSL kernel with its counterexample in the page and in report.json; screenshot${label}`, async () => {
    let pageText = '';
    let verdict = '';
    const { code, report, stderr } = await run(['--implementation', WRONG, '--property', 'fixtures', '--property', 'conformance'], async (page) => {
      verdict = await page.locator('#report > p').first().innerText();
      pageText = await page.locator('#report').innerText();
      await page.setViewportSize({ width: 1280, height: 900 });
      // Refreshing the README's picture is a choice (UPDATE_SCREENSHOT=1), so a test run never dirties the checkout.
      const shot = process.env.UPDATE_SCREENSHOT === '1' ? path.join(ROOT, 'docs/browser-report.png') : path.join(ROOT, 'reports/browser-report.png');
      await mkdir(path.dirname(shot), { recursive: true });
      await page.screenshot({ path: shot });
    });
    expect(code).toBe(1);
    expect(verdict).toMatch(/^FAIL ❌ 2 unexpected failures · 1 implementation, 2 cells: 2 fail/);
    const [wrong] = report.implementations;
    expect(wrong.name).toBe('browser/wrong-first-step');
    const conformance = wrong.cells.find((c) => c.property === 'conformance');
    expect(conformance?.outcome).toBe('fail');
    // The shrunk case is the bug itself: one step, with an initial state.
    expect(conformance?.counterexample?.request.dims.length).toBe(1);
    expect(conformance?.counterexample?.message).toMatch(/outputs differ from the reference/);
    expect(pageText).toContain('browser/wrong-first-step · linear-recurrence · conformance: fail');
    expect(pageText).toContain(conformance!.counterexample!.message.slice(0, 80));
    expect(pageText).toMatch(/counterexample \(after \d+ shrinks\): linear-recurrence, regime \S+, batch 1, dim 1, L 1, .*"h0":true/);
    expect(stderr).toContain('browser/wrong-first-step · linear-recurrence · conformance: fail');
  }, 120_000);

  it.skipIf(unavailable !== undefined)(`ran a bundle with no node: import and none of the suite's Node bindings${label}`, async () => {
    const meta = JSON.parse(await readFile((await pageScript()).replace(/\.js$/, '.meta.json'), 'utf8')) as { inputs: Record<string, { imports: { path: string; original?: string }[] }> };
    const inputs = Object.keys(meta.inputs);
    expect(inputs.some((i) => i.endsWith('suite/cell-runner.ts'))).toBe(true);
    expect(inputs.some((i) => i.endsWith('implementations/webgpu/wgsl-implementation.ts'))).toBe(true);
    for (const node of ['suite/runner.ts', 'suite/conformance-run.ts', 'suite/replay.ts', 'fixtures/loader.ts', 'implementations/webgpu/dawn.ts', 'suite/report/write.ts']) {
      expect(inputs.filter((i) => i.endsWith(node))).toEqual([]);
    }
    const imports = Object.values(meta.inputs).flatMap((i) => i.imports.map((x) => x.original ?? x.path));
    expect(imports.filter((i) => i.startsWith('node:'))).toEqual([]);
  });
});
