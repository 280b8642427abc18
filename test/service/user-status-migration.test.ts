import { Migrator, sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database.js';
import { foundationMigration } from '../../src/db/migrations/0001-foundation.js';
import { directoryMigration } from '../../src/db/migrations/0002-directory.js';
import { migrateToLatest } from '../../src/db/migrator.js';
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

describe('migration 0003-user-status', () => {
  it("rewrites stored 'inactive' to 'suspended' and leaves every other status, version and timestamp alone", async () => {
    const db = database.db as unknown as Kysely<unknown>;
    // The schema as it was before the lifecycle: the first two migrations only.
    const firstTwo = { '0001-foundation': foundationMigration(database.dialect), '0002-directory': directoryMigration(database.dialect) };
    const before = new Migrator({ db, provider: { getMigrations: async () => firstTwo } });
    const { error } = await before.migrateToLatest();
    expect(error).toBeUndefined();

    const at = '2026-01-01T00:00:00.000Z';
    await sql`insert into tenants (id, name, created_at, updated_at) values ('t', 'T', ${at}, ${at})`.execute(db);
    const users = [
      ['0192f0c8-0000-7000-8000-000000000001', 'inactive'],
      ['0192f0c8-0000-7000-8000-000000000002', 'active'],
      ['0192f0c8-0000-7000-8000-000000000003', 'inactive'],
    ];
    for (const [id, status] of users) {
      await sql`insert into users (id, tenant_id, user_name, user_name_lower, display_name, external_ids, attributes, tags, status,
        created_at, updated_at, version, prevent_deprovision, identifications)
        values (${id}, 't', ${id}, ${id}, 'X', '[]', '{}', '[]', ${status}, ${at}, ${at}, 7, ${database.dialect === 'sqlite' ? 0 : false}, '[]')`.execute(db);
    }

    await migrateToLatest(db, database.dialect);

    type Row = { id: string; status: string; version: number; updated_at: string };
    const rows = await sql<Row>`select id, status, version, updated_at from users order by id`.execute(db);
    expect(rows.rows).toEqual([
      { id: users[0]?.[0], status: 'suspended', version: 7, updated_at: at },
      { id: users[1]?.[0], status: 'active', version: 7, updated_at: at },
      { id: users[2]?.[0], status: 'suspended', version: 7, updated_at: at },
    ]);
  });
});
