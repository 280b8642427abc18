import { clip, odataError, quote } from './filter-errors.js';
import { normaliseDateTime } from './literal-validators.js';

/** The OData parser knows the client wrote `$filter`, so its errors say so. */
const syntaxError = (message: string) => odataError('filter', message);

export type TokenKind =
  | '(' | ')' | ',' | '/' | ':'
  | 'string' | 'number' | 'datetime' | 'guid' | 'word' | 'end';

export interface Token {
  kind: TokenKind;
  /** Zero-based offset in the input; messages show it one-based. */
  offset: number;
  /** The source text exactly as written. */
  text: string;
  /** Strings: the text with '' unescaped. Datetimes: the normalised ISO form. */
  value?: string;
}

const GUID = /[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}/y;
// Deliberately loose: anything date-shaped is captured whole and then validated, so a typo
// such as 2024-13-01 gets a date error instead of a confusing "unexpected '-13'".
const DATE_LIKE = /\d{4}-\d{2}-\d{2}(?:[Tt][0-9:.]*(?:[Zz]|[+-][0-9:]*)?)?/y;
const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const WORD = /[A-Za-z_][A-Za-z0-9_]*/y;
const WORD_CHAR = /[A-Za-z0-9_.]/;

export function describeToken(token: Token): string {
  if (token.kind === 'end') return 'the end of the filter';
  return token.kind === 'string' ? `the text ${clip(token.text)}` : quote(token.text);
}

/** Splits the input into tokens; every lexical mistake is reported with its position. */
export function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const ch = input[i] as string;
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      i++;
      continue;
    }
    if (ch === '(' || ch === ')' || ch === ',' || ch === '/' || ch === ':') {
      tokens.push({ kind: ch, offset: i, text: ch });
      i++;
      continue;
    }
    if (ch === "'") {
      const { value, end } = readString(input, i);
      tokens.push({ kind: 'string', offset: i, text: input.slice(i, end), value });
      i = end;
      continue;
    }
    const token = matchAt(GUID, 'guid', input, i) ?? readDateTime(input, i) ?? matchAt(NUMBER, 'number', input, i) ?? matchAt(WORD, 'word', input, i);
    if (!token) {
      throw syntaxError(`Unexpected character ${quote(ch)} at position ${i + 1}. Text values must be in single quotes, e.g. userName eq 'jdoe'.`);
    }
    const next = input[i + token.text.length];
    if (token.kind !== 'word' && next !== undefined && WORD_CHAR.test(next)) {
      const tail = /[^\s(),/:]*/y;
      tail.lastIndex = i;
      const whole = tail.exec(input)?.[0] ?? token.text;
      throw syntaxError(`Invalid value ${quote(whole)} at position ${i + 1}. Quote text values, e.g. 'abc'.`);
    }
    tokens.push(token);
    i += token.text.length;
  }
  tokens.push({ kind: 'end', offset: input.length, text: '' });
  return tokens;
}

function matchAt(pattern: RegExp, kind: TokenKind, input: string, offset: number): Token | undefined {
  pattern.lastIndex = offset;
  const match = pattern.exec(input);
  return match ? { kind, offset, text: match[0] } : undefined;
}

function readString(input: string, start: number): { value: string; end: number } {
  let value = '';
  let i = start + 1;
  for (;;) {
    const quoteAt = input.indexOf("'", i);
    if (quoteAt < 0) {
      throw syntaxError(`Unterminated text value starting at position ${start + 1}: close it with ' (write '' for a quote inside the text).`);
    }
    value += input.slice(i, quoteAt);
    // OData escapes a quote inside text by doubling it.
    if (input[quoteAt + 1] === "'") {
      value += "'";
      i = quoteAt + 2;
      continue;
    }
    return { value, end: quoteAt + 1 };
  }
}

function readDateTime(input: string, offset: number): Token | undefined {
  const token = matchAt(DATE_LIKE, 'datetime', input, offset);
  if (!token) return undefined;
  const iso = normaliseDateTime(token.text);
  if (iso === undefined) {
    throw syntaxError(
      `Invalid date/time ${quote(token.text)} at position ${offset + 1}. Use a real date such as 2024-01-31, or a date-time with a time zone such as 2024-01-31T09:30:00Z.`,
    );
  }
  return { ...token, value: iso };
}
