/**
 * Literal checks shared by the parsers, the compiler and the cursor decoder, so a value that one
 * of them accepts is never rejected (or misread) by another.
 */

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/i;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A field or path segment that is safe to inline into SQL once it has matched. */
export const SEGMENT = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/**
 * Normalises an ISO-8601 date or date-time with an explicit offset to `toISOString()` form, or
 * returns undefined. Date.parse alone is not enough: it rolls 2024-02-30 over into March and
 * accepts 24:00, both of which would silently match the wrong rows.
 */
export function normaliseDateTime(text: string): string | undefined {
  const match = DATE_TIME.exec(text);
  if (!match) return undefined;
  const [, year, month, day, hour = '00', minute = '00', second = '00', fraction = ''] = match;
  const offset = match[8] ?? 'Z';
  const y = Number(year);
  const mo = Number(month);
  const d = Number(day);
  // Year 0000 does not exist for PostgreSQL's timestamptz (it counts 1 BC, 1 AD): 0001–9999 only.
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return undefined;
  if (Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59) return undefined;
  if (offset !== 'Z' && offset !== 'z' && (Number(offset.slice(1, 3)) > 23 || Number(offset.slice(4)) > 59)) {
    return undefined;
  }
  // Milliseconds are the finest precision both databases store the same way for our columns.
  const millis = fraction ? fraction.slice(1, 4).padEnd(3, '0') : '000';
  const canonical = `${year}-${month}-${day}T${hour}:${minute}:${second}.${millis}${offset.toUpperCase()}`;
  const time = Date.parse(canonical);
  if (Number.isNaN(time)) return undefined;
  const iso = new Date(time).toISOString();
  // An offset can push 0001 back into year 0000, or 9999 out of the four-digit form the columns sort by.
  return /^(?!0000)\d{4}-/.test(iso) ? iso : undefined;
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * A `date` value in the one form it is stored and compared in: a real 'YYYY-MM-DD' stays as
 * written, a date-time becomes `toISOString()` (UTC), so text comparison orders instants right.
 * Undefined when the text is neither.
 */
export function normaliseDateValue(text: string): string | undefined {
  const iso = normaliseDateTime(text);
  if (iso === undefined) return undefined;
  return DATE_ONLY.test(text) ? text : iso;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

export const isUuidText = (text: string): boolean => UUID.test(text);

/**
 * Lowercases ASCII letters only. SQLite's lower() and PostgreSQL's lower() under the "C"
 * collation both leave other letters alone, so the literal must be folded the same way.
 */
export const asciiLower = (text: string): string => text.replace(/[A-Z]+/g, (s) => s.toLowerCase());
