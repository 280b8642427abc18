import { Migrator, sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database.js';
import { foundationMigration } from '../../src/db/migrations/0001-foundation.js';
import { directoryMigration } from '../../src/db/migrations/0002-directory.js';
import { userStatusMigration } from '../../src/db/migrations/0003-user-status.js';
import { jobsMigration } from '../../src/db/migrations/0004-jobs.js';
import { eventPositionsMigration } from '../../src/db/migrations/0005-event-positions.js';
import { identifierKeysMigration } from '../../src/db/migrations/0006-identifier-keys.js';
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

const at = '2026-01-01T00:00:00.000Z';
const id = (n: number) => `0192f0c8-0000-7000-8000-${String(n).padStart(12, '0')}`;

describe('migration 0007-email-domain-keys', () => {
  it('puts the email domains of stored comparison copies in their Unicode form, keeping colliding rows distinct', async () => {
    const db = database.db as unknown as Kysely<unknown>;
    const d = database.dialect;
    const before = {
      '0001-foundation': foundationMigration(d),
      '0002-directory': directoryMigration(d),
      '0003-user-status': userStatusMigration(),
      '0004-jobs': jobsMigration(d),
      '0005-event-positions': eventPositionsMigration(d),
      '0006-identifier-keys': identifierKeysMigration(),
    };
    expect((await new Migrator({ db, provider: { getMigrations: async () => before } }).migrateToLatest()).error).toBeUndefined();
    await sql`insert into tenants (id, name, created_at, updated_at) values ('t', 'T', ${at}, ${at})`.execute(db);
    // What 0006's key stored: width, case and NFC only, the ASCII (punycode) domain as sent.
    const users: [number, string, string | null][] = [
      [1, 'a@xn--mnchen-3ya.de', 'a@xn--mnchen-3ya.de'],
      [2, 'b@münchen.de', 'b@münchen.de'],
      [3, 'b@xn--mnchen-3ya.de', null], // the same mailbox as 2: keeps its old copy
      [4, 'plain', 'c@example.com'],
    ];
    for (const [n, userName, email] of users) {
      await sql`insert into users (id, tenant_id, user_name, user_name_lower, email, email_lower, display_name, external_ids, attributes, tags, status,
        created_at, updated_at, version, prevent_deprovision, identifications)
        values (${id(n)}, 't', ${userName}, ${userName}, ${email}, ${email}, 'X', '[]', '{}', '[]', 'active',
        ${at}, ${at}, 1, ${d === 'sqlite' ? 0 : false}, '[]')`.execute(db);
    }
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    let warnings: string[];
    try {
      await migrateToLatest(db, d);
    } finally {
      warnings = warn.mock.calls.map((c) => String(c[0]));
      warn.mockRestore();
    }
    expect(warnings).toEqual([expect.stringMatching(/^roster migrate 0007-email-domain-keys: 1 row\(s\) of users keep their old user_name_lower/)]);
    const rows = await sql<{ user_name_lower: string; email_lower: string | null }>`select user_name_lower, email_lower from users order by id`.execute(db);
    expect(rows.rows.map((r) => [r.user_name_lower, r.email_lower])).toEqual([
      ['a@münchen.de', 'a@münchen.de'],
      ['b@münchen.de', 'b@münchen.de'],
      ['b@xn--mnchen-3ya.de', null],
      ['plain', 'c@example.com'],
    ]);
  });
});
