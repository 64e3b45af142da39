/** report.md: the report document as GitHub-flavoured Markdown, fit for a CI step summary. */
import type { ConformanceReport } from '../results.ts';
import { reportDocument, type Block, type DocumentExtras } from './document.ts';

/** Escapes text for a Markdown table cell (pipes, line breaks). */
function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
}

/** A fenced code block whose fence is longer than any backtick run inside. */
function fenced(text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}text\n${text}\n${fence}`;
}

/** Renders one block. */
function renderBlock(block: Block): string | undefined {
  switch (block.kind) {
    case 'heading':
      return `${'#'.repeat(block.level)} ${block.text}`;
    case 'paragraph':
      return block.strong === undefined ? block.text : `**${block.strong.trim()}** ${block.text}`;
    case 'table': {
      const align = block.headers.map((_, i) => (block.numeric?.[i] ? '---:' : '---'));
      return [
        `| ${block.headers.map(cell).join(' | ')} |`,
        `| ${align.join(' | ')} |`,
        ...block.rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
      ].join('\n');
    }
    case 'list':
      return block.items.map((item) => `- ${item.replace(/\r?\n/g, ' ')}`).join('\n');
    case 'code':
      return fenced(block.text);
    case 'plots':
      return undefined;
  }
}

/** The Markdown text of a report. */
export function renderMarkdown(report: ConformanceReport, extras: DocumentExtras = {}): string {
  return `${reportDocument(report, extras)
    .map(renderBlock)
    .filter((x): x is string => x !== undefined)
    .join('\n\n')}\n`;
}
