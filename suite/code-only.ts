/**
 * A JavaScript or TypeScript source reduced to its code: comments removed, the contents of string,
 * template and regular expression literals emptied, line breaks kept, so that a pattern looking for
 * statements at the start of a line sees only real ones. Written here rather than taken from a
 * library: the parsers that could do it either compile TypeScript first (esbuild, which rewrites the
 * very CommonJS forms the caller looks for) or are not a dependency of the package (typescript).
 */

/** Words after which a `/` begins a regular expression literal, not a division. */
const BEFORE_EXPRESSION = new Set(['return', 'typeof', 'instanceof', 'in', 'of', 'new', 'delete', 'void', 'throw', 'case', 'do', 'else', 'yield', 'await']);

/** Whether a `/` after this last kept token (its last character, and the word it ends, if any) begins a regular expression literal. */
function regexStartsAfter(last: string, word: string): boolean {
  if (last === '') return true;
  if (/[\w$]/.test(last)) return BEFORE_EXPRESSION.has(word);
  // After a value a slash divides; after an operator or an opening bracket it begins a literal.
  return !/[)\]'"`/]/.test(last);
}

/** The line breaks of a skipped stretch, so that the lines after it keep their numbers and starts. */
function lineBreaksOf(text: string): string {
  return text.replace(/[^\n]/g, '');
}

/** The source with its comments removed and the contents of its literals emptied; line breaks stay. */
export function codeOnly(source: string): string {
  const kept: string[] = [];
  // The last character kept other than white space, the word it ends (empty if none), and whether
  // the character kept just before continues a word.
  let last = '';
  let word = '';
  let inWord = false;
  /** Keeps a piece of code. */
  const keep = (piece: string): void => {
    kept.push(piece);
    for (const ch of piece) {
      const wordCharacter = /[\w$]/.test(ch);
      if (wordCharacter) word = inWord ? word + ch : ch;
      else if (!/\s/.test(ch)) word = '';
      if (!/\s/.test(ch)) last = ch;
      inWord = wordCharacter;
    }
  };
  // For each template literal whose `${` is open: the brace depth at which its expression ends.
  const templates: number[] = [];
  let braces = 0;
  let i = 0;
  /** Skips a template literal's text from i (after its backtick or a `}`), up to its end or next `${`. */
  const templateText = (): void => {
    const start = i;
    while (i < source.length && source[i] !== '`' && !(source[i] === '$' && source[i + 1] === '{')) i += source[i] === '\\' ? 2 : 1;
    keep(lineBreaksOf(source.slice(start, i)));
    if (source[i] === '`') {
      keep('`');
      i += 1;
    } else if (i < source.length) {
      keep('${');
      i += 2;
      templates.push(braces);
      braces += 1;
    }
  };
  while (i < source.length) {
    const c = source[i];
    const next = source[i + 1];
    if (c === '/' && next === '/') {
      while (i < source.length && source[i] !== '\n') i += 1;
    } else if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end < 0 ? source.length : end + 2;
      keep(lineBreaksOf(source.slice(i, stop)) || ' ');
      i = stop;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < source.length && source[j] !== c && source[j] !== '\n') j += source[j] === '\\' ? 2 : 1;
      // A line continuation inside the string keeps its line break.
      keep(c + lineBreaksOf(source.slice(i + 1, j)) + c);
      i = source[j] === c ? j + 1 : j;
    } else if (c === '`') {
      keep('`');
      i += 1;
      templateText();
    } else if (c === '/' && regexStartsAfter(last, word)) {
      let j = i + 1;
      let inClass = false;
      while (j < source.length && source[j] !== '\n' && (inClass || source[j] !== '/')) {
        if (source[j] === '[') inClass = true;
        else if (source[j] === ']') inClass = false;
        j += source[j] === '\\' && source[j + 1] !== '\n' ? 2 : 1;
      }
      keep('/ /');
      i = source[j] === '/' ? j + 1 : j;
    } else if (c === '}' && templates.at(-1) === braces - 1) {
      templates.pop();
      braces -= 1;
      keep('}');
      i += 1;
      templateText();
    } else {
      if (c === '{') braces += 1;
      else if (c === '}') braces -= 1;
      keep(c);
      i += 1;
    }
  }
  return kept.join('');
}
