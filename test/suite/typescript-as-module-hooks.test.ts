/**
 * Which user TypeScript files the compiled CLI loads as ES modules in a CommonJS project
 * (suite/typescript-as-module-hooks.ts); the whole path, an installed package in a project without
 * "type": "module", is test/package/pack.test.ts's.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { load, loadsAsModule } from '../../suite/typescript-as-module-hooks.ts';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ts-as-module-'));
  await mkdir(path.join(dir, 'node_modules/dep'), { recursive: true });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes `source` as `name` in the temporary folder and returns its file URL. */
async function file(name: string, source: string): Promise<string> {
  await writeFile(path.join(dir, name), source);
  return pathToFileURL(path.join(dir, name)).href;
}

const ES_MODULE = `import { defineImplementation } from 'scan-conformance';\nexport default defineImplementation({ name: 'x', precision: 'float32', families: {} });\n`;

describe('a TypeScript file in a CommonJS package', () => {
  it('loads as an ES module when it has import or export statements', async () => {
    expect(await loadsAsModule(await file('esm.ts', ES_MODULE), 'commonjs')).toBe(true);
    expect(await loadsAsModule(await file('export-only.ts', 'export const n: number = 1;\n'), 'commonjs')).toBe(true);
    expect(await loadsAsModule(await file('side-effect.tsx', "import './esm.ts';\n"), undefined)).toBe(true);
    // module.exports named in a comment is not CommonJS syntax.
    expect(await loadsAsModule(await file('mentions.ts', `${ES_MODULE}// unlike module.exports, an ES module has one default\n/* not module.exports either */\n`), 'commonjs')).toBe(true);
    // Nor is a string that names it; and a glob's `/*` in a string opens no comment that would hide the imports.
    expect(await loadsAsModule(await file('names.ts', `${ES_MODULE}export const hint = 'unlike module.exports';\n`), 'commonjs')).toBe(true);
    expect(await loadsAsModule(await file('glob.ts', `const files = ['src/**/*.ts'];\n${ES_MODULE}/** The files. */\nexport { files };\n`), 'commonjs')).toBe(true);
  });

  it('keeps CommonJS where the file is written as CommonJS, or has no module syntax', async () => {
    expect(await loadsAsModule(await file('export-equals.ts', 'const x = 1;\nexport = x;\n'), 'commonjs')).toBe(false);
    expect(await loadsAsModule(await file('import-require.ts', "import fs = require('node:fs');\nexport const read = fs.readFileSync;\n"), 'commonjs')).toBe(false);
    expect(await loadsAsModule(await file('module-exports.ts', "import fs from 'node:fs';\nmodule.exports = fs;\n"), 'commonjs')).toBe(false);
    expect(await loadsAsModule(await file('exports-name.ts', "import fs from 'node:fs';\nexports.read = fs.readFileSync;\n"), 'commonjs')).toBe(false);
    expect(await loadsAsModule(await file('assign-exports.ts', "import fs from 'node:fs';\nObject.assign(module.exports, { fs });\n"), 'commonjs')).toBe(false);
    expect(await loadsAsModule(await file('script.ts', 'const important = 1;\nconsole.log(important);\n'), 'commonjs')).toBe(false);
    expect(await loadsAsModule(await file('commented.ts', '/*\nimport x from "y";\n*/\nconst y = require("y");\n'), 'commonjs')).toBe(false);
    // A template literal's line that begins with `import` is text, not a statement.
    expect(await loadsAsModule(await file('template.ts', 'const generated = `\nimport x from "y";\n`;\nconsole.log(generated);\n'), 'commonjs')).toBe(false);
  });

  it('leaves files in node_modules, .cts and .mts files, modules already, and other URLs alone', async () => {
    expect(await loadsAsModule(await file('node_modules/dep/index.ts', ES_MODULE), 'commonjs')).toBe(false);
    expect(await loadsAsModule(await file('explicit.cts', ES_MODULE), 'commonjs')).toBe(false);
    expect(await loadsAsModule(await file('explicit.mts', ES_MODULE), 'commonjs')).toBe(false);
    expect(await loadsAsModule(await file('already.ts', ES_MODULE), 'module')).toBe(false);
    expect(await loadsAsModule('node:fs', 'builtin')).toBe(false);
    expect(await loadsAsModule(pathToFileURL(path.join(dir, 'missing.ts')).href, 'commonjs')).toBe(false);
  });

  it('the load hook hands the next hook the format module for such a file, and the context unchanged otherwise', async () => {
    const seen: unknown[] = [];
    const next = async (url: string, context?: object) => {
      seen.push({ url, ...context });
      return { url };
    };
    const esm = await file('hooked.ts', ES_MODULE);
    const cjs = await file('hooked-cjs.ts', 'export = 1;\n');
    await load(esm, { format: 'commonjs', importAttributes: {} }, next);
    await load(cjs, { format: 'commonjs', importAttributes: {} }, next);
    expect(seen).toEqual([
      { url: esm, format: 'module', importAttributes: {} },
      { url: cjs, format: 'commonjs', importAttributes: {} },
    ]);
  });
});
