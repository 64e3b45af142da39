/**
 * Node module hooks (registered by ./typescript-loader.ts after tsx's): a user's TypeScript file with
 * ES module syntax loads as an ES module even where its package.json says CommonJS (no "type":
 * "module", as `npm init` writes it). tsx would compile it to CommonJS there, whose require() of this
 * ES-module-only package fails with an error about the package's exports, not about the file.
 * Files in node_modules, .cts/.mts, and TypeScript written as CommonJS (`export =`,
 * `import x = require(…)`, module.exports, exports.name =) keep the format their package gives them;
 * comments and the text of string, template and regular expression literals count for neither.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { codeOnly } from './code-only.ts';

/** What Node passes a load hook and takes back (the subset used here). */
interface LoadContext {
  readonly format?: string | null;
  readonly [key: string]: unknown;
}
type NextLoad = (url: string, context?: LoadContext) => Promise<unknown>;

/** ES module syntax: a top-level import or export statement other than TypeScript's CommonJS forms. */
const ES_MODULE_SYNTAX = /^[ \t]*(?:import[\s{*'"](?!\s*[\w$]+\s*=\s*require\s*\()|export[\s{*](?!\s*=))/m;
// Both are matched on the code alone (codeOnly): a comment or a string that names module.exports, or a line of a
// template literal that begins with `import`, says nothing of the file's format.
const COMMONJS_SYNTAX = /^[ \t]*export\s*=|^[ \t]*import\s+[\w$]+\s*=\s*require\s*\(|\bmodule\.exports\b|^[ \t]*exports\s*[.[=]/m;

/** Whether a file of this URL, given the format its package implies, should load as an ES module instead. */
export async function loadsAsModule(url: string, format: string | null | undefined): Promise<boolean> {
  if (format === 'module' || !url.startsWith('file:') || url.includes('/node_modules/')) return false;
  const file = fileURLToPath(url);
  if (!/\.tsx?$/.test(file)) return false;
  const code = codeOnly(await readFile(file, 'utf8').catch(() => ''));
  return ES_MODULE_SYNTAX.test(code) && !COMMONJS_SYNTAX.test(code);
}

/** The load hook: the format `module` for the files loadsAsModule picks, the package's format otherwise. */
export async function load(url: string, context: LoadContext, nextLoad: NextLoad): Promise<unknown> {
  if (await loadsAsModule(url, context.format)) return nextLoad(url, { ...context, format: 'module' });
  return nextLoad(url, context);
}
