import { describe, expect, it } from 'vitest';
import { useTestApp, type TestApp } from '../helpers/test-app.js';
import { createEnvironment, createGroup, createOtherTenant, createTarget, tokenWithScopes } from '../helpers/directory-fixtures.js';

let t: TestApp;
let token: string;
useTestApp((app, adminToken) => {
  t = app;
  token = adminToken;
});

let seq = 0;
const unique = (prefix: string) => `${prefix}-${++seq}-${Date.now().toString(36)}`;
const MISSING = '0190a0a0-0000-7000-8000-000000000000';
const KINDS = ['roles', 'groups', 'organizations', 'environments'] as const;
type Kind = (typeof KINDS)[number];
const sorted = (ids: string[]) => [...ids].sort();

async function createUser(payload: Record<string, unknown> = {}, bearer = token) {
  const res = await t.request({ method: 'POST', url: '/v1/users', token: bearer, payload: { userName: unique('member'), ...payload } });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; userName: string; displayName: string; email: string | null; status: string };
}

/** PUT body items of a kind (environments name the environment and its permissions). */
const refs = (kind: Kind, ids: string[]) => (kind === 'environments' ? ids.map((id) => ({ environmentId: id, permissions: ['view'] })) : ids.map((id) => ({ id })));

async function membershipEvents(userId: string) {
  const res = await t.request({ method: 'GET', url: `/v1/users/${userId}/history?limit=1000`, token });
  expect(res.statusCode).toBe(200);
  return (res.json().items as { type: string; changes: Record<string, { from: unknown; to: unknown }>; resource: { type: string; id: string } }[])
    .filter((e) => e.type === 'user.memberships_changed')
    .reverse();
}

async function listIds(kind: Kind, userId: string) {
  const res = await t.request({ method: 'GET', url: `/v1/users/${userId}/${kind}`, token });
  expect(res.statusCode, res.body).toBe(200);
  return (res.json().items as { id: string }[]).map((i) => i.id);
}

