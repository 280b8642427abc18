const byCodePoint = ([a]: [string, unknown], [b]: [string, unknown]) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * A copy of a JSON value with the keys of every object, at any depth, in code-point order (arrays
 * keep theirs). What a database hands back from a JSON column is not in the order written
 * (PostgreSQL jsonb orders keys by length, SQLite TEXT keeps them): this gives one order on both.
 */
export function withSortedKeys<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v: unknown) => withSortedKeys(v)) as T;
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(byCodePoint).map(([k, v]) => [k, withSortedKeys(v)])) as T;
}

/** JSON with object keys sorted, so equal values always give equal text (for diffs and hashes). */
export function stableStringify(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(byCodePoint));
  });
}
