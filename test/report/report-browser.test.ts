/**
 * report.html as a person sees it: rendered by headless Chromium (Debian's `chromium`, driven by
 * playwright-core; no browser is downloaded), from a quick real run of sequential-f32,
 * sequential-f64 and a wrong prefix sum over the prefix-sum fixtures up to L = 64. The page must
 * show the verdict in words, and the bound-usage plot one legend entry per implementation, its
 * line at 1 where the axis says 1, the correct kernels under it and the wrong one above it.
 * Without Chromium the tests are skipped with the reason shown, unless REQUIRE_CHROMIUM=1 (CI),
 * where its absence fails. A screenshot of the page and of the plot is left in the temporary
 * folder named in the test output, for a person to look at.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS as HEADLESS_ARGS, DEFAULT_CHROMIUM, chromiumUnavailable } from '../../browser/chromium.ts';
import { FIXTURES_DIR } from '../../fixtures/folder.ts';
import sequential from '../../implementations/sequential/index.ts';
import type { ScanImplementation } from '../../spec/implementation.ts';
import { runConformance } from '../../suite/conformance-run.ts';
import { fixtureSourceFromDirectory } from '../../suite/fixture-source.ts';
import { writeReports } from '../../suite/report/write.ts';
import { offByOnePrefixSum } from '../cli/modules/prefix-sums.ts';

const CHROMIUM = DEFAULT_CHROMIUM;
const REQUIRED = process.env.REQUIRE_CHROMIUM === '1';
const unavailable = chromiumUnavailable(CHROMIUM);
const label = unavailable === undefined ? '' : ` (skipped: ${unavailable})`;

/** The launcher's switches (browser/chromium.ts); a static report needs no GPU. */
const CHROMIUM_ARGS = [...HEADLESS_ARGS, '--disable-gpu'];

const implementations = (sequential as ScanImplementation[]).filter((i) => i.name === 'sequential-f32' || i.name === 'sequential-f64');
const NAMES = [...implementations.map((i) => i.name), offByOnePrefixSum.name];

let dir: string;
let context: BrowserContext | undefined;
let page: Page;

beforeAll(async () => {
  if (unavailable !== undefined) return;
  dir = await mkdtemp(path.join(os.tmpdir(), 'scan-conformance-browser-'));
  const report = await runConformance({
    implementations: [...implementations, offByOnePrefixSum],
    runOptions: {
      runs: 3,
      families: ['prefix-sum'],
      properties: ['fixtures', 'conformance'],
      maxLength: 64,
      fixtures: fixtureSourceFromDirectory(FIXTURES_DIR, { maxLength: 64 }),
    },
  });
  const written = await writeReports({ ...report, settings: { ...report.settings, fixtureFolders: [FIXTURES_DIR] } }, dir, { stepSummary: '' });
  context = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
  });
  page = await context.newPage();
  await page.goto(pathToFileURL(written.html).href);
}, 60_000);

afterAll(async () => {
  await context?.close();
  // The screenshots stay for a person to look at; the rest goes.
  if (dir !== undefined) await rm(path.join(dir, 'profile'), { recursive: true, force: true });
});

describe('report.html in headless Chromium', () => {
  it.runIf(unavailable !== undefined && REQUIRED)('Chromium is present (REQUIRE_CHROMIUM=1)', () => {
    throw new Error(`REQUIRE_CHROMIUM=1 but ${unavailable}`);
  });

  it.skipIf(unavailable !== undefined)(`shows the verdict in words beside its symbol, and the fixture folder${label}`, async () => {
    const verdict = await page.locator('body > p').first().innerText();
    expect(verdict).toMatch(/^FAIL ❌ \d+ unexpected failures? · 3 implementations/);
    expect(await page.locator('body').innerText()).toContain(`fixtures: ${FIXTURES_DIR}.`);
    // Every accuracy row says its verdict in words: the wrong kernel's fixture buckets fail.
    const verdicts = await page.locator('table td:last-child').allInnerTexts();
    expect(verdicts).toContain('PASS ✅');
    expect(verdicts).toContain('FAIL ❌');
  });

  it.skipIf(unavailable !== undefined)(`draws the bound-usage plot with one full-named legend entry per implementation${label}`, async () => {
    const plot = page.locator('figure[data-plot="prefix-sum: bound usage against length"]');
    await expect.poll(() => plot.isVisible()).toBe(true);
    await plot.screenshot({ path: path.join(dir, 'bound-usage.png') });
    await page.screenshot({ path: path.join(dir, 'report.png'), fullPage: true });
    console.info(`screenshots: ${path.join(dir, 'report.png')}, ${path.join(dir, 'bound-usage.png')}`);
    const legend = plot.locator('g.role-legend').filter({ has: page.locator('g.role-legend-title text', { hasText: /^implementation$/ }) });
    const labels = await legend.locator('g.role-legend-label text').allTextContents();
    expect(labels).toEqual(NAMES);
    // Every label is drawn whole: no ellipsis, and wider than a cut label would be.
    for (const text of await legend.locator('g.role-legend-label text').all()) {
      const box = await text.boundingBox();
      expect(box?.width).toBeGreaterThan(60);
    }
    const colours = await legend.locator('g.role-legend-symbol path').evaluateAll((paths) => paths.map((p) => p.getAttribute('fill')));
    expect(new Set(colours).size).toBe(NAMES.length);
  });

  it.skipIf(unavailable !== undefined)(`draws the line at 1 where the axis says 1, the correct kernels under it and the wrong one above${label}`, async () => {
    const plot = page.locator('figure[data-plot="prefix-sum: bound usage against length"]');
    const rule = await plot.locator('g.mark-rule.role-mark line').boundingBox();
    const one = await plot
      .locator('g.role-axis[aria-label^="Y-axis"] g.role-axis-label text')
      .filter({ hasText: /^1$/ })
      .boundingBox();
    expect(rule).not.toBeNull();
    expect(one).not.toBeNull();
    // The label's middle sits level with the rule (the axis draws its labels centred on their ticks).
    expect(Math.abs(one!.y + one!.height / 2 - rule!.y)).toBeLessThan(3);
    const pointsOf = async (name: string) =>
      Promise.all((await plot.locator(`g.role-mark path[aria-roledescription="point"][aria-label="${name}"]`).all()).map(async (p) => (await p.boundingBox())!));
    for (const name of ['sequential-f32', 'sequential-f64']) {
      const points = await pointsOf(name);
      expect(points.length).toBeGreaterThan(0);
      // Screen y grows downwards: under the line means a larger y.
      for (const p of points) expect(p.y + p.height / 2).toBeGreaterThan(rule!.y);
    }
    const wrong = await pointsOf(offByOnePrefixSum.name);
    expect(wrong.some((p) => p.y + p.height / 2 < rule!.y)).toBe(true);
  });
});
