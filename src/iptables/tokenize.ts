/** Splits one iptables rule line into arguments the way iptables-restore does: whitespace runs, double quotes, backslash escapes. */

export class TokenizeError extends Error {
  readonly code = 'UNBALANCED_QUOTE';
}

const SPACE = 32;
const TAB = 9;
const CR = 13;
const QUOTE = 34;
const BACKSLASH = 92;

/**
 * Tokenise `text` starting at `start`. Quotes group words (`"a b"` → `a b`), `\"` and `\\` inside
 * quotes are unescaped, quotes may join with adjacent text (`x"y z"` → `xy z`) as in iptables-restore's
 * own add_param_to_argv. Throws TokenizeError on an unterminated quote.
 */
export function tokenize(text: string, start = 0): string[] {
  const tokens: string[] = [];
  const end = text.length;
  let i = start;
  while (i < end) {
    let c = text.charCodeAt(i);
    if (c === SPACE || c === TAB || c === CR) {
      i++;
      continue;
    }
    // Fast path: an unquoted word, the overwhelmingly common case.
    const wordStart = i;
    while (i < end) {
      c = text.charCodeAt(i);
      if (c === SPACE || c === TAB || c === CR || c === QUOTE || c === BACKSLASH) break;
      i++;
    }
    if (i === end || c !== QUOTE && c !== BACKSLASH) {
      tokens.push(text.slice(wordStart, i));
      continue;
    }
    // Slow path: the word contains quotes or escapes.
    let word = text.slice(wordStart, i);
    let quoted = false;
    while (i < end) {
      c = text.charCodeAt(i);
      if (!quoted && (c === SPACE || c === TAB || c === CR)) break;
      if (c === QUOTE) {
        quoted = !quoted;
        i++;
        continue;
      }
      if (c === BACKSLASH && i + 1 < end) {
        const next = text.charCodeAt(i + 1);
        // iptables-save escapes only `"` and `\` (xtables_save_string); other backslashes are literal.
        if (next === QUOTE || next === BACKSLASH) {
          word += text[i + 1];
          i += 2;
          continue;
        }
      }
      word += text[i];
      i++;
    }
    if (quoted) throw new TokenizeError(`unbalanced double quote at column ${wordStart + 1}`);
    tokens.push(word);
  }
  return tokens;
}
