import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import type { FilterDialect } from '../../../src/filter/filter-schema.js';

/**
 * The databases the filter tests run against: always an in-memory SQLite, and PostgreSQL when
 * TEST_DATABASE_URL points at a server (each test file gets a throwaway database there).
 */
export interface TestDatabase {
  dialect: FilterDialect;
  // The tests create their own tables, so there is no schema type to give.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  db: Kysely<any>;
  close(): Promise<void>;
}

export interface DialectTarget {
  dialect: FilterDialect;
  available: boolean;
  open(): Promise<TestDatabase>;
}

// Read timestamps and numbers the way the application does (see src/db/database.ts).
pg.types.setTypeParser(1184, (value: string) => new Date(value).toISOString());
pg.types.setTypeParser(20, (value: string) => Number(value));
pg.types.setTypeParser(1700, (value: string) => Number(value));

const adminUrl = process.env.TEST_DATABASE_URL;

export const dialectTargets: DialectTarget[] = [
  {
    dialect: 'sqlite',
    available: true,
    async open() {
      const db = new Kysely({ dialect: new SqliteDialect({ database: new Database(':memory:') }) });
      return { dialect: 'sqlite', db, close: () => db.destroy() };
    },
  },
  {
    dialect: 'postgres',
    available: adminUrl !== undefined && adminUrl !== '',
    async open() {
      const name = `roster_filter_${randomBytes(6).toString('hex')}`;
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      await admin.query(`create database ${name}`);
      const url = new URL(adminUrl as string);
      url.pathname = `/${name}`;
      const pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
      // As in src/db/database.ts: an idle client losing its connection must not crash the run.
      pool.on('error', () => undefined);
      admin.on('error', () => undefined);
      const db = new Kysely({ dialect: new PostgresDialect({ pool }) });
      return {
        dialect: 'postgres',
        db,
        async close() {
          await db.destroy();
          await admin.query(`drop database if exists ${name} with (force)`);
          await admin.end();
        },
      };
    },
  },
];

/** Column types that behave alike on both databases, as the real migrations choose them. */
export function types(dialect: FilterDialect) {
  return dialect === 'postgres'
    ? { text: sql.raw('text collate "C"'), timestamp: sql.raw('timestamptz'), json: sql.raw('jsonb'), boolean: sql.raw('boolean') }
    : { text: sql.raw('text'), timestamp: sql.raw('text'), json: sql.raw('text'), boolean: sql.raw('integer') };
}

/** Booleans go in as 0/1 on SQLite, as real booleans on PostgreSQL. */
export const boolValue = (dialect: FilterDialect, value: boolean | null) =>
  value === null ? null : dialect === 'sqlite' ? (value ? 1 : 0) : value;
