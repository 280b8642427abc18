import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { useTestApp, type TestApp } from '../helpers/test-app.js';

/*
 * Read-check-writes under real concurrency: every request of a test is sent at once
 * (Promise.all through app.inject). On PostgreSQL they run in parallel transactions, which is
 * where a check without a lock lets two writers both pass; SQLite runs one write at a time, and
 * must give the same answers.
 */

let t: TestApp;
let token: string;
useTestApp((app, adminToken) => {
  t = app;
  token = adminToken;
});

let seq = 0;
const unique = (prefix: string) => `${prefix}-${++seq}-${Date.now().toString(36)}`;
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function post(url: string, payload: Json = {}): Promise<Json> {
  const res = await t.request({ method: 'POST', url, token, payload });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

async function get(url: string): Promise<Json> {
  const res = await t.request({ method: 'GET', url, token });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

const send = (method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: unknown, headers?: Record<string, string>) =>
  t.request({ method, url, token, ...(payload === undefined ? {} : { payload: payload as Json }), ...(headers ? { headers } : {}) });

const times = <T>(n: number, f: (i: number) => Promise<T>) => Promise.all(Array.from({ length: n }, (_, i) => f(i)));
const codes = (responses: { statusCode: number }[]) => responses.map((r) => r.statusCode);
const count = (list: number[], code: number) => list.filter((c) => c === code).length;

/** The resource's events, oldest first. */
async function eventsOf(resourceId: string): Promise<Json[]> {
  const items = (await get(`/v1/events?resourceId=${resourceId}&limit=200`)).items as Json[];
  return items.sort((x, y) => Number(x.position) - Number(y.position));
}

/** Follows managerId (or parentId) upwards from `id`; throws when it comes back to a record already seen. */
async function walkUp(url: (id: string) => string, field: 'managerId' | 'parentId', id: string): Promise<string[]> {
  const seen: string[] = [];
  let current: string | null = id;
  while (current !== null) {
    if (seen.includes(current)) throw new Error(`cycle through ${current}`);
    seen.push(current);
    current = (await get(url(current)))[field] as string | null;
  }
  return seen;
}

describe('reporting lines and trees stay acyclic', () => {
  it('two users made each other\'s manager at the same time: one wins, the other is 422 user.manager_cycle', async () => {
    for (let round = 0; round < 4; round++) {
      const a = await post('/v1/users', { userName: unique('a') });
      const b = await post('/v1/users', { userName: unique('b') });
      const [ab, ba] = await Promise.all([send('PATCH', `/v1/users/${a.id}`, { managerId: b.id }), send('PATCH', `/v1/users/${b.id}`, { managerId: a.id })]);
      expect(codes([ab, ba]).sort()).toEqual([200, 422]);
      expect([ab, ba].find((r) => r.statusCode === 422)?.json().code).toBe('user.manager_cycle');
      await walkUp((id) => `/v1/users/${id}`, 'managerId', a.id);
    }
  });

  it('a ring of five set at once (each the manager of the next) never closes', async () => {
    const users = await times(5, () => post('/v1/users', { userName: unique('ring') }));
    const results = await times(5, (i) => send('PATCH', `/v1/users/${users[i]?.id}`, { managerId: users[(i + 1) % 5]?.id }));
    expect(count(codes(results), 200)).toBe(4);
    expect(count(codes(results), 422)).toBe(1);
    for (const user of users) await walkUp((id) => `/v1/users/${id}`, 'managerId', user.id);
  });

  for (const path of ['organizations', 'areas']) {
    it(`two ${path} made each other's parent at the same time: one wins, the other is 422 directory.parent_cycle`, async () => {
      const body = (name: string) => (path === 'organizations' ? { name, code: name } : { name });
      for (let round = 0; round < 4; round++) {
        const a = await post(`/v1/${path}`, body(unique('a')));
        const b = await post(`/v1/${path}`, body(unique('b')));
        const [ab, ba] = await Promise.all([send('PATCH', `/v1/${path}/${a.id}`, { parentId: b.id }), send('PATCH', `/v1/${path}/${b.id}`, { parentId: a.id })]);
        expect(codes([ab, ba]).sort()).toEqual([200, 422]);
        expect([ab, ba].find((r) => r.statusCode === 422)?.json().code).toBe('directory.parent_cycle');
        await walkUp((id) => `/v1/${path}/${id}`, 'parentId', a.id);
      }
    });
  }

  it('a cycle already in stored data: /descendants and /reports list each record once, and the records can be freed and deleted', async () => {
    const db = t.runtime.database.db;
    const [a, b, c] = [await post('/v1/areas', { name: unique('ca') }), await post('/v1/areas', { name: unique('cb') }), await post('/v1/areas', { name: unique('cc') })];
    // As a race before this fix could leave it: a → b → c → a.
    await sql`update areas set parent_id = ${b.id} where id = ${a.id}`.execute(db);
    await sql`update areas set parent_id = ${c.id} where id = ${b.id}`.execute(db);
    await sql`update areas set parent_id = ${a.id} where id = ${c.id}`.execute(db);
    const below = (await get(`/v1/areas/${a.id}/descendants`)).items as Json[];
    expect(below.map((r) => [r.id, r.depth])).toEqual([[c.id, 1], [b.id, 2]]);

    const [x, y] = [await post('/v1/users', { userName: unique('cx') }), await post('/v1/users', { userName: unique('cy') })];
    await sql`update users set manager_id = ${y.id} where id = ${x.id}`.execute(db);
    await sql`update users set manager_id = ${x.id} where id = ${y.id}`.execute(db);
    const reports = (await get(`/v1/users/${x.id}/reports?depth=all`)).items as Json[];
    expect(reports.map((r) => r.id)).toEqual([y.id]);

    // A user in a cycle can be deleted (its report is detached); an area once a parent is cleared.
    expect((await send('DELETE', `/v1/users/${x.id}`)).statusCode).toBe(204);
    expect((await get(`/v1/users/${y.id}`)).managerId).toBeNull();
    expect((await send('DELETE', `/v1/areas/${a.id}`)).json().code).toBe('directory.in_use');
    expect((await send('PATCH', `/v1/areas/${c.id}`, { parentId: null })).statusCode).toBe(200);
    for (const area of [a, b, c]) expect((await send('DELETE', `/v1/areas/${area.id}`)).statusCode).toBe(204);
  });
});

describe('deletes under concurrency: one winner, one set of events', () => {
  for (const path of ['groups', 'organizations', 'environments']) {
    it(`16 parallel DELETEs of one of ${path}: one 204, one deleted event, one memberships event per member`, async () => {
      const record = await post(`/v1/${path}`, path === 'organizations' ? { name: unique('o'), code: unique('o') } : { name: unique('d') });
      const members = await times(3, () => post('/v1/users', { userName: unique('member') }));
      for (const m of members) expect((await send('POST', `/v1/users/${m.id}/${path}/${record.id}`)).statusCode).toBe(201);
      const results = codes(await times(16, () => send('DELETE', `/v1/${path}/${record.id}`)));
      expect(count(results, 204)).toBe(1);
      expect(count(results, 404)).toBe(15);
      expect((await eventsOf(record.id)).filter((e) => String(e.type).endsWith('.deleted'))).toHaveLength(1);
      for (const m of members) {
        const changes = (await eventsOf(m.id)).filter((e) => e.type === 'user.memberships_changed');
        expect(changes).toHaveLength(2); // added, then removed with the record
      }
    });
  }

  it('16 parallel unlinks of one identity link: one 204 and one user.identity_unlinked', async () => {
    const user = await post('/v1/users', { userName: unique('idl') });
    const idp = await post('/v1/identity-providers', { name: unique('idp'), alias: unique('idp'), type: 'oidc' });
    const link = await post(`/v1/users/${user.id}/identities`, { providerId: idp.id, subject: unique('sub') });
    const results = codes(await times(16, () => send('DELETE', `/v1/users/${user.id}/identities/${link.id}`)));
    expect(count(results, 204)).toBe(1);
    expect(count(results, 404)).toBe(15);
    expect((await eventsOf(user.id)).filter((e) => e.type === 'user.identity_unlinked')).toHaveLength(1);
  });

  it('16 parallel DELETEs of an API token, an API client and a tenant: one 204 each, the rest 404', async () => {
    const apiToken = await post('/v1/api-tokens', { name: unique('tok'), scopes: ['users:read'] });
    const client = await post('/v1/clients', { name: unique('cli'), scopes: ['users:read'] });
    const tenant = await post('/v1/tenants', { id: unique('ten').toLowerCase(), name: 'T' });
    for (const url of [`/v1/api-tokens/${apiToken.id}`, `/v1/clients/${client.id}`, `/v1/tenants/${tenant.id}`]) {
      const results = codes(await times(16, () => send('DELETE', url)));
      expect(count(results, 204), url).toBe(1);
      expect(count(results, 404), url).toBe(15);
    }
  });
});

describe('unique names and ids: one creation, the rest a 409 naming the conflict', () => {
  it('8 parallel claims of one name, userName, tenant id, clientId, external id and identity subject', async () => {
    const name = unique('Dup');
    const cases: { url: string; body: (i: number) => Json; code: string }[] = [
      { url: '/v1/groups', body: (i) => ({ name: i % 2 ? name : name.toUpperCase() }), code: 'group.name_taken' },
      { url: '/v1/users', body: (i) => ({ userName: i % 2 ? name : name.toUpperCase() }), code: 'user.username_taken' },
      { url: '/v1/tenants', body: () => ({ id: name.toLowerCase(), name: 'x' }), code: 'tenant.id_taken' },
      { url: '/v1/clients', body: () => ({ name: 'x', clientId: name.toLowerCase(), scopes: ['users:read'] }), code: 'client.id_taken' },
    ];
    for (const c of cases) {
      const results = await times(8, (i) => send('POST', c.url, c.body(i)));
      expect(count(codes(results), 201), c.url).toBe(1);
      expect(results.filter((r) => r.statusCode === 409).map((r) => r.json().code), c.url).toEqual(Array(7).fill(c.code));
    }
    const users = await times(8, () => post('/v1/users', { userName: unique('subj') }));
    const claims = await times(8, (i) => send('PATCH', `/v1/users/${users[i]?.id}`, { externalIds: [{ origin: 'hr', key: name }] }));
    expect(count(codes(claims), 200)).toBe(1);
    expect(claims.filter((r) => r.statusCode === 409).map((r) => r.json().code)).toEqual(Array(7).fill('user.external_id_taken'));
    const idp = await post('/v1/identity-providers', { name: unique('idp'), alias: unique('idp'), type: 'oidc' });
    const links = await times(8, (i) => send('POST', `/v1/users/${users[i]?.id}/identities`, { providerId: idp.id, subject: name }));
    expect(count(codes(links), 201)).toBe(1);
    expect(links.filter((r) => r.statusCode === 409).map((r) => r.json().code)).toEqual(Array(7).fill('identity.subject_taken'));
  });
});

describe('memberships under concurrency', () => {
  it('16 parallel adds of one membership (from both sides): one 201, the rest 200, one event, one new version each', async () => {
    const user = await post('/v1/users', { userName: unique('mu') });
    const group = await post('/v1/groups', { name: unique('mg') });
    const results = codes(
      await times(16, (i) => (i % 2 ? send('POST', `/v1/users/${user.id}/groups/${group.id}`) : send('POST', `/v1/groups/${group.id}/members/${user.id}`))),
    );
    expect(count(results, 201)).toBe(1);
    expect(count(results, 200)).toBe(15);
    expect((await eventsOf(user.id)).filter((e) => e.type === 'user.memberships_changed')).toHaveLength(1);
    expect((await get(`/v1/users/${user.id}`)).version).toBe(2);
    expect((await get(`/v1/groups/${group.id}`)).version).toBe(2);

    const removed = codes(await times(16, () => send('DELETE', `/v1/users/${user.id}/groups/${group.id}`)));
    expect(count(removed, 204)).toBe(1);
    expect(count(removed, 404)).toBe(15);
    expect((await eventsOf(user.id)).filter((e) => e.type === 'user.memberships_changed')).toHaveLength(2);
  });

  it('16 groups added to one user and 16 users added to one group at once: all succeed, every version moves once per change', async () => {
    const user = await post('/v1/users', { userName: unique('many') });
    const groups = await times(16, () => post('/v1/groups', { name: unique('g') }));
    expect(codes(await times(16, (i) => send('POST', `/v1/users/${user.id}/groups/${groups[i]?.id}`)))).toEqual(Array(16).fill(201));
    expect((await get(`/v1/users/${user.id}`)).version).toBe(17);
    // Each event starts from the list the previous one ended with: the changes were applied one by one.
    const changes = (await eventsOf(user.id)).filter((e) => e.type === 'user.memberships_changed').map((e) => e.changes.groups);
    expect(changes).toHaveLength(16);
    changes.forEach((c, i) => {
      expect(c.from).toHaveLength(i);
      if (i > 0) expect(c.from).toEqual(changes[i - 1].to);
    });

    const group = await post('/v1/groups', { name: unique('big') });
    const users = await times(16, () => post('/v1/users', { userName: unique('joiner') }));
    expect(codes(await times(16, (i) => send('POST', `/v1/groups/${group.id}/members/${users[i]?.id}`)))).toEqual(Array(16).fill(201));
    expect((await get(`/v1/groups/${group.id}`)).version).toBe(17);
    expect((await get(`/v1/groups/${group.id}/members?limit=50`)).items).toHaveLength(16);
  });

  it('8 parallel full replaces of one user\'s roles: each applies to the list the previous one left', async () => {
    const user = await post('/v1/users', { userName: unique('rep') });
    const roles = await times(4, () => post('/v1/roles', { name: unique('r') }));
    const lists = Array.from({ length: 8 }, (_, i) => roles.filter((_, j) => (i >> j) % 2 === 1 || j === i % 4).map((r) => ({ id: r.id })));
    expect(codes(await times(8, (i) => send('PUT', `/v1/users/${user.id}/roles`, lists[i])))).toEqual(Array(8).fill(200));
    const changes = (await eventsOf(user.id)).filter((e) => e.type === 'user.memberships_changed').map((e) => e.changes.roles);
    changes.forEach((c, i) => {
      if (i > 0) expect(c.from).toEqual(changes[i - 1].to);
    });
    const final = ((await get(`/v1/users/${user.id}/roles`)).items as Json[]).map((r) => r.id).sort();
    expect(final).toEqual([...(changes.at(-1)?.to ?? [])].sort());
  });

  it('a group deleted while members are added: each add is either undone by the delete, with its event, or a 404', async () => {
    for (let round = 0; round < 3; round++) {
      const group = await post('/v1/groups', { name: unique('doomed') });
      const users = await times(6, () => post('/v1/users', { userName: unique('late') }));
      const [deleted, ...adds] = await Promise.all([
        send('DELETE', `/v1/groups/${group.id}`),
        ...users.map((u) => send('POST', `/v1/users/${u.id}/groups/${group.id}`)),
      ]);
      expect(deleted?.statusCode).toBe(204);
      for (const [i, add] of adds.entries()) {
        const user = users[i] as Json;
        expect([201, 404], add.body).toContain(add.statusCode);
        const changes = (await eventsOf(user.id)).filter((e) => e.type === 'user.memberships_changed');
        // Added, then removed by the delete (both events), or never added (none).
        expect(changes, add.body).toHaveLength(add.statusCode === 201 ? 2 : 0);
        expect((await get(`/v1/users/${user.id}/groups`)).items).toEqual([]);
      }
    }
  });
});

describe('references and deletes at the same moment: never a reference to a deleted record', () => {
  it('a position assigned while it is deleted: the assignment wins (delete 409 in use) or the delete wins (assignment 422)', async () => {
    for (let round = 0; round < 4; round++) {
      const position = await post('/v1/positions', { name: unique('pos') });
      const user = await post('/v1/users', { userName: unique('holder') });
      const [assign, remove] = await Promise.all([send('PATCH', `/v1/users/${user.id}`, { positionId: position.id }), send('DELETE', `/v1/positions/${position.id}`)]);
      const outcome = `${assign?.statusCode}/${remove?.statusCode}`;
      expect(['200/409', '422/204']).toContain(outcome);
      const stored = await get(`/v1/users/${user.id}`);
      if (remove?.statusCode === 204) expect(stored.positionId).toBeNull();
      else expect(stored.positionId).toBe(position.id);
    }
  });

  it('a manager set while the manager is deleted: either the report is detached with an event, or the PATCH is a 422', async () => {
    for (let round = 0; round < 4; round++) {
      const boss = await post('/v1/users', { userName: unique('boss') });
      const user = await post('/v1/users', { userName: unique('rep') });
      const [assign, remove] = await Promise.all([send('PATCH', `/v1/users/${user.id}`, { managerId: boss.id }), send('DELETE', `/v1/users/${boss.id}`)]);
      expect(remove?.statusCode).toBe(204);
      expect([200, 422], assign?.body).toContain(assign?.statusCode);
      expect((await get(`/v1/users/${user.id}`)).managerId).toBeNull();
      const updates = (await eventsOf(user.id)).filter((e) => e.type === 'user.updated');
      expect(updates).toHaveLength(assign?.statusCode === 200 ? 2 : 0); // set, then detached by the delete
    }
  });

  it('an identity link made while its provider is deleted: the link goes with the provider (with its event) or is refused', async () => {
    for (let round = 0; round < 4; round++) {
      const user = await post('/v1/users', { userName: unique('linker') });
      const idp = await post('/v1/identity-providers', { name: unique('idp'), alias: unique('idp'), type: 'oidc' });
      const [link, remove] = await Promise.all([send('POST', `/v1/users/${user.id}/identities`, { providerId: idp.id, subject: 's' }), send('DELETE', `/v1/identity-providers/${idp.id}`)]);
      expect(remove?.statusCode).toBe(204);
      expect([201, 422], link?.body).toContain(link?.statusCode);
      expect((await get(`/v1/users/${user.id}/identities`)).items).toEqual([]);
      const unlinked = (await eventsOf(user.id)).filter((e) => e.type === 'user.identity_unlinked');
      expect(unlinked).toHaveLength(link?.statusCode === 201 ? 1 : 0);
    }
  });
});

describe('concurrent writes without If-Match queue; with If-Match one wins', () => {
  it('16 parallel PATCHes of a group without If-Match all succeed; with the same If-Match one 200 and 15 × 412', async () => {
    const group = await post('/v1/groups', { name: unique('pg') });
    const results = await times(16, (i) => send('PATCH', `/v1/groups/${group.id}`, { description: `d${i}` }));
    expect(codes(results)).toEqual(Array(16).fill(200));
    expect(new Set(results.map((r) => r.json().version)).size).toBe(16);
    const current = await t.request({ method: 'GET', url: `/v1/groups/${group.id}`, token });
    const etag = current.headers.etag as string;
    const guarded = codes(await times(16, (i) => send('PATCH', `/v1/groups/${group.id}`, { description: `e${i}` }, { 'if-match': etag })));
    expect(count(guarded, 200)).toBe(1);
    expect(count(guarded, 412)).toBe(15);
  });

  it('16 parallel PATCHes of a user with the same If-Match: one 200, 15 × 412', async () => {
    const user = await post('/v1/users', { userName: unique('pu') });
    const etag = (await t.request({ method: 'GET', url: `/v1/users/${user.id}`, token })).headers.etag as string;
    const results = codes(await times(16, (i) => send('PATCH', `/v1/users/${user.id}`, { displayName: `n${i}` }, { 'if-match': etag })));
    expect(count(results, 200)).toBe(1);
    expect(count(results, 412)).toBe(15);
  });
});

describe('Idempotency-Key: 409 while the first request runs, then its response', () => {
  it('8 requests with one key at once create one user; each other answer is a 409 in_progress or the same response replayed', async () => {
    const key = unique('key');
    const payload = { userName: unique('idem') };
    const results = await times(8, () => send('POST', '/v1/users', payload, { 'idempotency-key': key }));
    const first = results.filter((r) => r.statusCode === 201 && r.headers['idempotent-replayed'] === undefined);
    expect(first).toHaveLength(1);
    // Sent together, they overlap the first: 409s (SQLite used to replay here while PostgreSQL
    // answered 409). One that arrives after the first finished is a replay, which is also right.
    expect(count(codes(results), 409)).toBeGreaterThan(0);
    for (const r of results) {
      if (r === first[0]) continue;
      if (r.statusCode === 409) expect(r.json().code).toBe('idempotency.in_progress');
      else expect([r.statusCode, r.headers['idempotent-replayed'], r.body]).toEqual([201, 'true', first[0]?.body]);
    }
    expect((await get(`/v1/users?$filter=userName eq '${payload.userName}'`)).items).toHaveLength(1);
    const retry = await send('POST', '/v1/users', payload, { 'idempotency-key': key });
    expect([retry.statusCode, retry.headers['idempotent-replayed'], retry.body]).toEqual([201, 'true', first[0]?.body]);
  });

  it('the same sequence on both databases: claimed, 409 while running, replay after, 422 for another body', async () => {
    const idempotency = t.runtime.services.idempotency;
    const principal = { tenantId: 'default', scopes: ['admin' as const], actorType: 'client' as const, actorId: unique('actor') };
    const first = await idempotency.begin(principal, 'k', 'fp');
    expect(first.kind).toBe('proceed');
    await expect(idempotency.begin(principal, 'k', 'fp')).rejects.toMatchObject({ code: 'idempotency.in_progress' });
    if (first.kind !== 'proceed') throw new Error('unreachable');
    await idempotency.complete(principal, 'k', first.claimedAt, 201, { location: '/x' }, '{"ok":true}');
    expect(await idempotency.begin(principal, 'k', 'fp')).toEqual({ kind: 'replay', statusCode: 201, headers: { location: '/x' }, body: '{"ok":true}' });
    await expect(idempotency.begin(principal, 'k', 'other')).rejects.toMatchObject({ code: 'idempotency.key_reused' });
  });

  it('an abandoned claim is taken over by exactly one of several retries, and the late first request cannot overwrite it', async () => {
    const idempotency = t.runtime.services.idempotency;
    const principal = { tenantId: 'default', scopes: ['admin' as const], actorType: 'client' as const, actorId: unique('actor') };
    const dead = await idempotency.begin(principal, 'k', 'fp');
    if (dead.kind !== 'proceed') throw new Error('expected to claim');
    t.clock.advance(61);
    const retries = await Promise.allSettled(Array.from({ length: 6 }, () => idempotency.begin(principal, 'k', 'fp')));
    const winners = retries.filter((r) => r.status === 'fulfilled' && r.value.kind === 'proceed');
    expect(winners).toHaveLength(1);
    for (const r of retries) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'idempotency.in_progress' });
    // The request that died comes back late: its response is not stored over the new claim's.
    await idempotency.complete(principal, 'k', dead.claimedAt, 500, {}, 'late');
    await expect(idempotency.begin(principal, 'k', 'fp')).rejects.toMatchObject({ code: 'idempotency.in_progress' });
  });
});

