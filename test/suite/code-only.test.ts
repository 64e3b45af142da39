/** What suite/code-only.ts keeps of a source: code, with comments gone and literals emptied, lines unchanged. */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { codeOnly } from '../../suite/code-only.ts';

describe('codeOnly', () => {
  it('removes line and block comments, keeping the line breaks of a block', () => {
    expect(codeOnly('a(); // module.exports\nb();')).toBe('a(); \nb();');
    expect(codeOnly('/*\nimport x from "y";\n*/\nconst y = 1;')).toBe('\n\n\nconst y = 1;');
    expect(codeOnly('a /* inline */ + b')).toBe('a   + b');
    expect(codeOnly('a(); /* never closed\nimport x from "y";')).toBe('a(); \n');
  });

  it('empties string literals, so that a glob or a name inside one hides no code and is no code', () => {
    const glob = "const files = ['src/**/*.ts'];\nimport { run } from 'x';\n/** doc */\nrun(files);";
    expect(codeOnly(glob)).toBe("const files = [''];\nimport { run } from '';\n \nrun(files);");
    expect(codeOnly('throw new Error("set module.exports");')).toBe('throw new Error("");');
    expect(codeOnly(String.raw`const q = 'it\'s // not a comment'; f();`)).toBe("const q = ''; f();");
    // An unterminated string ends at its line; the next line is code.
    expect(codeOnly("const s = 'open\nexport const n = 1;")).toBe("const s = ''\nexport const n = 1;");
  });

  it('empties template text, keeping its line breaks and the code of its ${…} expressions', () => {
    expect(codeOnly('const t = `\nimport x from "y";\n`;')).toBe('const t = `\n\n`;');
    expect(codeOnly('const t = `a ${f({ k: `in ${g("s")}` })} // b`; h();')).toBe('const t = `${f({ k: `${g("")}` })}`; h();');
    expect(codeOnly('`${a}`/2')).toBe('`${a}`/2');
  });

  it('empties regular expression literals and tells them from divisions', () => {
    expect(codeOnly('const r = /\\/*x[/]/g; export const y = 1; /* c */')).toBe('const r = / /g; export const y = 1;  ');
    expect(codeOnly('return /a"b/.test(s);')).toBe('return / /.test(s);');
    expect(codeOnly('const h = w / 2 / k; // half')).toBe('const h = w / 2 / k; ');
    expect(codeOnly('f(x) / g(y) /* c */')).toBe('f(x) / g(y)  ');
    expect(codeOnly("a[i] / 'b'.length")).toBe("a[i] / ''.length");
  });

  test.prop([fc.string({ unit: fc.constantFrom('a', ' ', '\n', '/', '*', "'", '"', '`', '$', '{', '}', '\\', '[', ']', '(', ')', 'return') })])(
    'keeps every line break of any source, so line starts stay where they were',
    (source) => {
      const breaks = (text: string) => text.split('\n').length - 1;
      expect(breaks(codeOnly(source))).toBe(breaks(source));
    },
  );
});
