import { Migrator, sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database.js';
import { foundationMigration } from '../../src/db/migrations/0001-foundation.js';
import { directoryMigration } from '../../src/db/migrations/0002-directory.js';
import { userStatusMigration } from '../../src/db/migrations/0003-user-status.js';
import { jobsMigration } from '../../src/db/migrations/0004-jobs.js';
import { eventPositionsMigration } from '../../src/db/migrations/0005-event-positions.js';
import { identifierKeysMigration } from '../../src/db/migrations/0006-identifier-keys.js';
import { emailDomainKeysMigration } from '../../src/db/migrations/0007-email-domain-keys.js';
import { migrateToLatest } from '../../src/db/migrator.js';
import { parseJson } from '../../src/db/json-columns.js';
import { createTestDatabase } from '../helpers/test-database.js';

let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let database: Database;

beforeAll(async () => {
  testDb = await createTestDatabase();
  database = openDatabase(testDb.url);
});
afterAll(async () => {
  await database?.close();
  await testDb?.drop();
});

const at = '2026-01-01T00:00:00.000Z';
const id = (n: number) => `0192f0c8-0000-7000-8000-${String(n).padStart(12, '0')}`;

describe('migration 0008-date-attribute-values', () => {
  it('rewrites stored date-times of date attributes to UTC toISOString form, in their tenant only', async () => {
    const db = database.db as unknown as Kysely<unknown>;
    const d = database.dialect;
    const bool = (b: boolean) => (d === 'sqlite' ? (b ? 1 : 0) : b);
    const before = {
      '0001-foundation': foundationMigration(d),
      '0002-directory': directoryMigration(d),
      '0003-user-status': userStatusMigration(),
      '0004-jobs': jobsMigration(d),
      '0005-event-positions': eventPositionsMigration(d),
      '0006-identifier-keys': identifierKeysMigration(),
      '0007-email-domain-keys': emailDomainKeysMigration(),
    };
    expect((await new Migrator({ db, provider: { getMigrations: async () => before } }).migrateToLatest()).error).toBeUndefined();
    for (const tenant of ['t', 'u']) await sql`insert into tenants (id, name, created_at, updated_at) values (${tenant}, ${tenant}, ${at}, ${at})`.execute(db);
    for (const [n, name, multi] of [[1, 'hd', false], [2, 'hds', true]] as const) {
      await sql`insert into attribute_definitions (id, tenant_id, name, name_lower, created_at, updated_at, version, type, required, enum_values, multi_valued, indexed)
        values (${id(100 + n)}, 't', ${name}, ${name.toLowerCase()}, ${at}, ${at}, 1, 'date', ${bool(false)}, '[]', ${bool(multi)}, ${bool(false)})`.execute(db);
    }
    const stored: [number, string, Record<string, unknown>][] = [
      [1, 't', { hd: '2020-01-02T01:00:00+05:00', hds: ['2020-01-02T01:00:00.5+05:00', '2021-06-30'], other: '2020-01-02T01:00:00+05:00' }],
      [2, 't', { hd: '2020-01-01', hds: 'not a list' }],
      [3, 't', { hd: 'someday' }],
      [4, 'u', { hd: '2020-01-02T01:00:00+05:00' }], // no date definition in tenant u
    ];
    for (const [n, tenant, attributes] of stored) {
      await sql`insert into users (id, tenant_id, user_name, user_name_lower, display_name, external_ids, attributes, tags, status,
        created_at, updated_at, version, prevent_deprovision, identifications)
        values (${id(n)}, ${tenant}, ${`u${n}`}, ${`u${n}`}, 'X', '[]', ${JSON.stringify(attributes)}, '[]', 'active',
        ${at}, ${at}, 1, ${bool(false)}, '[]')`.execute(db);
    }
    await migrateToLatest(db, d);
    const rows = await sql<{ attributes: unknown; version: number }>`select attributes, version from users order by id`.execute(db);
    expect(rows.rows.map((r) => parseJson(r.attributes, {}))).toEqual([
      { hd: '2020-01-01T20:00:00.000Z', hds: ['2020-01-01T20:00:00.500Z', '2021-06-30'], other: '2020-01-02T01:00:00+05:00' },
      { hd: '2020-01-01', hds: 'not a list' },
      { hd: 'someday' },
      { hd: '2020-01-02T01:00:00+05:00' },
    ]);
    expect(rows.rows.map((r) => Number(r.version))).toEqual([1, 1, 1, 1]);
  });
});
