import { sql, type Expression } from 'kysely';
import type { Dialect } from './database.js';

/**
 * Column types that differ between the two databases, chosen so both behave the same:
 * PostgreSQL text uses the "C" collation so ordering and comparisons are byte-wise like SQLite's
 * (keyset cursors and sort orders then agree across dialects, and LIKE 'x%' can use a b-tree).
 */
export interface ColumnTypes {
  text: Expression<unknown> | 'text';
  timestamp: 'timestamptz' | 'text';
  json: 'jsonb' | 'text';
  boolean: 'boolean' | 'integer';
}

export function columnTypes(dialect: Dialect): ColumnTypes {
  return dialect === 'postgres'
    ? { text: sql`text collate "C"`, timestamp: 'timestamptz', json: 'jsonb', boolean: 'boolean' }
    : { text: 'text', timestamp: 'text', json: 'text', boolean: 'integer' };
}
