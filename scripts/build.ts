/**
 * Builds the publishable package into dist/: compiles the sources with tsconfig.build.json (the
 * `.ts` import specifiers rewritten to `.js`, declarations emitted) and copies the committed
 * fixtures (manifest.json and data/), which the loader finds next to its compiled module, and
 * bundles the browser page (browser/bundle.ts: esbuild, failing on any Node-only import) into
 * dist/browser/page-bundle.js, which `scan-conformance browser` serves: the user never builds.
 * Run by `npm run build` and by `prepack`, so `npm pack` / `npm publish` always ship a fresh build.
 */
import { spawnSync } from 'node:child_process';
import { cp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = path.join(root, 'dist');

await rm(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
process.stderr.write('build: compiling with tsconfig.build.json…\n');
// Emit only: `npm test` type-checks the same sources first (tsc --noEmit -p tsconfig.json, tests
// included); --noCheck writes the same files (compared with diff -r) in less time.
const compiled = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json'), '--noCheck'], { stdio: 'inherit' });
if (compiled.status !== 0) {
  process.stderr.write(`build: tsc failed (exit ${compiled.status ?? compiled.signal})\n`);
  process.exit(1);
}
await cp(path.join(root, 'fixtures', 'manifest.json'), path.join(dist, 'fixtures', 'manifest.json'));
await cp(path.join(root, 'fixtures', 'data'), path.join(dist, 'fixtures', 'data'), { recursive: true });
process.stderr.write('build: bundling the browser page…\n');
const { bundlePage } = await import('../browser/bundle.ts');
const page = await bundlePage(path.join(dist, 'browser'));
process.stderr.write(`build: wrote ${path.relative(root, page.file)} (${page.inputs.length} modules, no Node-only import)\n`);
process.stderr.write(`build: wrote ${path.relative(process.cwd(), dist) || dist}\n`);