describe('credentials under concurrency', () => {
  it('tokens requested while the client is deleted: each request is a token or 401 invalid_client; none survives the delete', async () => {
    const client = await post('/v1/clients', { name: unique('doomed'), scopes: ['users:read'] });
    const grant = { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret };
    const [removed, ...tokens] = await Promise.all([
      send('DELETE', `/v1/clients/${client.id}`),
      ...Array.from({ length: 6 }, () => t.app.inject({ method: 'POST', url: '/v1/oauth/token', payload: grant })),
    ]);
    expect(removed?.statusCode).toBe(204);
    for (const r of tokens) {
      expect([200, 401], r.body).toContain(r.statusCode);
      if (r.statusCode === 401) expect(r.json().error).toBe('invalid_client');
      else {
        const refresh = await t.app.inject({ method: 'POST', url: '/v1/oauth/token', payload: { grant_type: 'refresh_token', refresh_token: r.json().refresh_token } });
        expect(refresh.statusCode).toBe(400);
      }
    }
  });

  it('a refresh during a secret rotation: the new refresh token is revoked with the others, or the refresh is refused', async () => {
    for (let round = 0; round < 3; round++) {
      const client = await post('/v1/clients', { name: unique('rot'), scopes: ['users:read'] });
      const issued = await t.app.inject({ method: 'POST', url: '/v1/oauth/token', payload: { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret } });
      const [rotated, refreshed] = await Promise.all([
        send('POST', `/v1/clients/${client.id}/rotate-secret`),
        t.app.inject({ method: 'POST', url: '/v1/oauth/token', payload: { grant_type: 'refresh_token', refresh_token: issued.json().refresh_token } }),
      ]);
      expect(rotated?.statusCode).toBe(200);
      expect([200, 400], refreshed?.body).toContain(refreshed?.statusCode);
      if (refreshed?.statusCode === 200) {
        const again = await t.app.inject({ method: 'POST', url: '/v1/oauth/token', payload: { grant_type: 'refresh_token', refresh_token: refreshed.json().refresh_token } });
        expect(again.statusCode, 'a refresh token issued during the rotation must not outlive it').toBe(400);
      }
    }
  });

  it('clients created while their tenant is deleted: created and deleted with it, or refused; never a 5xx', async () => {
    for (let round = 0; round < 3; round++) {
      const tenant = await post('/v1/tenants', { id: unique('gone').toLowerCase(), name: 'Gone' });
      const [removed, ...created] = await Promise.all([
        send('DELETE', `/v1/tenants/${tenant.id}`),
        ...Array.from({ length: 4 }, () => send('POST', '/v1/clients', { name: 'late', tenantId: tenant.id, scopes: ['users:read'] })),
      ]);
      expect(removed?.statusCode).toBe(204);
      for (const r of created) {
        expect([201, 409, 422], r.body).toContain(r.statusCode);
        if (r.statusCode === 201) await expect(t.token(r.json().clientId, r.json().clientSecret)).rejects.toThrow(/401/);
      }
      const left = await t.runtime.database.db.selectFrom('api_clients').select('id').where('tenant_id', '=', tenant.id).execute();
      expect(left).toEqual([]);
    }
  });

  it('8 parallel uses of one refresh token: exactly one new token', async () => {
    const client = await post('/v1/clients', { name: unique('ref'), scopes: ['users:read'] });
    const issued = await t.app.inject({ method: 'POST', url: '/v1/oauth/token', payload: { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret } });
    const results = await times(8, () => t.app.inject({ method: 'POST', url: '/v1/oauth/token', payload: { grant_type: 'refresh_token', refresh_token: issued.json().refresh_token } }));
    expect(count(codes(results), 200)).toBe(1);
    expect(results.filter((r) => r.statusCode !== 200).map((r) => r.json().error)).toEqual(Array(7).fill('invalid_grant'));
  });

  it('8 parallel signing-key rotations leave exactly one active key, and tokens keep verifying', async () => {
    const results = await times(8, () => send('POST', '/v1/signing-keys/rotate'));
    expect(codes(results).every((c) => c === 200 || c === 201)).toBe(true);
    const active = await t.runtime.database.db.selectFrom('signing_keys').select('kid').where('retired_at', 'is', null).execute();
    expect(active).toHaveLength(1);
    const fresh = await t.token('test-admin', 'test-admin-secret-0123456789');
    expect((await t.request({ method: 'GET', url: '/v1/users', token: fresh })).statusCode).toBe(200);
  });
});

