import { Migrator, sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database.js';
import { foundationMigration } from '../../src/db/migrations/0001-foundation.js';
import { directoryMigration } from '../../src/db/migrations/0002-directory.js';
import { userStatusMigration } from '../../src/db/migrations/0003-user-status.js';
import { jobsMigration } from '../../src/db/migrations/0004-jobs.js';
import { eventPositionsMigration } from '../../src/db/migrations/0005-event-positions.js';
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

const NFD = (s: string) => s.normalize('NFD');
const at = '2026-01-01T00:00:00.000Z';
const id = (n: number) => `0192f0c8-0000-7000-8000-${String(n).padStart(12, '0')}`;

describe('migration 0006-identifier-keys', () => {
  it('recomputes the comparison copies of rows written before, keeping colliding rows distinct', async () => {
    const db = database.db as unknown as Kysely<unknown>;
    const d = database.dialect;
    const before = {
      '0001-foundation': foundationMigration(d),
      '0002-directory': directoryMigration(d),
      '0003-user-status': userStatusMigration(),
      '0004-jobs': jobsMigration(d),
      '0005-event-positions': eventPositionsMigration(d),
    };
    expect((await new Migrator({ db, provider: { getMigrations: async () => before } }).migrateToLatest()).error).toBeUndefined();

    await sql`insert into tenants (id, name, created_at, updated_at) values ('t', 'T', ${at}, ${at}), ('u', 'U', ${at}, ${at})`.execute(db);
    // What the old code stored: toLowerCase() of the value as sent.
    const users: [number, string, string, string | null][] = [
      [1, 't', 'Jürgen', null],
      [2, 't', NFD('Jürgen'), null], // the same name in NFD: collides with 1, keeps its old copy
      [3, 't', 'ＡＢＣ', 'Ｍａｘ@Ｅｘａｍｐｌｅ.com'],
      [4, 'u', NFD('Jürgen'), NFD('JÜRGEN@MÜNCHEN.DE')], // another tenant: no collision
      [5, 't', 'plain', 'Plain@Example.com'],
    ];
    for (const [n, tenant, userName, email] of users) {
      await sql`insert into users (id, tenant_id, user_name, user_name_lower, email, email_lower, display_name, external_ids, attributes, tags, status,
        created_at, updated_at, version, prevent_deprovision, identifications)
        values (${id(n)}, ${tenant}, ${userName}, ${userName.toLowerCase()}, ${email}, ${email?.toLowerCase() ?? null}, 'X', '[]', '{}', '[]', 'active',
        ${at}, ${at}, 3, ${d === 'sqlite' ? 0 : false}, '[]')`.execute(db);
    }
    for (const [n, name] of [[11, NFD('Büro')], [12, 'Ｓａｌｅｓ']] as const) {
      await sql`insert into groups (id, tenant_id, name, name_lower, description, external_ids, created_at, updated_at, version)
        values (${id(n)}, 't', ${name}, ${name.toLowerCase()}, null, '[]', ${at}, ${at}, 1)`.execute(db);
    }
    await sql`insert into organizations (id, tenant_id, name, name_lower, code, code_lower, parent_id, created_at, updated_at, version)
      values (${id(21)}, 't', ${NFD('Ärzte')}, ${NFD('ärzte')}, 'ＡＣＭＥ', 'ａｃｍｅ', null, ${at}, ${at}, 1)`.execute(db);
    const externalIds: [string, string, number][] = [
      ['hr', 'x-1', 1],
      ['HR', 'X-1', 2], // the same id in other case: collides with the first, keeps its form
      ['ＨＲ', 'Ａ-7', 3],
    ];
    for (const [origin, key, n] of externalIds) {
      await sql`insert into user_external_ids (tenant_id, origin, ${sql.ref('key')}, user_id) values ('t', ${origin}, ${key}, ${id(n)})`.execute(db);
    }
    await sql`insert into group_external_ids (tenant_id, origin, ${sql.ref('key')}, group_id) values ('t', 'Ｗｏｒｋｄａｙ', ${NFD('Ö-1')}, ${id(11)})`.execute(db);

    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    let warnings: string[];
    try {
      await migrateToLatest(db, d);
    } finally {
      warnings = warn.mock.calls.map((c) => String(c[0]));
      warn.mockRestore();
    }
    expect(warnings).toEqual([
      expect.stringContaining('1 row(s) of users keep their old user_name_lower'),
      expect.stringContaining('1 external id(s) in user_external_ids keep their old form'),
    ]);

    const rows = await sql<{ id: string; user_name: string; user_name_lower: string; email_lower: string | null; version: number; updated_at: string }>`
      select id, user_name, user_name_lower, email_lower, version, updated_at from users order by id`.execute(db);
    expect(rows.rows.map((r) => [r.user_name, r.user_name_lower, r.email_lower])).toEqual([
      ['Jürgen', 'jürgen', null],
      [NFD('Jürgen'), NFD('jürgen'), null],
      ['ＡＢＣ', 'abc', 'max@example.com'],
      [NFD('Jürgen'), 'jürgen', 'jürgen@münchen.de'],
      ['plain', 'plain', 'plain@example.com'],
    ]);
    // Only the comparison copies change: no version or timestamp moves.
    expect(rows.rows.every((r) => r.version === 3 && r.updated_at !== null)).toBe(true);
    const groups = await sql<{ name: string; name_lower: string }>`select name, name_lower from groups order by id`.execute(db);
    expect(groups.rows).toEqual([{ name: NFD('Büro'), name_lower: 'büro' }, { name: 'Ｓａｌｅｓ', name_lower: 'sales' }]);
    const orgs = await sql<{ name_lower: string; code_lower: string }>`select name_lower, code_lower from organizations`.execute(db);
    expect(orgs.rows).toEqual([{ name_lower: 'ärzte', code_lower: 'acme' }]);
    const links = await sql<{ origin: string; key: string; user_id: string }>`
      select origin, ${sql.ref('key')} as key, user_id from user_external_ids order by user_id`.execute(db);
    expect(links.rows).toEqual([
      { origin: 'hr', key: 'x-1', user_id: id(1) },
      { origin: 'HR', key: 'X-1', user_id: id(2) },
      { origin: 'hr', key: 'a-7', user_id: id(3) },
    ]);
    const groupLinks = await sql<{ origin: string; key: string }>`select origin, ${sql.ref('key')} as key from group_external_ids`.execute(db);
    expect(groupLinks.rows).toEqual([{ origin: 'workday', key: 'ö-1' }]);
  });
});
