import { describe, expect, it } from 'vitest';
import { useTestApp, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
let token: string;
useTestApp((app, adminToken) => {
  t = app;
  token = adminToken;
});

let seq = 0;
const unique = (prefix: string) => `${prefix}-${++seq}-${Date.now().toString(36)}`;

async function create(payload: Record<string, unknown>) {
  const res = await t.request({ method: 'POST', url: '/v1/users', token, payload });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

async function counts() {
  const users = (await t.request({ method: 'GET', url: '/v1/users?$count=true&$top=1', token })).json().count as number;
  const events = (await t.request({ method: 'GET', url: '/v1/events?limit=1000', token })).json().items.length as number;
  return { users, events };
}

describe('POST /v1/users', () => {
  it('creates a user with defaults, Location and ETag', async () => {
    const res = await t.request({ method: 'POST', url: '/v1/users', token, payload: { email: 'Ada@Example.com', givenName: 'Ada', familyName: 'Lovelace', title: '' } });
    expect(res.statusCode).toBe(201);
    const user = res.json();
    expect(res.headers.location).toBe(`/v1/users/${user.id}`);
    expect(res.headers.etag).toBe('W/"1"');
    expect(user).toMatchObject({ userName: 'Ada@Example.com', email: 'Ada@Example.com', displayName: 'Ada Lovelace', title: null, status: 'active', version: 1, externalIds: [], attributes: {}, tags: [] });
    expect(user.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
    expect(user).not.toHaveProperty('tenantId');
  });

  it('rejects bad input with problem+json and writes nothing', async () => {
    const taken = await create({ userName: unique('taken'), externalIds: [{ origin: 'hr', key: unique('k') }] });
    const before = await counts();
    const cases: { payload: unknown; status: number; code: string; field?: string; contentType?: string }[] = [
      { payload: { userName: 'x', shoeSize: 44 }, status: 400, code: 'request.validation_failed', field: '/body/shoeSize' },
      { payload: { userName: 'x', givenName: 123 }, status: 400, code: 'request.validation_failed', field: '/body/givenName' },
      { payload: { userName: 'x', email: 'not-an-email' }, status: 400, code: 'request.validation_failed', field: '/body/email' },
      { payload: { givenName: 'No Name' }, status: 400, code: 'request.validation_failed', field: '/body/userName' },
      { payload: { userName: 'x', externalIds: [{ origin: 'a', key: '1' }, { origin: 'a', key: '1' }] }, status: 400, code: 'request.validation_failed' },
      { payload: { userName: 'x', managerId: '0190a0a0-0000-7000-8000-000000000000' }, status: 422, code: 'user.manager_not_found' },
      { payload: { userName: taken.userName.toUpperCase() }, status: 409, code: 'user.username_taken' },
      { payload: { userName: unique('y'), externalIds: taken.externalIds }, status: 409, code: 'user.external_id_taken' },
      { payload: '{"userName": "x",', status: 400, code: 'request.malformed_json', contentType: 'application/json' },
      { payload: 'userName=x', status: 415, code: 'request.unsupported_media_type', contentType: 'text/plain' },
      { payload: { userName: 'x', attributes: { blob: 'x'.repeat(1_100_000) } }, status: 413, code: 'request.body_too_large' },
      { payload: { userName: 'x', status: 'retired' }, status: 400, code: 'request.validation_failed', field: '/body/status' },
      { payload: { userName: "x' or 1=1; drop table users; --", tags: [''] }, status: 400, code: 'request.validation_failed', field: '/body/tags/0' },
    ];
    for (const c of cases) {
      const res = await t.request({
        method: 'POST', url: '/v1/users', token,
        payload: c.payload as string,
        ...(c.contentType ? { headers: { 'content-type': c.contentType } } : {}),
      });
      expect(res.statusCode, JSON.stringify(c.payload).slice(0, 80)).toBe(c.status);
      expect(res.headers['content-type']).toContain('application/problem+json');
      const problem = res.json();
      expect(problem.code).toBe(c.code);
      expect(problem).toMatchObject({ status: c.status, type: expect.stringContaining(c.code), title: expect.any(String), detail: expect.any(String) });
      expect(problem.requestId).toBe(res.headers['x-request-id']);
      if (c.field) expect(problem.errors.map((e: { field: string }) => e.field)).toContain(c.field);
    }
    expect(await counts()).toEqual(before);
  });
});

describe('concurrent writes', () => {
  it('apply each write whole or not at all, even when they share a commit', async () => {
    const before = await counts();
    const taken = unique('dup');
    // 30 creates at once: 10 fight over one userName, 20 are distinct. On SQLite they share
    // group commits; a failing one must take nothing of itself along and nothing of the others.
    const payloads = Array.from({ length: 30 }, (_, i) => ({ userName: i < 10 ? taken : unique('par'), externalIds: [{ origin: 'par', key: unique('k') }] }));
    const results = await Promise.all(payloads.map((payload) => t.request({ method: 'POST', url: '/v1/users', token, payload })));
    const statuses = results.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 201)).toHaveLength(21);
    expect(statuses.filter((s) => s === 409)).toHaveLength(9);
    const after = await counts();
    expect(after.users - before.users).toBe(21);
    expect(after.events - before.events).toBe(21);
    for (const r of results.filter((x) => x.statusCode === 201)) {
      expect((await t.request({ method: 'GET', url: `/v1/users/${r.json().id}`, token })).statusCode).toBe(200);
    }
  });
});

describe('reading users', () => {
  it('finds by id, by userName (any case) and by external id', async () => {
    const name = unique('Grace.Hopper');
    const user = await create({ userName: name, externalIds: [{ origin: 'workday', key: 'W-1906' }, { origin: 'sap', key: name }] });
    const byId = await t.request({ method: 'GET', url: `/v1/users/${user.id}`, token });
    expect(byId.headers.etag).toBe('W/"1"');
    expect(byId.json()).toEqual(user);
    expect((await t.request({ method: 'GET', url: `/v1/users/by-username/${encodeURIComponent(name.toUpperCase())}`, token })).json().id).toBe(user.id);
    // Stored trimmed, so a lookup with the spaces a client sent finds it too.
    const padded = await create({ userName: `  ${unique('padded')}  ` });
    expect((await t.request({ method: 'GET', url: `/v1/users/by-username/${encodeURIComponent(`  ${padded.userName}  `)}`, token })).json().id).toBe(padded.id);
    expect((await t.request({ method: 'GET', url: '/v1/users/by-external-id/workday/W-1906', token })).json().id).toBe(user.id);
    expect((await t.request({ method: 'GET', url: '/v1/users/by-external-id/workday/nope', token })).statusCode).toBe(404);
    expect((await t.request({ method: 'GET', url: '/v1/users/0190a0a0-0000-7000-8000-000000000000', token })).json().code).toBe('user.not_found');
    expect((await t.request({ method: 'GET', url: '/v1/users/not-a-uuid', token })).statusCode).toBe(400);
  });
});

describe('PUT /v1/users/{id}', () => {
  it('replaces the user: omitted optional fields are cleared, status is kept', async () => {
    const user = await create({ userName: unique('put'), givenName: 'A', title: 'Engineer', tags: ['x'], attributes: { a: 1 } });
    await t.request({ method: 'POST', url: `/v1/users/${user.id}/deactivate`, token });
    const res = await t.request({ method: 'PUT', url: `/v1/users/${user.id}`, token, payload: { userName: user.userName, givenName: 'B' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ givenName: 'B', title: null, tags: [], attributes: {}, status: 'suspended', version: 3, displayName: 'B' });
    expect(res.headers.etag).toBe('W/"3"');
  });

  it('accepts a GET body sent back unchanged without bumping the version or writing an event', async () => {
    const user = await create({ userName: unique('echo'), department: 'Ops' });
    const res = await t.request({ method: 'PUT', url: `/v1/users/${user.id}`, token, payload: user });
    expect(res.statusCode).toBe(200);
    expect(res.json().version).toBe(1);
    const history = (await t.request({ method: 'GET', url: `/v1/users/${user.id}/history`, token })).json();
    expect(history.items).toHaveLength(1);
    const mismatch = await t.request({ method: 'PUT', url: `/v1/users/${user.id}`, token, payload: { ...user, id: '0190a0a0-0000-7000-8000-000000000000' } });
    expect(mismatch.statusCode).toBe(400);
  });

  it('honours If-Match', async () => {
    const user = await create({ userName: unique('etag') });
    const stale = await t.request({ method: 'PUT', url: `/v1/users/${user.id}`, token, headers: { 'if-match': 'W/"7"' }, payload: { userName: user.userName, title: 'x' } });
    expect(stale.statusCode).toBe(412);
    expect(stale.json().code).toBe('request.precondition_failed');
    const garbage = await t.request({ method: 'PUT', url: `/v1/users/${user.id}`, token, headers: { 'if-match': 'nonsense' }, payload: { userName: user.userName, title: 'x' } });
    expect(garbage.statusCode).toBe(412);
    const fresh = await t.request({ method: 'PUT', url: `/v1/users/${user.id}`, token, headers: { 'if-match': 'W/"1"' }, payload: { userName: user.userName, title: 'x' } });
    expect(fresh.statusCode).toBe(200);
    const star = await t.request({ method: 'PUT', url: `/v1/users/${user.id}`, token, headers: { 'if-match': '*' }, payload: { userName: user.userName, title: 'y' } });
    expect(star.json().version).toBe(3);
  });
});

describe('PATCH /v1/users/{id} (JSON Merge Patch)', () => {
  it('changes only what was sent, null clears, attributes merge', async () => {
    const user = await create({ userName: unique('patch'), givenName: 'Ada', familyName: 'L', department: 'R&D', attributes: { shirt: 'M', desk: 12 }, tags: ['a'] });
    const res = await t.request({
      method: 'PATCH', url: `/v1/users/${user.id}`, token,
      headers: { 'content-type': 'application/merge-patch+json' },
      payload: JSON.stringify({ department: null, title: 'Analyst', attributes: { desk: null, floor: 3 } }),
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ givenName: 'Ada', familyName: 'L', department: null, title: 'Analyst', attributes: { shirt: 'M', floor: 3 }, tags: ['a'], version: 2 });
    expect(res.json().attributes).not.toHaveProperty('desk');
    const plain = await t.request({ method: 'PATCH', url: `/v1/users/${user.id}`, token, payload: { tags: ['b', 'c'] } });
    expect(plain.json()).toMatchObject({ tags: ['b', 'c'], title: 'Analyst' });
  });

  it('refuses to clear userName and rejects unknown fields', async () => {
    const user = await create({ userName: unique('nn') });
    expect((await t.request({ method: 'PATCH', url: `/v1/users/${user.id}`, token, payload: { userName: null } })).statusCode).toBe(400);
    expect((await t.request({ method: 'PATCH', url: `/v1/users/${user.id}`, token, payload: { id: 'x' } })).statusCode).toBe(400);
    expect((await t.request({ method: 'PATCH', url: `/v1/users/${user.id}`, token, headers: { 'if-match': 'W/"2"' }, payload: { title: 'x' } })).statusCode).toBe(412);
  });

  it('prevents management cycles', async () => {
    const boss = await create({ userName: unique('boss') });
    const mid = await create({ userName: unique('mid'), managerId: boss.id });
    const low = await create({ userName: unique('low'), managerId: mid.id });
    const cycle = await t.request({ method: 'PATCH', url: `/v1/users/${boss.id}`, token, payload: { managerId: low.id } });
    expect(cycle.statusCode).toBe(422);
    expect(cycle.json().code).toBe('user.manager_cycle');
    const self = await t.request({ method: 'PATCH', url: `/v1/users/${boss.id}`, token, payload: { managerId: boss.id } });
    expect(self.json().code).toBe('user.manager_cycle');
  });
});

describe('status and deletion', () => {
  it('accepts the former name inactive on input for one release and stores suspended', async () => {
    const created = await create({ userName: unique('alias'), status: 'inactive' });
    expect(created.status).toBe('suspended');
    const active = await create({ userName: unique('alias') });
    const res = await t.request({ method: 'PATCH', url: `/v1/users/${active.id}`, token, payload: { status: 'inactive' } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ status: 'suspended', version: 2 });
    const history = (await t.request({ method: 'GET', url: `/v1/users/${active.id}/history`, token })).json();
    expect(history.items[0].changes).toEqual({ status: { from: 'active', to: 'suspended' } });
  });

  it('activates and deactivates (the older name of suspend) with events', async () => {
    const user = await create({ userName: unique('status') });
    const off = await t.request({ method: 'POST', url: `/v1/users/${user.id}/deactivate`, token });
    expect(off.json()).toMatchObject({ status: 'suspended', version: 2 });
    const again = await t.request({ method: 'POST', url: `/v1/users/${user.id}/deactivate`, token });
    expect(again.json().version).toBe(2);
    const on = await t.request({ method: 'POST', url: `/v1/users/${user.id}/activate`, token });
    expect(on.json()).toMatchObject({ status: 'active', version: 3 });
    const history = (await t.request({ method: 'GET', url: `/v1/users/${user.id}/history`, token })).json();
    expect(history.items.map((e: { type: string }) => e.type)).toEqual(['user.activated', 'user.suspended', 'user.created']);
    expect(history.items[1].changes).toEqual({ status: { from: 'active', to: 'suspended' } });
  });

  it('deletes a user, clears their reports\' manager, and keeps the history', async () => {
    const boss = await create({ userName: unique('gone') });
    const report = await create({ userName: unique('report'), managerId: boss.id });
    expect((await t.request({ method: 'DELETE', url: `/v1/users/${boss.id}`, token, headers: { 'if-match': 'W/"9"' } })).statusCode).toBe(412);
    expect((await t.request({ method: 'DELETE', url: `/v1/users/${boss.id}`, token })).statusCode).toBe(204);
    expect((await t.request({ method: 'GET', url: `/v1/users/${boss.id}`, token })).statusCode).toBe(404);
    expect((await t.request({ method: 'DELETE', url: `/v1/users/${boss.id}`, token })).statusCode).toBe(404);
    const after = (await t.request({ method: 'GET', url: `/v1/users/${report.id}`, token })).json();
    expect(after).toMatchObject({ managerId: null, version: 2 });
    const history = (await t.request({ method: 'GET', url: `/v1/users/${boss.id}/history`, token })).json();
    expect(history.items[0]).toMatchObject({ type: 'user.deleted', resource: { type: 'user', id: boss.id } });
    expect(history.items[0].changes.userName).toEqual({ from: boss.userName, to: null });
  });
});

describe('events', () => {
  it('record actor and field-level changes, newest first, paged', async () => {
    const user = await create({ userName: unique('audit'), title: 'A' });
    for (const title of ['B', 'C', 'D']) await t.request({ method: 'PATCH', url: `/v1/users/${user.id}`, token, payload: { title } });
    const first = (await t.request({ method: 'GET', url: `/v1/users/${user.id}/history?limit=2`, token })).json();
    expect(first.items.map((e: { changes: { title?: { to: string } } }) => e.changes.title?.to)).toEqual(['D', 'C']);
    expect(first.items[0]).toMatchObject({ type: 'user.updated', actor: { type: 'client', id: 'test-admin' }, changes: { title: { from: 'C', to: 'D' } } });
    const second = (await t.request({ method: 'GET', url: `/v1/users/${user.id}/history?limit=2&cursor=${first.nextCursor}`, token })).json();
    expect(second.items.map((e: { type: string }) => e.type)).toEqual(['user.updated', 'user.created']);
    expect(second.nextCursor).toBeNull();
    expect((await t.request({ method: 'GET', url: `/v1/users/${user.id}/history?cursor=bogus`, token })).json().code).toBe('request.invalid_cursor');
    const feed = (await t.request({ method: 'GET', url: `/v1/events?resourceId=${user.id}&type=user.created`, token })).json();
    expect(feed.items).toHaveLength(1);
  });

  it('needs the admin scope for the tenant-wide log', async () => {
    const client = (await t.request({ method: 'POST', url: '/v1/clients', token, payload: { name: 'r', scopes: ['users:read'] } })).json();
    const reader = await t.token(client.clientId, client.clientSecret);
    expect((await t.request({ method: 'GET', url: '/v1/events', token: reader })).statusCode).toBe(403);
  });
});

describe('Idempotency-Key', () => {
  it('replays the first response for the same key and body, and refuses another body', async () => {
    const key = unique('idem');
    const payload = { userName: unique('idem-user') };
    const first = await t.request({ method: 'POST', url: '/v1/users', token, headers: { 'idempotency-key': key }, payload });
    const second = await t.request({ method: 'POST', url: '/v1/users', token, headers: { 'idempotency-key': key }, payload });
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.json()).toEqual(first.json());
    expect(second.headers.location).toBe(first.headers.location);
    const list = (await t.request({ method: 'GET', url: `/v1/users?$filter=userName eq '${payload.userName}'&$count=true`, token })).json();
    expect(list.count).toBe(1);
    const other = await t.request({ method: 'POST', url: '/v1/users', token, headers: { 'idempotency-key': key }, payload: { userName: 'different' } });
    expect(other.statusCode).toBe(422);
    expect(other.json().code).toBe('idempotency.key_reused');
  });
});

describe('request hygiene', () => {
  it('answers unknown routes and query parameters with problem+json', async () => {
    const route = await t.request({ method: 'GET', url: '/v1/nope', token });
    expect(route.statusCode).toBe(404);
    expect(route.json().code).toBe('request.route_not_found');
    // A path that exists under other methods: 405 with Allow listing them, as problem+json.
    const cases = [
      { method: 'PATCH', url: '/v1/users?x=1', allow: 'GET, HEAD, POST' },
      { method: 'POST', url: '/v1/users/0b7a1a4e-0000-4000-8000-000000000000', allow: 'GET, HEAD, PUT, PATCH, DELETE' },
      { method: 'DELETE', url: '/v1/oauth/token', allow: 'POST' },
    ] as const;
    for (const c of cases) {
      const res = await t.request({ method: c.method, url: c.url, token });
      expect(res.statusCode, `${c.method} ${c.url}: ${res.body}`).toBe(405);
      expect(res.headers.allow).toBe(c.allow);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json()).toMatchObject({ status: 405, code: 'request.method_not_allowed', detail: expect.stringContaining(`does not take ${c.method}; it takes ${c.allow}`) });
    }
    expect((await t.request({ method: 'PATCH', url: '/v1/nope', token })).statusCode).toBe(404);
    const query = await t.request({ method: 'GET', url: '/v1/users?$filtr=x', token });
    expect(query.statusCode).toBe(400);
    expect(query.json().errors[0].field).toBe('/querystring/$filtr');
    expect((await t.request({ method: 'GET', url: '/v1/users?$top=0', token })).statusCode).toBe(400);
    expect((await t.request({ method: 'GET', url: '/v1/users?$top=abc', token })).statusCode).toBe(400);
  });

  it('keeps a sane caller X-Request-Id', async () => {
    const res = await t.request({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'abc-123' } });
    expect(res.headers['x-request-id']).toBe('abc-123');
    const ready = await t.request({ method: 'GET', url: '/readyz' });
    expect(ready.json()).toEqual({ status: 'ready', database: t.dialect });
  });
});