describe.each(KINDS)('user side: /v1/users/{id}/%s', (kind) => {
  it('adds idempotently, lists and removes, with one event per change', async () => {
    const user = await createUser();
    const a = await createTarget[kind](t, { name: `A ${unique(kind)}` });
    const b = await createTarget[kind](t, { name: `B ${unique(kind)}` });
    expect(await listIds(kind, user.id)).toEqual([]);

    const first = await t.request({ method: 'POST', url: `/v1/users/${user.id}/${kind}/${a.id}`, token });
    expect(first.statusCode, first.body).toBe(201);
    expect(first.json()).toMatchObject({ id: a.id, name: a.name });
    const again = await t.request({ method: 'POST', url: `/v1/users/${user.id}/${kind}/${a.id}`, token });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(first.json());
    expect((await t.request({ method: 'POST', url: `/v1/users/${user.id}/${kind}/${b.id}`, token })).statusCode).toBe(201);

    const list = await t.request({ method: 'GET', url: `/v1/users/${user.id}/${kind}`, token });
    const items = list.json().items as Record<string, unknown>[];
    expect(items.map((i) => i.id)).toEqual([a.id, b.id]); // sorted by name
    if (kind === 'roles') expect(items[0]).toEqual({ id: a.id, name: a.name, weight: 0 });
    if (kind === 'groups') expect(items[0]).toEqual({ id: a.id, name: a.name });
    if (kind === 'organizations') expect(items[0]).toEqual({ id: a.id, name: a.name, code: (a as { code?: string }).code });
    if (kind === 'environments') expect(items[0]).toEqual({ id: a.id, name: a.name, permissions: ['view'] });

    expect((await t.request({ method: 'DELETE', url: `/v1/users/${user.id}/${kind}/${a.id}`, token })).statusCode).toBe(204);
    const gone = await t.request({ method: 'DELETE', url: `/v1/users/${user.id}/${kind}/${a.id}`, token });
    expect(gone.statusCode).toBe(404);
    expect(gone.json().code).toBe('membership.not_found');
    expect(await listIds(kind, user.id)).toEqual([b.id]);

    const events = await membershipEvents(user.id);
    expect(events).toHaveLength(3); // add a, add b, remove a: the repeated add and the failed delete wrote nothing
    expect(events.every((e) => e.resource.type === 'user' && e.resource.id === user.id)).toBe(true);
    expect(events.map((e) => e.changes[kind])).toEqual([
      { from: [], to: [a.id] },
      { from: [a.id], to: sorted([a.id, b.id]) },
      { from: sorted([a.id, b.id]), to: [b.id] },
    ]);
  });

  it('PUT replaces the whole list and returns what was added and removed', async () => {
    const user = await createUser();
    const [a, b, c] = [await createTarget[kind](t), await createTarget[kind](t), await createTarget[kind](t)];
    const put = (ids: string[]) => t.request({ method: 'PUT', url: `/v1/users/${user.id}/${kind}`, token, payload: refs(kind, ids) });
    const extra = kind === 'environments' ? { updated: [] } : {};

    const r1 = await put([a.id, b.id]);
    expect(r1.statusCode, r1.body).toBe(200);
    expect(r1.json()).toEqual({ added: sorted([a.id, b.id]), removed: [], ...extra });
    const r2 = await put([c.id, b.id]);
    expect(r2.json()).toEqual({ added: [c.id], removed: [a.id], ...extra });
    expect(sorted(await listIds(kind, user.id))).toEqual(sorted([b.id, c.id]));
    const same = await put([b.id, c.id]);
    expect(same.json()).toEqual({ added: [], removed: [], ...extra });
    const cleared = await put([]);
    expect(cleared.json()).toEqual({ added: [], removed: sorted([b.id, c.id]), ...extra });
    expect(await listIds(kind, user.id)).toEqual([]);

    const events = await membershipEvents(user.id);
    expect(events.map((e) => e.changes[kind])).toEqual([
      { from: [], to: sorted([a.id, b.id]) },
      { from: sorted([a.id, b.id]), to: sorted([b.id, c.id]) },
      { from: sorted([b.id, c.id]), to: [] },
    ]);
  });

  it('refuses unknown ids (422, naming them), duplicates and bad ids (400), changing nothing', async () => {
    const user = await createUser();
    const a = await createTarget[kind](t);
    const b = await createTarget[kind](t);
    const other = await createTarget[kind](t);
    expect((await t.request({ method: 'PUT', url: `/v1/users/${user.id}/${kind}`, token, payload: refs(kind, [other.id]) })).statusCode).toBe(200);
    const idField = kind === 'environments' ? 'environmentId' : 'id';

    const unknown = await t.request({ method: 'PUT', url: `/v1/users/${user.id}/${kind}`, token, payload: refs(kind, [a.id, MISSING, b.id]) });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.headers['content-type']).toContain('application/problem+json');
    expect(unknown.json().code).toBe('membership.target_not_found');
    expect(unknown.json().detail).toContain(MISSING);
    expect(unknown.json().errors).toEqual([{ field: `/body/1/${idField}`, message: expect.stringContaining(MISSING) }]);

    const dup = await t.request({ method: 'PUT', url: `/v1/users/${user.id}/${kind}`, token, payload: refs(kind, [a.id, b.id, a.id]) });
    expect(dup.statusCode).toBe(400);
    expect(dup.json().code).toBe('request.validation_failed');
    expect(dup.json().errors).toEqual([{ field: `/body/2/${idField}`, message: `repeats ${a.id}` }]);

    const bad: unknown[] = [
      [{ [idField]: 'not-a-uuid', ...(kind === 'environments' ? { permissions: [] } : {}) }],
      [{ [idField]: a.id, name: 'extra field', ...(kind === 'environments' ? { permissions: [] } : {}) }],
      { [idField]: a.id },
      refs(kind, Array.from({ length: 1001 }, () => a.id)),
    ];
    for (const payload of bad) {
      const res = await t.request({ method: 'PUT', url: `/v1/users/${user.id}/${kind}`, token, payload: payload as object });
      expect(res.statusCode, JSON.stringify(payload).slice(0, 80)).toBe(400);
      expect(res.json().code).toBe('request.validation_failed');
    }
    const noUser = await t.request({ method: 'PUT', url: `/v1/users/${MISSING}/${kind}`, token, payload: refs(kind, [a.id]) });
    expect(noUser.statusCode).toBe(404);
    expect(noUser.json().code).toBe('user.not_found');

    expect(await listIds(kind, user.id)).toEqual([other.id]);
    expect(await membershipEvents(user.id)).toHaveLength(1);
  });

  it('answers 404 for unknown users, targets and memberships', async () => {
    const user = await createUser();
    const a = await createTarget[kind](t);
    const notFound = { roles: 'role.not_found', groups: 'group.not_found', organizations: 'organization.not_found', environments: 'environment.not_found' }[kind];
    const cases = [
      { method: 'GET', url: `/v1/users/${MISSING}/${kind}`, code: 'user.not_found' },
      { method: 'POST', url: `/v1/users/${MISSING}/${kind}/${a.id}`, code: 'user.not_found' },
      { method: 'POST', url: `/v1/users/${user.id}/${kind}/${MISSING}`, code: notFound },
      { method: 'DELETE', url: `/v1/users/${user.id}/${kind}/${MISSING}`, code: notFound },
      { method: 'DELETE', url: `/v1/users/${user.id}/${kind}/${a.id}`, code: 'membership.not_found' },
      { method: 'DELETE', url: `/v1/users/${MISSING}/${kind}/${a.id}`, code: 'user.not_found' },
      { method: 'GET', url: `/v1/${kind}/${MISSING}/members`, code: notFound },
      { method: 'POST', url: `/v1/${kind}/${MISSING}/members/${user.id}`, code: notFound },
      { method: 'POST', url: `/v1/${kind}/${a.id}/members/${MISSING}`, code: 'user.not_found' },
      { method: 'DELETE', url: `/v1/${kind}/${a.id}/members/${user.id}`, code: 'membership.not_found' },
      { method: 'DELETE', url: `/v1/${kind}/${MISSING}/members/${user.id}`, code: notFound },
    ] as const;
    for (const c of cases) {
      const res = await t.request({ method: c.method, url: c.url, token });
      expect(res.statusCode, `${c.method} ${c.url}`).toBe(404);
      expect(res.json().code, `${c.method} ${c.url}`).toBe(c.code);
    }
    expect((await t.request({ method: 'POST', url: `/v1/users/${user.id}/${kind}/not-a-uuid`, token })).statusCode).toBe(400);
    expect(await membershipEvents(user.id)).toEqual([]);
  });
});

