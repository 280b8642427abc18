import { unstorableText } from '../domain/storable-values.js';
import { describeChar, echo, ScimFilterError, type ScimSyntaxType } from './scim-filter-errors.js';

/**
 * Tokens of RFC 7644 §3.4.2.2 filters and §3.5.2 PATCH paths. An attribute path, with its schema
 * URN and sub-attribute (`urn:…:2.0:User:name.givenName`), is one `word`: the parser splits it,
 * so a URN's dots and colons never need tokens of their own.
 */
export type ScimTokenKind = '(' | ')' | '[' | ']' | '.' | 'string' | 'number' | 'word' | 'end';

export interface ScimToken {
  kind: ScimTokenKind;
  /** Zero-based offset in the input; messages show it one-based. */
  offset: number;
  /** The source text exactly as written. */
  text: string;
  /** Strings: the decoded JSON string. */
  value?: string;
}

/** What is being read, for the error type and for "the end of the filter" / "the end of the path". */
export interface ScimSyntax {
  scimType: ScimSyntaxType;
  noun: 'filter' | 'path';
}

export const FILTER_SYNTAX: ScimSyntax = { scimType: 'invalidFilter', noun: 'filter' };
export const PATH_SYNTAX: ScimSyntax = { scimType: 'invalidPath', noun: 'path' };

/** Throws the syntax error of `syntax` at a zero-based offset; the message shows it one-based. */
export function syntaxError(syntax: ScimSyntax, offset: number, message: string): never {
  throw new ScimFilterError(syntax.scimType, message, offset + 1);
}

// RFC 8259 number: no leading zeros, no bare '.', no '+' sign.
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
// ATTRNAME is ALPHA *(ALPHA / DIGIT / "-" / "_"); '.', ':' and '$' join the URN and the
// sub-attribute (`$ref`) into one word, which the parser then checks piece by piece.
const WORD = /[A-Za-z$][A-Za-z0-9._:$-]*/y;
const WORD_CHAR = /[A-Za-z0-9._:$-]/;
const HEX4 = /^[0-9A-Fa-f]{4}$/;
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/** How a token reads in a message. */
export function describeToken(token: ScimToken, syntax: ScimSyntax): string {
  if (token.kind === 'end') return `the end of the ${syntax.noun}`;
  return token.kind === 'string' ? `the string ${echo(token.text)}` : `'${echo(token.text)}'`;
}

/** Splits the input into tokens; every lexical mistake is reported with its position. */
export function tokenizeScim(input: string, syntax: ScimSyntax): ScimToken[] {
  const tokens: ScimToken[] = [];
  let i = 0;
  while (i < input.length) {
    const ch = input[i] as string;
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      i++;
      continue;
    }
    if (ch === '(' || ch === ')' || ch === '[' || ch === ']' || ch === '.') {
      tokens.push({ kind: ch, offset: i, text: ch });
      i++;
      continue;
    }
    if (ch === '"') {
      const { value, end } = readString(input, i, syntax);
      tokens.push({ kind: 'string', offset: i, text: input.slice(i, end), value });
      i = end;
      continue;
    }
    const token = matchAt(NUMBER, 'number', input, i) ?? matchAt(WORD, 'word', input, i);
    if (!token) {
      const hint =
        ch === "'"
          ? ' Text values are JSON strings in double quotes, e.g. userName eq "jdoe".'
          : ch === ','
            ? " SCIM filters have no functions or lists: join conditions with 'and' or 'or', and use co, sw or ew for text."
            : '';
      syntaxError(syntax, i, `Unexpected character ${describeChar(input.slice(i, i + 2))} at position ${i + 1}.${hint}`);
    }
    const next = input[i + token.text.length];
    if (token.kind === 'number' && next !== undefined && WORD_CHAR.test(next)) {
      const tail = /[^\s()[\]"]*/y;
      tail.lastIndex = i;
      const whole = tail.exec(input)?.[0] ?? token.text;
      syntaxError(syntax, i, `Invalid value '${echo(whole)}' at position ${i + 1}: numbers are JSON numbers such as 42, -1.5 or 2e3, and text goes in double quotes, e.g. "${echo(whole)}".`);
    }
    tokens.push(token);
    i += token.text.length;
  }
  tokens.push({ kind: 'end', offset: input.length, text: '' });
  return tokens;
}

function matchAt(pattern: RegExp, kind: ScimTokenKind, input: string, offset: number): ScimToken | undefined {
  pattern.lastIndex = offset;
  const match = pattern.exec(input);
  return match ? { kind, offset, text: match[0] } : undefined;
}

/** Reads a JSON string (RFC 8259 §7) starting at the opening quote. */
function readString(input: string, start: number, syntax: ScimSyntax): { value: string; end: number } {
  let value = '';
  let i = start + 1;
  for (;;) {
    if (i >= input.length) {
      syntaxError(syntax, start, `Unterminated string starting at position ${start + 1}: close it with " (write \\" for a quote inside it).`);
    }
    const ch = input[i] as string;
    if (ch === '"') break;
    if (ch === '\\') {
      const escape = input[i + 1];
      const simple = escape === undefined ? undefined : SIMPLE_ESCAPES[escape];
      if (simple !== undefined) {
        value += simple;
        i += 2;
        continue;
      }
      if (escape === 'u') {
        const hex = input.slice(i + 2, i + 6);
        if (!HEX4.test(hex)) syntaxError(syntax, i, `Invalid escape '${echo(input.slice(i, i + 6))}' at position ${i + 1}: \\u needs four hexadecimal digits, e.g. \\u00e9.`);
        value += String.fromCharCode(parseInt(hex, 16));
        i += 6;
        continue;
      }
      if (escape === undefined) {
        i++; // the unterminated-string error above reports it
        continue;
      }
      syntaxError(syntax, i, `Invalid escape '\\${echo(escape)}' at position ${i + 1} in a string; use \\", \\\\, \\/, \\b, \\f, \\n, \\r, \\t or \\uXXXX.`);
    }
    if (ch.charCodeAt(0) < 0x20) {
      syntaxError(syntax, i, `Unescaped control character ${describeChar(ch)} at position ${i + 1} in a string; write it as \\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}.`);
    }
    value += ch;
    i++;
  }
  // Neither database can store or compare these, so a filter on them could only fail later.
  const why = unstorableText(value);
  if (why) syntaxError(syntax, start, `The string at position ${start + 1} ${why}.`);
  return { value, end: i + 1 };
}
