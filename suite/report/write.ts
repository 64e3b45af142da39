/**
 * Writes a report's three files (report.json, report.md, report.html) into a folder, each
 * atomically (temp file in the same folder, then rename), includes the optional benchmark table,
 * and appends report.md to $GITHUB_STEP_SUMMARY when that is set.
 */
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ConformanceReport } from '../results.ts';
import { readBenchTable } from './bench.ts';
import { renderHtml } from './html.ts';
import { renderJson } from './json.ts';
import { renderMarkdown } from './markdown.ts';
import { DEFAULT_REPORT_DIR, ENVIRONMENT } from '../settings.ts';

/** Where the files of a report were written. */
export interface WrittenReport {
  readonly json: string;
  readonly markdown: string;
  readonly html: string;
  /** The step summary file report.md was appended to, if any. */
  readonly stepSummary?: string;
}

/** Options of writeReports. */
export interface WriteReportsOptions {
  /** A bench.json to include (default: bench.json in the output folder, when it exists). */
  readonly benchFile?: string;
  /** Append report.md here (default: $GITHUB_STEP_SUMMARY; '' for never). */
  readonly stepSummary?: string;
}

/** Writes `text` (or bytes) to `file` atomically: a temporary sibling, then a rename (removed if anything fails). */
export async function writeFileAtomically(file: string, text: string | Uint8Array): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await (typeof text === 'string' ? writeFile(temporary, text, 'utf8') : writeFile(temporary, text));
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** Writes report.json, report.md and report.html into `dir`. */
export async function writeReports(report: ConformanceReport, dir: string = DEFAULT_REPORT_DIR, options: WriteReportsOptions = {}): Promise<WrittenReport> {
  const bench = await readBenchTable(options.benchFile ?? path.join(dir, 'bench.json'));
  const markdown = renderMarkdown(report, { bench });
  const html = await renderHtml(report, { bench });
  const files = { json: path.join(dir, 'report.json'), markdown: path.join(dir, 'report.md'), html: path.join(dir, 'report.html') };
  await writeFileAtomically(files.json, renderJson(report));
  await writeFileAtomically(files.markdown, markdown);
  await writeFileAtomically(files.html, html);
  const stepSummary = options.stepSummary ?? process.env[ENVIRONMENT.stepSummary] ?? '';
  if (stepSummary !== '') {
    // The step summary is GitHub's file, appended to by every step: append, never replace.
    await appendFile(stepSummary, `${markdown}\n`, 'utf8');
    return { ...files, stepSummary };
  }
  return files;
}