describe.each(KINDS)('resource side: /v1/%s/{id}/members', (kind) => {
  it('adds, pages through and removes members, with events on the users', async () => {
    const target = await createTarget[kind](t);
    const users = await Promise.all(Array.from({ length: 5 }, () => createUser({ email: `${unique('m')}@example.com` })));
    for (const u of users) {
      const res = await t.request({ method: 'POST', url: `/v1/${kind}/${target.id}/members/${u.id}`, token });
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json()).toEqual({ id: u.id, userName: u.userName, displayName: u.displayName, email: u.email, status: 'active', managerId: null, ...(kind === 'environments' ? { permissions: ['view'] } : {}) });
    }
    expect((await t.request({ method: 'POST', url: `/v1/${kind}/${target.id}/members/${users[0]!.id}`, token })).statusCode).toBe(200);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await t.request({ method: 'GET', url: `/v1/${kind}/${target.id}/members?limit=2${cursor ? `&cursor=${cursor}` : ''}`, token });
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json() as { items: { id: string }[]; nextCursor: string | null };
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((i) => i.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(sorted(users.map((u) => u.id)));

    expect((await t.request({ method: 'DELETE', url: `/v1/${kind}/${target.id}/members/${users[0]!.id}`, token })).statusCode).toBe(204);
    const all = await t.request({ method: 'GET', url: `/v1/${kind}/${target.id}/members`, token });
    expect(all.json().items).toHaveLength(4);
    expect(all.json().nextCursor).toBeNull();
    expect(await listIds(kind, users[0]!.id)).toEqual([]);
    expect(await listIds(kind, users[1]!.id)).toEqual([target.id]);

    const events = await membershipEvents(users[0]!.id);
    expect(events.map((e) => e.changes[kind])).toEqual([{ from: [], to: [target.id] }, { from: [target.id], to: [] }]);

    const badCursor = await t.request({ method: 'GET', url: `/v1/${kind}/${target.id}/members?cursor=nope`, token });
    expect(badCursor.statusCode).toBe(400);
    expect(badCursor.json().code).toBe('request.invalid_cursor');
    expect((await t.request({ method: 'GET', url: `/v1/${kind}/${target.id}/members?limit=0`, token })).statusCode).toBe(400);
    expect((await t.request({ method: 'GET', url: `/v1/${kind}/${target.id}/members?extra=1`, token })).statusCode).toBe(400);
  });
});

