/**
 * What both databases can store exactly, checked once where input enters (the HTTP edge, the
 * cursor decoder, the filter tree validator) so SQLite and PostgreSQL answer the same 400 instead
 * of one storing and the other failing:
 *
 * - Text: PostgreSQL `text` and `jsonb` refuse U+0000, and a lone UTF-16 surrogate is not Unicode
 *   (PostgreSQL refuses it, SQLite stores U+FFFD). Both are refused everywhere a string enters.
 * - Free-form JSON (user `attributes`, identity provider `config`): at most FREE_JSON_LIMITS.maxDepth
 *   levels and maxBytes of UTF-8 JSON text. Recursive code (diffing, merge patch, serialising,
 *   fingerprinting) and SQLite's JSON functions (1,000 levels) are then always safe.
 * - Numbers: an integer literal beyond ±(2^53 − 1) would be rounded by JSON.parse; RFC 7493
 *   (I-JSON) §2.2 says such numbers are not interoperable, so they are refused, not rounded.
 */

/** Limits of a free-form JSON value (documented in the README and the OpenAPI document). */
export const FREE_JSON_LIMITS = { maxDepth: 32, maxBytes: 64 * 1024 } as const;

/** Any JSON request body: a bound far above every envelope, far below what recursion survives. */
export const MAX_BODY_DEPTH = 64;

const UNSTORABLE = /[\u0000\ud800-\udfff]/;

/**
 * Why a string cannot be stored as sent, or undefined when it can: a NUL character, or a UTF-16
 * surrogate that is not half of a pair. Properly paired surrogates (e.g. emoji) are fine.
 */
export function unstorableText(text: string): string | undefined {
  if (!UNSTORABLE.test(text)) return undefined;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0) return 'must not contain the NUL character (U+0000)';
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return `must not contain a lone UTF-16 surrogate (U+${code.toString(16).toUpperCase()}): it is not a Unicode character`;
    }
    if (code >= 0xdc00 && code <= 0xdfff) return `must not contain a lone UTF-16 surrogate (U+${code.toString(16).toUpperCase()}): it is not a Unicode character`;
  }
  return undefined;
}

/** One unstorable value found in a structure: where (JSON pointer below the root) and why. */
export interface ValueProblem {
  pointer: string;
  message: string;
}

/** Escapes a key for a JSON pointer (RFC 6901). */
export const pointerSegment = (key: string): string => key.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * Every unstorable string (values and object keys) in a parsed JSON, query or form value, at
 * most `limit` of them, plus how many there were in all. Iterative, so no depth can overflow it.
 */
export function findUnstorableText(value: unknown, limit: number): { problems: ValueProblem[]; total: number } {
  const problems: ValueProblem[] = [];
  let total = 0;
  // Each entry links to its parent; a pointer is spelled out only for a problem.
  interface Entry { value: unknown; key: string | number; parent: Entry | undefined }
  const pointerOf = (entry: Entry | undefined): string => (entry?.parent ? `${pointerOf(entry.parent)}/${pointerSegment(String(entry.key))}` : '');
  const report = (pointer: string, message: string) => {
    total++;
    if (problems.length < limit) problems.push({ pointer, message });
  };
  const stack: Entry[] = [{ value, key: '', parent: undefined }];
  while (stack.length > 0) {
    const entry = stack.pop() as Entry;
    const current = entry.value;
    if (typeof current === 'string') {
      const why = unstorableText(current);
      if (why) report(pointerOf(entry), why);
      continue;
    }
    if (typeof current !== 'object' || current === null) continue;
    const push = (key: string | number, child: unknown) => {
      if (typeof child === 'string' || (typeof child === 'object' && child !== null)) stack.push({ value: child, key, parent: entry });
    };
    if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) push(i, current[i]);
      continue;
    }
    const keys = Object.keys(current);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i] as string;
      const why = unstorableText(key);
      if (why) report(`${pointerOf(entry)}/${pointerSegment(key.replace(/[\u0000\ud800-\udfff]/g, '\ufffd'))}`, `has a key that ${why}`);
      else push(key, (current as Record<string, unknown>)[key]);
    }
  }
  return { problems, total };
}

/** Nesting depth of a JSON value (a scalar is 0, `{}` and `[]` are 1), counting no further than `stopAt`. Iterative. */
export function jsonDepth(value: unknown, stopAt: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (typeof current !== 'object' || current === null) continue;
    const here = depth + 1;
    if (here > deepest) deepest = here;
    if (deepest > stopAt) return deepest;
    for (const child of Array.isArray(current) ? current : Object.values(current)) {
      if (typeof child === 'object' && child !== null) stack.push([child, here]);
    }
  }
  return deepest;
}

/**
 * Why a free-form JSON value exceeds FREE_JSON_LIMITS, or undefined. The depth is checked first,
 * so serialising to measure the size can never recurse too deeply.
 */
export function freeJsonProblem(value: unknown, limits: { maxDepth: number; maxBytes: number } = FREE_JSON_LIMITS): string | undefined {
  if (jsonDepth(value, limits.maxDepth) > limits.maxDepth) return `must not nest more than ${limits.maxDepth} levels of objects and arrays`;
  const bytes = Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
  if (bytes > limits.maxBytes) return `must not be larger than ${limits.maxBytes} bytes as JSON (it is ${bytes})`;
  return undefined;
}
