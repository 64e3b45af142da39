/**
 * A JavaScript implementation module with import/export in a CommonJS package fails to load with
 * what to do (suite/registry.ts withModuleFormatHint); V8's own messages for both statements.
 */
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { withModuleFormatHint } from '../../suite/registry.ts';

/** The SyntaxError V8 throws for `source` compiled as a script (as CommonJS is). */
function scriptError(source: string): unknown {
  try {
    new vm.Script(source);
  } catch (error) {
    return error;
  }
  throw new Error(`compiled as a script: ${source}`);
}

describe('a .js module with ES module syntax loaded as CommonJS', () => {
  it.each([
    ["import { defineImplementation } from 'scan-conformance';", /^Cannot use import statement outside a module \(my-impl\.js loaded as CommonJS: its package\.json has no "type": "module"; name it \.mjs/],
    ['export default {};', /^Unexpected token 'export' \(my-impl\.js loaded as CommonJS/],
  ])('%s: says how to load it as an ES module, the original as its cause', (source, message) => {
    const original = scriptError(source);
    const hinted = withModuleFormatHint(original, '/project/my-impl.js');
    expect(hinted).toBeInstanceOf(SyntaxError);
    expect((hinted as Error).message).toMatch(message);
    expect((hinted as Error).cause).toBe(original);
  });

  it('a .cjs file: says that its extension makes it CommonJS, not its package.json', () => {
    const hinted = withModuleFormatHint(scriptError('export default {};'), '/project/my-impl.cjs');
    expect((hinted as Error).message).toMatch(/^Unexpected token 'export' \(my-impl\.cjs loaded as CommonJS: a \.cjs file is always CommonJS; name it \.mjs, or write it in TypeScript/);
    expect((hinted as Error).message).not.toContain('package.json');
  });

  it('leaves other errors, and other files, as they came', () => {
    const original = scriptError("import { x } from 'y';");
    expect(withModuleFormatHint(original, '/project/my-impl.ts')).toBe(original);
    expect(withModuleFormatHint(original, '/project/my-impl.mjs')).toBe(original);
    const other = scriptError('const = 1;');
    expect(withModuleFormatHint(other, '/project/my-impl.js')).toBe(other);
    const thrown = new Error('this module cannot be loaded');
    expect(withModuleFormatHint(thrown, '/project/my-impl.js')).toBe(thrown);
  });
});