describe('environment permissions', () => {
  it('sets, normalises and updates permissions, reporting them in events', async () => {
    const user = await createUser();
    const dev = await createEnvironment(t, { name: unique('Dev') });
    const prod = await createEnvironment(t, { name: unique('Prod') });
    const url = `/v1/users/${user.id}/environments`;

    const first = await t.request({ method: 'PUT', url, token, payload: [{ environmentId: dev.id, permissions: ['run', 'view'] }, { environmentId: prod.id, permissions: ['view'] }] });
    expect(first.json()).toEqual({ added: sorted([dev.id, prod.id]), removed: [], updated: [] });
    const list = (await t.request({ method: 'GET', url, token })).json().items as { id: string; permissions: string[] }[];
    expect(list.find((i) => i.id === dev.id)?.permissions).toEqual(['view', 'run']);

    const second = await t.request({ method: 'PUT', url, token, payload: [{ environmentId: dev.id, permissions: ['view', 'run'] }, { environmentId: prod.id, permissions: ['admin', 'build'] }] });
    expect(second.json()).toEqual({ added: [], removed: [], updated: [prod.id] });
    const members = (await t.request({ method: 'GET', url: `/v1/environments/${prod.id}/members`, token })).json();
    expect(members.items).toEqual([expect.objectContaining({ id: user.id, permissions: ['build', 'admin'] })]);

    // POST on an existing membership takes the permissions sent (200); without a body it changes nothing.
    const post = await t.request({ method: 'POST', url: `${url}/${dev.id}`, token, payload: { permissions: ['model'] } });
    expect(post.statusCode).toBe(200);
    expect(post.json()).toEqual({ id: dev.id, name: dev.name, permissions: ['model'] });
    expect((await t.request({ method: 'POST', url: `${url}/${dev.id}`, token })).json().permissions).toEqual(['model']);
    const fromResource = await t.request({ method: 'POST', url: `/v1/environments/${prod.id}/members/${user.id}`, token, payload: { permissions: ['view'] } });
    expect(fromResource.statusCode).toBe(200);
    expect(fromResource.json().permissions).toEqual(['view']);

    const events = await membershipEvents(user.id);
    expect(events).toHaveLength(4);
    expect(events[0]!.changes).toEqual({
      environments: { from: [], to: sorted([dev.id, prod.id]) },
      environmentPermissions: { from: {}, to: { [dev.id]: ['view', 'run'], [prod.id]: ['view'] } },
    });
    expect(events[1]!.changes).toEqual({
      environmentPermissions: { from: { [dev.id]: ['view', 'run'], [prod.id]: ['view'] }, to: { [dev.id]: ['view', 'run'], [prod.id]: ['build', 'admin'] } },
    });
    expect(events[2]!.changes.environmentPermissions!.to).toEqual({ [dev.id]: ['model'], [prod.id]: ['build', 'admin'] });
    expect(events[3]!.changes.environmentPermissions!.to).toEqual({ [dev.id]: ['model'], [prod.id]: ['view'] });
  });

  it('refuses unknown or repeated permissions with 400 and changes nothing', async () => {
    const user = await createUser();
    const env = await createEnvironment(t);
    const url = `/v1/users/${user.id}/environments`;
    const cases = [
      { method: 'PUT', url, payload: [{ environmentId: env.id, permissions: ['view', 'fly'] }] },
      { method: 'PUT', url, payload: [{ environmentId: env.id, permissions: ['view', 'view'] }] },
      { method: 'PUT', url, payload: [{ environmentId: env.id }] },
      { method: 'PUT', url, payload: [{ environmentId: env.id, environmentId2: env.id, permissions: [] }] },
      { method: 'PUT', url, payload: [{ environmentId: env.id, permissions: ['view'] }, { environmentId: env.id, permissions: ['admin'] }] },
      { method: 'POST', url: `${url}/${env.id}`, payload: { permissions: ['superuser'] } },
      { method: 'POST', url: `${url}/${env.id}`, payload: { permissions: 'view' } },
      { method: 'POST', url: `${url}/${env.id}`, payload: { permissions: ['view'], extra: true } },
      { method: 'POST', url: `/v1/environments/${env.id}/members/${user.id}`, payload: { permissions: ['root'] } },
    ] as const;
    for (const c of cases) {
      const res = await t.request({ method: c.method, url: c.url, token, payload: c.payload as object });
      expect(res.statusCode, `${c.method} ${JSON.stringify(c.payload)}`).toBe(400);
      expect(res.json().code).toBe('request.validation_failed');
    }
    expect(await listIds('environments', user.id)).toEqual([]);
    expect(await membershipEvents(user.id)).toEqual([]);
  });
});

