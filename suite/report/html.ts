/**
 * report.html: the report document as one self-contained page (inline CSS and SVG; no script,
 * no font, no external resource), with the plots of suite/report/plots.ts where the document
 * has its plot slot.
 */
import type { ConformanceReport } from '../results.ts';
import { reportDocument, summaryLine, type Block, type DocumentExtras } from './document.ts';
import { reportPlots, type Plot } from './plots.ts';

/** Escapes text for HTML content and attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1200px; padding: 0 1rem; color: #1b1f24; }
h1 { font-size: 1.6rem; } h2 { border-bottom: 1px solid #d0d7de; padding-bottom: .2rem; margin-top: 2rem; } h3 { margin-top: 1.4rem; }
table { border-collapse: collapse; margin: .6rem 0; font-size: 13px; } th, td { border: 1px solid #d0d7de; padding: 3px 8px; }
th { background: #f6f8fa; text-align: left; } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.fail { color: #b31d28; } .pass { color: #22863a; }
pre { background: #f6f8fa; border: 1px solid #d0d7de; padding: .6rem; overflow-x: auto; white-space: pre-wrap; }
figure { display: inline-block; margin: .5rem 1rem .5rem 0; vertical-align: top; } figcaption { max-width: 480px; font-size: 12px; color: #57606a; }
.plots { margin: 1rem 0; }
`;

/** Colour for a verdict in words (the words stay: colour alone says nothing to some readers). */
function verdictClass(text: string): string {
  if (text.startsWith('FAIL')) return ' class="fail"';
  return text.startsWith('PASS') ? ' class="pass"' : '';
}

function renderBlock(block: Block, plots: readonly Plot[]): string {
  switch (block.kind) {
    case 'heading':
      return `<h${block.level}>${escapeHtml(block.text)}</h${block.level}>`;
    case 'paragraph':
      return `<p>${block.strong === undefined ? '' : `<strong${verdictClass(block.strong)}>${escapeHtml(block.strong)}</strong>`}${escapeHtml(block.text)}</p>`;
    case 'table':
      return [
        '<table>',
        `<thead><tr>${block.headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead>`,
        '<tbody>',
        ...block.rows.map((row) => `<tr>${row.map((c, i) => `<td${block.numeric?.[i] ? ' class="num"' : ''}>${escapeHtml(c)}</td>`).join('')}</tr>`),
        '</tbody>',
        '</table>',
      ].join('\n');
    case 'list':
      return `<ul>${block.items.map((item) => `<li>${escapeHtml(item)}</li>`).join('')}</ul>`;
    case 'code':
      return `<pre>${escapeHtml(block.text)}</pre>`;
    case 'plots':
      if (plots.length === 0) return '';
      return [
        '<h2>Plots</h2>',
        '<div class="plots">',
        ...plots.map((p) => `<figure data-plot="${escapeHtml(p.title)}">${p.svg}<figcaption><strong>${escapeHtml(p.title)}.</strong> ${escapeHtml(p.caption)}</figcaption></figure>`),
        '</div>',
      ].join('\n');
  }
}

/** The HTML page of a report, plots included. */
export async function renderHtml(report: ConformanceReport, extras: DocumentExtras = {}): Promise<string> {
  const plots = await reportPlots(report);
  const body = reportDocument(report, extras)
    .map((b) => renderBlock(b, plots))
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>scan-conformance report: ${escapeHtml(summaryLine(report))}</title>
<style>${STYLE}</style>
</head>
<body>
${body}
</body>
</html>
`;
}
