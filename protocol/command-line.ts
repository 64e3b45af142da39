/**
 * Splits a testee command line into argv the way a POSIX shell splits words, without running a
 * shell: no expansion, no pipes, no redirections, so what the user typed is what gets executed.
 * Users who need a shell write it out: `sh -c 'source venv/bin/activate && python3 k.py'`.
 */

/** Thrown for a command line that cannot be split (an unclosed quote, a trailing backslash, nothing to run). */
export class CommandLineError extends Error {
  override readonly name = 'CommandLineError';
}

/**
 * Splits `line` into words: whitespace separates words; '…' keeps everything literally; "…" keeps
 * everything but lets a backslash escape " \ $ ` and newline; an unquoted backslash escapes the next character.
 */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i++;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new CommandLineError(`command: expected a closing ' for the quote opened at column ${i + 1}, got the end of ${JSON.stringify(line)}`);
      word += line.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      i++;
      let closed = false;
      while (i < line.length) {
        const d = line[i];
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        if (d === '\\' && i + 1 < line.length && '"\\$`\n'.includes(line[i + 1])) {
          word += line[i + 1];
          i += 2;
        } else {
          word += d;
          i++;
        }
      }
      if (!closed) throw new CommandLineError(`command: expected a closing " in ${JSON.stringify(line)}, got the end of the line`);
    } else if (c === '\\') {
      if (i + 1 >= line.length) throw new CommandLineError(`command: expected a character after the trailing backslash of ${JSON.stringify(line)}`);
      word += line[i + 1];
      i += 2;
    } else {
      word += c;
      i++;
    }
  }
  if (inWord) words.push(word);
  if (words.length === 0) throw new CommandLineError(`command: expected a program to run, got ${JSON.stringify(line)}`);
  return words;
}