describe('tenant isolation', () => {
  it("treats another tenant's users and resources as nonexistent", async () => {
    const otherToken = await createOtherTenant(t, 'members-other');
    const user = await createUser();
    const group = await createGroup(t);
    expect((await t.request({ method: 'POST', url: `/v1/users/${user.id}/groups/${group.id}`, token })).statusCode).toBe(201);
    const theirUser = await createUser({}, otherToken);
    const theirGroup = await createGroup(t, { token: otherToken });

    const probes = [
      { method: 'GET', url: `/v1/users/${user.id}/groups`, code: 'user.not_found' },
      { method: 'PUT', url: `/v1/users/${user.id}/groups`, payload: [], code: 'user.not_found' },
      { method: 'POST', url: `/v1/users/${user.id}/groups/${theirGroup.id}`, code: 'user.not_found' },
      { method: 'DELETE', url: `/v1/users/${user.id}/groups/${group.id}`, code: 'user.not_found' },
      { method: 'POST', url: `/v1/users/${theirUser.id}/groups/${group.id}`, code: 'group.not_found' },
      { method: 'GET', url: `/v1/groups/${group.id}/members`, code: 'group.not_found' },
      { method: 'POST', url: `/v1/groups/${group.id}/members/${theirUser.id}`, code: 'group.not_found' },
      { method: 'DELETE', url: `/v1/groups/${group.id}/members/${user.id}`, code: 'group.not_found' },
      { method: 'POST', url: `/v1/groups/${theirGroup.id}/members/${user.id}`, code: 'user.not_found' },
    ] as const;
    for (const p of probes) {
      const res = await t.request({ method: p.method, url: p.url, token: otherToken, ...('payload' in p ? { payload: p.payload as unknown as object } : {}) });
      expect(res.statusCode, `${p.method} ${p.url}`).toBe(404);
      expect(res.json().code, `${p.method} ${p.url}`).toBe(p.code);
    }
    // A foreign id in a full replace is an unknown id.
    const put = await t.request({ method: 'PUT', url: `/v1/users/${theirUser.id}/groups`, token: otherToken, payload: [{ id: theirGroup.id }, { id: group.id }] });
    expect(put.statusCode).toBe(422);
    expect(put.json().detail).toContain(group.id);
    expect(put.json().detail).not.toContain(theirGroup.id);

    // The other tenant works with its own data, and the default tenant's is untouched.
    expect((await t.request({ method: 'PUT', url: `/v1/users/${theirUser.id}/groups`, token: otherToken, payload: [{ id: theirGroup.id }] })).json()).toEqual({ added: [theirGroup.id], removed: [] });
    expect((await t.request({ method: 'GET', url: `/v1/groups/${theirGroup.id}/members`, token: otherToken })).json().items.map((i: { id: string }) => i.id)).toEqual([theirUser.id]);
    expect(await listIds('groups', user.id)).toEqual([group.id]);
    expect((await t.request({ method: 'GET', url: `/v1/groups/${group.id}/members`, token })).json().items.map((i: { id: string }) => i.id)).toEqual([user.id]);
    expect(await membershipEvents(user.id)).toHaveLength(1);
  });
});

