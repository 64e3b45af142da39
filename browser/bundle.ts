/**
 * Bundles the browser page (browser/page.ts and the platform-neutral modules it imports) into
 * one ES module with esbuild, for the browser platform: a node: import anywhere in the page's
 * import graph fails the build (esbuild cannot resolve it for a browser), and the metafile is
 * checked once more so that no node: module, Dawn or a Node-only package slips in by other means.
 * Run at package build time (scripts/build.ts); in a source checkout the server bundles on start.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PAGE_BUNDLE } from './bundle-name.ts';

/** The page's entry point. */
export const PAGE_ENTRY = fileURLToPath(new URL('./page.ts', import.meta.url));

/** Imports the page must never have: Node's modules and packages that exist only for Node. */
const NODE_ONLY = /^node:|^(webgpu|@tensorflow\/tfjs-node|tsx)(\/|$)/;

/** What bundlePage wrote and read. */
export interface PageBundle {
  readonly file: string;
  /** Every source file bundled, relative to the package root. */
  readonly inputs: readonly string[];
  /** Every import the bundled files make (module specifiers as written, resolved paths for files). */
  readonly imports: readonly string[];
}

/** Writes `<outdir>/page-bundle.js` (and its metafile `page-bundle.meta.json`); throws naming any Node-only import. */
export async function bundlePage(outdir: string): Promise<PageBundle> {
  const esbuild = await import('esbuild');
  const file = path.join(outdir, PAGE_BUNDLE);
  const result = await esbuild.build({
    entryPoints: [PAGE_ENTRY],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outfile: file,
    metafile: true,
    minify: true,
    sourcemap: false,
    legalComments: 'eof',
    logLevel: 'silent',
  });
  const metafile = result.metafile;
  const imports = Object.values(metafile.inputs).flatMap((input) => input.imports.map((i) => i.original ?? i.path));
  const offending = Object.entries(metafile.inputs).flatMap(([source, input]) =>
    input.imports.filter((i) => NODE_ONLY.test(i.original ?? i.path) || NODE_ONLY.test(i.path)).map((i) => `${source} imports ${i.original ?? i.path}`),
  );
  if (offending.length > 0) throw new Error(`the browser page must not import Node-only modules: ${offending.join('; ')}`);
  const { writeFileAtomically } = await import('../suite/report/write.ts');
  await writeFileAtomically(path.join(outdir, PAGE_BUNDLE.replace(/\.js$/, '.meta.json')), JSON.stringify(metafile));
  return { file, inputs: Object.keys(metafile.inputs), imports };
}
