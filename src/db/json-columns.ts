/**
 * JSON columns come back as text from SQLite and as parsed values from PostgreSQL jsonb.
 * Writes always send JSON text, which both accept.
 */
export function parseJson<T>(value: unknown, fallback: T): T {
  if (value === null || value === undefined) return fallback;
  if (typeof value === 'string') return JSON.parse(value) as T;
  return value as T;
}

export const toJson = (value: unknown): string => JSON.stringify(value);
