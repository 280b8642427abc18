import { dirname, resolve } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql, type KyselyConfig } from 'kysely';
import pg from 'pg';
import { ensureDirectory } from './database-check.js';
import type { DB } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Database {
  db: Kysely<DB>;
  dialect: Dialect;
  close(): Promise<void>;
  /**
   * Calls `listener` with every statement this database runs until the returned function is
   * called. For tests and diagnostics (counting queries, EXPLAINing the exact SQL of a request).
   */
  observe(listener: QueryListener): () => void;
}

export type QueryListener = (query: { sql: string; parameters: readonly unknown[] }) => void;

/** Kysely's log hook, fanned out to whoever observes; free while nobody does. */
function queryObservers(): { log: KyselyConfig['log']; observe: Database['observe'] } {
  const listeners = new Set<QueryListener>();
  return {
    log: (event) => {
      if (listeners.size === 0) return;
      for (const listener of listeners) listener({ sql: event.query.sql, parameters: event.query.parameters });
    },
    observe: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

// pg returns timestamptz as Date and bigint/numeric as strings by default. Normalise to what the
// SQLite side returns (ISO strings and numbers) so repositories read one shape on both.
pg.types.setTypeParser(1184, (value: string) => new Date(value).toISOString()); // timestamptz
pg.types.setTypeParser(20, (value: string) => Number(value)); // int8 (count(*))
pg.types.setTypeParser(1700, (value: string) => Number(value)); // numeric

export function openDatabase(url: string, options: { poolSize?: number } = {}): Database {
  if (url.startsWith('sqlite:')) return openSqlite(url.slice('sqlite:'.length));
  return openPostgres(url, options.poolSize ?? 10);
}

function openSqlite(path: string): Database {
  const inMemory = path === ':memory:' || path === '';
  if (!inMemory) ensureDirectory(dirname(resolve(path)));
  const database = new SqliteDatabase(inMemory ? ':memory:' : path);
  // WAL lets readers proceed during a write; synchronous=NORMAL in WAL mode never loses a
  // committed transaction when the process dies (only on power loss of the host).
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  database.pragma('cache_size = -65536');
  database.pragma('temp_store = MEMORY');
  database.pragma('mmap_size = 268435456');
  // Checkpoint the WAL in bigger steps: fewer, larger copies back into the database file.
  database.pragma('wal_autocheckpoint = 4000');
  const { log, observe } = queryObservers();
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: withStatementCache(database) }), log });
  return { db, dialect: 'sqlite', close: () => db.destroy(), observe };
}

/**
 * Kysely prepares every query anew; with better-sqlite3 preparing costs about as much as running
 * a small query. The same SQL text (parameters are bound separately) reuses its statement.
 */
function withStatementCache(database: SqliteDatabase.Database): { close(): void; prepare(sql: string): SqliteDatabase.Statement } {
  const statements = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => database.close(),
    prepare(sql: string) {
      let statement = statements.get(sql);
      if (!statement) {
        // Filters and IN lists make many distinct texts; a full cache simply starts over.
        if (statements.size >= 1000) statements.clear();
        statement = database.prepare(sql);
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}

function openPostgres(connectionString: string, max: number): Database {
  const pool = new pg.Pool({ connectionString, max });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  const { log, observe } = queryObservers();
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }), log });
  return { db, dialect: 'postgres', close: () => db.destroy(), observe };
}

export async function pingDatabase(db: Kysely<DB>): Promise<void> {
  await sql`select 1`.execute(db);
}