describe('scopes', () => {
  it('reads with users:read or directory:read, changes with users:write or directory:write', async () => {
    const user = await createUser();
    const group = await createGroup(t);
    const usersRead = await tokenWithScopes(t, ['users:read']);
    const usersWrite = await tokenWithScopes(t, ['users:write']);
    const dirRead = await tokenWithScopes(t, ['directory:read']);
    const dirWrite = await tokenWithScopes(t, ['directory:write']);
    const check = async (bearer: string, method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, status: number, payload?: object) => {
      const res = await t.request({ method, url, token: bearer, ...(payload ? { payload } : {}) });
      expect(res.statusCode, `${method} ${url}`).toBe(status);
      if (status === 403) expect(res.json().code).toBe('auth.insufficient_scope');
    };
    await check(usersRead, 'GET', `/v1/users/${user.id}/groups`, 200);
    await check(usersRead, 'PUT', `/v1/users/${user.id}/groups`, 403, []);
    await check(usersRead, 'POST', `/v1/users/${user.id}/groups/${group.id}`, 403);
    await check(dirWrite, 'POST', `/v1/users/${user.id}/groups/${group.id}`, 403);
    await check(usersWrite, 'POST', `/v1/users/${user.id}/groups/${group.id}`, 201);
    await check(usersWrite, 'GET', `/v1/groups/${group.id}/members`, 403);
    await check(usersWrite, 'DELETE', `/v1/groups/${group.id}/members/${user.id}`, 403);
    await check(dirRead, 'GET', `/v1/groups/${group.id}/members`, 200);
    await check(dirRead, 'DELETE', `/v1/groups/${group.id}/members/${user.id}`, 403);
    await check(dirWrite, 'DELETE', `/v1/groups/${group.id}/members/${user.id}`, 204);
    await check(dirWrite, 'POST', `/v1/groups/${group.id}/members/${user.id}`, 201);
    await check(usersWrite, 'DELETE', `/v1/users/${user.id}/groups/${group.id}`, 204);
    expect((await t.request({ method: 'GET', url: `/v1/users/${user.id}/groups` })).statusCode).toBe(401);
  });
});

describe('concurrency and cascades', () => {
  it('never duplicates a membership or its event under concurrent adds', async () => {
    const user = await createUser();
    const group = await createGroup(t);
    const env = await createEnvironment(t);
    const results = await Promise.all([
      ...Array.from({ length: 8 }, () => t.request({ method: 'POST', url: `/v1/users/${user.id}/groups/${group.id}`, token })),
      ...Array.from({ length: 8 }, () => t.request({ method: 'POST', url: `/v1/groups/${group.id}/members/${user.id}`, token })),
      ...Array.from({ length: 8 }, () => t.request({ method: 'PUT', url: `/v1/users/${user.id}/environments`, token, payload: [{ environmentId: env.id, permissions: ['view'] }] })),
    ]);
    const statuses = results.slice(0, 16).map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 200)).toHaveLength(15);
    const puts = results.slice(16).map((r) => r.json() as { added: string[] });
    expect(puts.filter((p) => p.added.length === 1)).toHaveLength(1);
    expect(await listIds('groups', user.id)).toEqual([group.id]);
    expect((await t.request({ method: 'GET', url: `/v1/groups/${group.id}/members`, token })).json().items).toHaveLength(1);
    const events = await membershipEvents(user.id);
    expect(events.filter((e) => e.changes.groups)).toHaveLength(1);
    expect(events.filter((e) => e.changes.environments)).toHaveLength(1);
  });

  it("drops a deleted user's memberships", async () => {
    const user = await createUser();
    const stay = await createUser();
    const group = await createGroup(t);
    for (const u of [user, stay]) await t.request({ method: 'POST', url: `/v1/groups/${group.id}/members/${u.id}`, token });
    expect((await t.request({ method: 'DELETE', url: `/v1/users/${user.id}`, token })).statusCode).toBe(204);
    expect((await t.request({ method: 'GET', url: `/v1/groups/${group.id}/members`, token })).json().items.map((i: { id: string }) => i.id)).toEqual([stay.id]);
  });
});

describe('OpenAPI', () => {
  it('documents the membership routes with their contracts', async () => {
    const doc = (await t.request({ method: 'GET', url: '/openapi.json' })).json();
    for (const kind of KINDS) {
      expect(doc.paths[`/v1/users/{id}/${kind}`]).toHaveProperty('put.requestBody');
      // Grouped by kind: "Group memberships".
      expect(doc.paths[`/v1/${kind}/{id}/members`].get.tags).toEqual([`${kind[0]!.toUpperCase()}${kind.slice(1, -1)} memberships`]);
      expect(doc.paths[`/v1/${kind}/{id}/members/{userId}`]).toHaveProperty('delete.responses.404');
    }
    expect(doc.paths['/v1/users/{id}/environments/{environmentId}'].post.requestBody).toBeDefined();
    expect(doc.paths['/v1/users/{id}/groups/{groupId}'].post.responses).toHaveProperty('201');
  });
});