describe('user writes against attribute definition changes', () => {
  /** Position of each created user's `user.created` event and whether the user holds `name`. */
  async function createdAfter(definitionId: string, userIds: string[], name: string) {
    const defEvent = (await eventsOf(definitionId))[0] as Json;
    const late: Json[] = [];
    for (const id of userIds) {
      const created = (await eventsOf(id))[0] as Json;
      if (Number(created.position) > Number(defEvent.position)) late.push(await get(`/v1/users/${id}`));
    }
    return late.filter((u) => (u.attributes as Json | undefined)?.[name] === undefined);
  }

  it('no user created concurrently with a new required attribute commits after it without that attribute', async () => {
    for (let round = 0; round < 3; round++) {
      const name = unique('rq').replaceAll('-', '_');
      const results = await Promise.all([
        ...Array.from({ length: 12 }, () => send('POST', '/v1/users', { email: `${unique('u')}@example.com` })),
        send('POST', '/v1/attribute-definitions', { name, type: 'string', required: true }),
      ]);
      const definition = results.at(-1) as { statusCode: number; json(): Json };
      expect(definition.statusCode).toBe(201);
      const users = results.slice(0, -1);
      // Each user write either committed before the definition, or checked against it (422).
      for (const r of users) expect([201, 422]).toContain(r.statusCode);
      const ids = users.filter((r) => r.statusCode === 201).map((r) => r.json().id as string);
      expect(await createdAfter(definition.json().id, ids, name)).toEqual([]);
      // A required attribute binds every later user write of this file's tenant: drop it.
      expect((await send('DELETE', `/v1/attribute-definitions/${definition.json().id}`)).statusCode).toBe(204);
    }
  });

  it('no value outside a narrowed enum is written after the narrowing commits', async () => {
    const name = unique('en').replaceAll('-', '_');
    const def = await post('/v1/attribute-definitions', { name, type: 'enum', enumValues: ['A', 'B'] });
    const users = await times(8, async () => post('/v1/users', { email: `${unique('e')}@example.com`, attributes: { [name]: 'A' } }));
    await Promise.all([
      ...users.map((u) => send('PATCH', `/v1/users/${u.id}`, { attributes: { [name]: 'B' } })),
      send('PATCH', `/v1/attribute-definitions/${def.id}`, { enumValues: ['A'] }),
    ]);
    const narrowed = (await eventsOf(def.id)).find((e) => e.type === 'attribute_definition.updated') as Json;
    for (const u of users) {
      const events = await eventsOf(u.id);
      const late = events.filter((e) => e.type === 'user.updated' && Number(e.position) > Number(narrowed.position));
      expect(late, `user ${u.id} got B after the narrowing`).toEqual([]);
    }
  });
});
