import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { openDatabase } from '../../src/db/database.js';
import { createTestDatabase } from '../helpers/test-database.js';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

const port = 19_000 + Math.floor(Math.random() * 900);
const base = `http://127.0.0.1:${port}`;

async function until<T>(probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('a killed server', () => {
  it('keeps every acknowledged write, and each write whole (user, external id and event together)', async () => {
    const server = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
      env: { ...process.env, PORT: String(port), DATABASE_URL: database.url, LOG_LEVEL: 'silent', ROSTER_ADMIN_CLIENT_ID: 'crash-admin', ROSTER_ADMIN_CLIENT_SECRET: 'crash-admin-secret-000000' },
      stdio: 'ignore',
    });
    const acknowledged: string[] = [];
    try {
      await until(async () => ((await fetch(`${base}/readyz`)).ok ? true : undefined));
      const token = await until(async () => {
        const res = await fetch(`${base}/v1/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ grant_type: 'client_credentials', client_id: 'crash-admin', client_secret: 'crash-admin-secret-000000' }) });
        return res.ok ? ((await res.json()) as { access_token: string }).access_token : undefined;
      });
      const writes = Array.from({ length: 400 }, (_, i) =>
        fetch(`${base}/v1/users`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ userName: `crash-${i}`, externalIds: [{ origin: 'crash', key: String(i) }] }),
        })
          .then(async (res) => {
            if (res.status === 201) acknowledged.push(((await res.json()) as { id: string }).id);
          })
          .catch(() => undefined),
      );
      // Kill -9 in the middle of the stream of writes: no shutdown hook gets to run.
      await until(async () => (acknowledged.length >= 20 ? true : undefined));
      server.kill('SIGKILL');
      await Promise.all(writes);
      expect(acknowledged.length).toBeGreaterThanOrEqual(20);
    } finally {
      server.kill('SIGKILL');
    }

    const { db, close } = openDatabase(database.url);
    try {
      const users = await db.selectFrom('users').select('id').where('user_name', 'like', 'crash-%').execute();
      const stored = new Set(users.map((u) => u.id));
      const externalIds = await db.selectFrom('user_external_ids').select(sql<number>`count(*)`.as('n')).where('origin', '=', 'crash').executeTakeFirstOrThrow();
      const events = await db.selectFrom('events').select(sql<number>`count(*)`.as('n')).where('type', '=', 'user.created').executeTakeFirstOrThrow();
      for (const id of acknowledged) expect(stored.has(id), `acknowledged user ${id} was lost`).toBe(true);
      expect(Number(externalIds.n)).toBe(stored.size);
      expect(Number(events.n)).toBe(stored.size);
    } finally {
      await close();
    }
  });
});
