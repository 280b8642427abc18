import { describe, expect, it } from 'vitest';
import { useTestApp, type TestApp } from '../helpers/test-app.js';
import { createEnvironment, createGroup, createOrganization, createOtherTenant, createRole, tokenWithScopes } from '../helpers/directory-fixtures.js';

let t: TestApp;
let token: string;
useTestApp((app, adminToken) => {
  t = app;
  token = adminToken;
});

let seq = 0;
const unique = (prefix: string) => `${prefix}-${++seq}-${Date.now().toString(36)}`;

interface RowResult {
  key: string;
  id: string | null;
  status: 'added' | 'updated' | 'unchanged' | 'error';
  error?: { code: string; status: number; detail: string; errors?: { field: string; message: string }[] };
}
interface BulkAnswer {
  added: number;
  updated: number;
  unchanged: number;
  errors: number;
  dryRun: boolean;
  users: RowResult[];
}

async function bulk(body: Record<string, unknown>, headers: Record<string, string> = {}, bearer = token): Promise<BulkAnswer> {
  const res = await t.request({ method: 'POST', url: '/v1/users/bulk', token: bearer, payload: body, headers });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as BulkAnswer;
}

async function getUser(id: string) {
  const res = await t.request({ method: 'GET', url: `/v1/users/${id}`, token });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as Record<string, unknown> & { id: string; version: number; managerId: string | null; status: string; externalIds: { origin: string; key: string }[] };
}

async function history(id: string) {
  const res = await t.request({ method: 'GET', url: `/v1/users/${id}/history?limit=1000`, token });
  expect(res.statusCode, res.body).toBe(200);
  return (res.json().items as { type: string; changes: Record<string, { from: unknown; to: unknown }> }[]).reverse();
}

async function listIds(kind: string, userId: string) {
  const res = await t.request({ method: 'GET', url: `/v1/users/${userId}/${kind}`, token });
  expect(res.statusCode, res.body).toBe(200);
  return (res.json().items as { id: string; permissions?: string[] }[]);
}

describe('POST /v1/users/bulk: upsert semantics', () => {
  it('creates absent users, updates only the fields a row sends, and leaves unchanged rows alone', async () => {
    const origin = unique('hr');
    const [a, b] = [unique('a'), unique('b')];
    const first = await bulk({
      origin,
      users: [
        { key: a, userName: `${a}@example.com`, givenName: 'Ada', familyName: 'Lovelace', title: 'Analyst', department: 'Research' },
        { key: b, userName: `${b}@example.com`, givenName: 'Bob', title: 'Clerk' },
      ],
    });
    expect(first).toMatchObject({ added: 2, updated: 0, unchanged: 0, errors: 0, dryRun: false });
    expect(first.users.map((u) => [u.key, u.status])).toEqual([[a, 'added'], [b, 'added']]);
    const ada = await getUser(first.users[0]?.id as string);
    expect(ada).toMatchObject({ userName: `${a}@example.com`, title: 'Analyst', department: 'Research', externalIds: [{ origin, key: a }] });

    // Partial update: title changes, department (not sent) stays; null clears; b is sent unchanged.
    const second = await bulk({ origin, users: [{ key: a, title: 'Lead analyst', familyName: null }, { key: b, title: 'Clerk' }] });
    expect(second).toMatchObject({ added: 0, updated: 1, unchanged: 1, errors: 0 });
    expect(second.users.map((u) => u.id)).toEqual(first.users.map((u) => u.id));
    const after = await getUser(ada.id);
    expect(after).toMatchObject({ title: 'Lead analyst', department: 'Research', familyName: null, version: ada.version + 1 });
    const bob = await getUser(first.users[1]?.id as string);
    expect(bob.version).toBe(1);
    expect((await history(bob.id)).map((e) => e.type)).toEqual(['user.created']);
    expect((await history(ada.id)).map((e) => e.type)).toEqual(['user.created', 'user.updated']);
    expect((await history(ada.id))[1]?.changes).toMatchObject({ title: { from: 'Analyst', to: 'Lead analyst' }, familyName: { from: 'Lovelace', to: null } });
    expect(Object.keys((await history(ada.id))[1]?.changes ?? {})).not.toContain('department');
  });

  it('mode create refuses existing keys and mode update refuses absent ones, row by row', async () => {
    const origin = unique('hr');
    const k = unique('k');
    await bulk({ origin, users: [{ key: k, userName: `${k}@example.com` }] });
    const created = await bulk({ origin, mode: 'create', users: [{ key: k, title: 'X' }, { key: unique('n'), userName: unique('n') }] });
    expect(created.users.map((u) => u.status)).toEqual(['error', 'added']);
    expect(created.users[0]?.error).toMatchObject({ code: 'bulk.user_exists', status: 409 });
    const updated = await bulk({ origin, mode: 'update', users: [{ key: k, title: 'X' }, { key: unique('absent'), userName: unique('absent') }] });
    expect(updated.users.map((u) => u.status)).toEqual(['updated', 'error']);
    expect(updated.users[1]?.error).toMatchObject({ code: 'user.not_found', status: 404 });
  });

  it('keys are matched ignoring case and width, and one origin never touches another origin\'s users', async () => {
    const k = unique('Key');
    const one = await bulk({ origin: 'HR-One', users: [{ key: k, userName: unique('u') }] });
    const again = await bulk({ origin: 'hr-one', users: [{ key: k.toUpperCase(), title: 'T' }] });
    expect(again.users[0]).toMatchObject({ status: 'updated', id: one.users[0]?.id });
    const other = await bulk({ origin: 'hr-two', users: [{ key: k, userName: unique('u') }] });
    expect(other.users[0]?.status).toBe('added');
    expect(other.users[0]?.id).not.toBe(one.users[0]?.id);
  });

  it('one bad row never affects the others, and a row is applied whole or not at all', async () => {
    const origin = unique('hr');
    const taken = unique('taken');
    await t.request({ method: 'POST', url: '/v1/users', token, payload: { userName: taken } });
    const groupA = await createGroup(t);
    const keys = [unique('ok'), unique('dupname'), unique('badgroup'), unique('badstatus')];
    const res = await bulk({
      origin,
      users: [
        { key: keys[0], userName: unique('ok') },
        { key: keys[1], userName: taken },
        { key: keys[2], userName: unique('g'), groups: [groupA.name, 'no such group'] },
        { key: keys[3], userName: unique('s'), status: 'deprovisioned' },
      ],
    });
    expect(res.users.map((u) => u.status)).toEqual(['added', 'error', 'error', 'error']);
    expect(res.users[1]?.error).toMatchObject({ code: 'user.username_taken', status: 409 });
    expect(res.users[2]?.error).toMatchObject({ code: 'bulk.reference_not_found', errors: [{ field: '/users/2/groups/1' }] });
    expect(res.users[3]?.error?.status).toBe(400);
    // Nothing of the failed rows exists: their keys find no user.
    for (const key of keys.slice(1)) {
      const lookup = await t.request({ method: 'GET', url: `/v1/users/by-external-id/${encodeURIComponent(origin)}/${encodeURIComponent(key as string)}`, token });
      expect(lookup.statusCode, key).toBe(404);
    }
    expect((await listIds('groups', res.users[0]?.id as string)).length).toBe(0);
  });

  it('repeated keys in one request: the first row is written, the repeats are errors', async () => {
    const origin = unique('hr');
    const k = unique('k');
    const res = await bulk({ origin, users: [{ key: k, userName: unique('a') }, { key: k.toUpperCase(), userName: unique('b') }] });
    expect(res.users.map((u) => u.status)).toEqual(['added', 'error']);
    expect(res.users[1]?.error).toMatchObject({ code: 'bulk.duplicate_key', errors: [{ field: '/users/1/key', message: 'repeats row 0' }] });
  });
});

describe('POST /v1/users/bulk: references', () => {
  it('managers by key of the same batch, in any order, across chunks', async () => {
    const origin = unique('hr');
    // 600 rows, more than one chunk, every manager listed AFTER its reports: rows 0–499 report to
    // rows 500–599, which report to row 599 (the head).
    const keys = Array.from({ length: 600 }, () => unique('e'));
    const managerOf = (i: number) => (i < 500 ? 500 + (i % 100) : i < 599 ? 599 : undefined);
    const users = keys.map((key, i) => ({ key, userName: `${key}@example.com`, ...(managerOf(i) === undefined ? {} : { manager: keys[managerOf(i) as number] }) }));
    const res = await bulk({ origin, users });
    expect(res.errors, JSON.stringify(res.users.find((u) => u.status === 'error'))).toBe(0);
    expect(res.added).toBe(600);
    for (const i of [0, 250, 499, 500, 598]) expect((await getUser(res.users[i]?.id as string)).managerId).toBe(res.users[managerOf(i) as number]?.id);
    expect((await getUser(res.users[599]?.id as string)).managerId).toBeNull();
  });

  it('rejects every row of an in-batch manager cycle, and rows reporting into it, but writes the rest', async () => {
    const origin = unique('hr');
    const [a, b, c, d, e] = Array.from({ length: 5 }, () => unique('c'));
    const res = await bulk({
      origin,
      users: [
        { key: a, userName: unique('a'), manager: b },
        { key: b, userName: unique('b'), manager: { origin, key: c } },
        { key: c, userName: unique('c'), manager: a },
        { key: d, userName: unique('d'), manager: a },
        { key: e, userName: unique('e') },
      ],
    });
    expect(res.users.map((u) => u.status)).toEqual(['error', 'error', 'error', 'error', 'added']);
    for (const row of res.users.slice(0, 3)) expect(row.error?.code).toBe('user.manager_cycle');
    expect(res.users[3]?.error?.code).toBe('user.manager_not_found');
  });

  it('a manager change that closes a cycle through stored users is refused for that row', async () => {
    const origin = unique('hr');
    const [boss, worker] = [unique('boss'), unique('worker')];
    await bulk({ origin, users: [{ key: boss, userName: unique('b') }, { key: worker, userName: unique('w'), manager: boss }] });
    const res = await bulk({ origin, users: [{ key: boss, manager: worker }] });
    expect(res.users[0]).toMatchObject({ status: 'error', error: { code: 'user.manager_cycle' } });
  });

  it('managers by userName, by id, by another origin\'s external id; null clears', async () => {
    const origin = unique('hr');
    const boss = await t.request({ method: 'POST', url: '/v1/users', token, payload: { userName: unique('boss'), externalIds: [{ origin: 'ad', key: unique('ad') }] } });
    const bossUser = boss.json() as { id: string; userName: string; externalIds: { origin: string; key: string }[] };
    const [k1, k2, k3] = [unique('k'), unique('k'), unique('k')];
    const res = await bulk({
      origin,
      users: [
        { key: k1, userName: unique('u'), manager: bossUser.userName },
        { key: k2, userName: unique('u'), manager: { id: bossUser.id } },
        { key: k3, userName: unique('u'), manager: bossUser.externalIds[0] },
      ],
    });
    expect(res.errors).toBe(0);
    for (const row of res.users) expect((await getUser(row.id as string)).managerId).toBe(bossUser.id);
    const cleared = await bulk({ origin, users: [{ key: k1, manager: null }] });
    expect(cleared.users[0]?.status).toBe('updated');
    expect((await getUser(res.users[0]?.id as string)).managerId).toBeNull();
    const both = await bulk({ origin, users: [{ key: k2, manager: null, managerId: null }] });
    expect(both.users[0]?.error).toMatchObject({ code: 'bulk.conflicting_fields', status: 400 });
  });

  it('groups, roles, organizations by name, code, id or external key; environments with permission flags; full replace', async () => {
    const origin = unique('hr');
    const g1 = await createGroup(t);
    const gExt = { origin: 'ad', key: unique('grp') };
    const g2res = await t.request({ method: 'POST', url: '/v1/groups', token, payload: { name: unique('group'), externalIds: [gExt] } });
    expect(g2res.statusCode, g2res.body).toBe(201);
    const g2 = g2res.json() as { id: string };
    const role = await createRole(t);
    const org = await createOrganization(t);
    const env = await createEnvironment(t);
    const k = unique('k');
    const res = await bulk({
      origin,
      users: [{
        key: k, userName: unique('u'),
        groups: [g1.name, gExt], roles: [{ id: role.id }], organizations: [(org as { code: string }).code],
        environments: [{ environment: env.name, permissions: { view: true, run: true, admin: false } }],
      }],
    });
    expect(res.errors, JSON.stringify(res.users[0]?.error)).toBe(0);
    const id = res.users[0]?.id as string;
    expect((await listIds('groups', id)).map((g) => g.id).sort()).toEqual([g1.id, g2.id].sort());
    expect((await listIds('roles', id)).map((r) => r.id)).toEqual([role.id]);
    expect((await listIds('organizations', id)).map((o) => o.id)).toEqual([org.id]);
    expect(await listIds('environments', id)).toMatchObject([{ id: env.id, permissions: ['view', 'run'] }]);

    // The same lists again: unchanged, no event. A new group list replaces the old one.
    const same = await bulk({ origin, users: [{ key: k, groups: [g2.id, g1.name.toUpperCase()] }] });
    expect(same.users[0]?.status).toBe('unchanged');
    const replaced = await bulk({ origin, users: [{ key: k, groups: [g1.id] }] });
    expect(replaced.users[0]?.status).toBe('updated');
    expect((await listIds('groups', id)).map((g) => g.id)).toEqual([g1.id]);
    expect((await listIds('roles', id)).length).toBe(1); // roles not sent: kept
  });

  it('another tenant\'s records are not found', async () => {
    const other = await createOtherTenant(t, unique('tenant'));
    const otherGroup = await t.request({ method: 'POST', url: '/v1/groups', token: other, payload: { name: unique('theirs') } });
    const theirs = otherGroup.json() as { id: string; name: string };
    const res = await bulk({ origin: unique('hr'), users: [{ key: unique('k'), userName: unique('u'), groups: [theirs.id] }, { key: unique('k'), userName: unique('u'), groups: [theirs.name] }] });
    expect(res.users.map((u) => u.error?.code)).toEqual(['bulk.reference_not_found', 'bulk.reference_not_found']);
  });
});

describe('POST /v1/users/bulk: dry run, idempotency, scopes, bad input', () => {
  it('dryRun answers what would happen and writes nothing', async () => {
    const origin = unique('hr');
    const k = unique('k');
    await bulk({ origin, users: [{ key: k, userName: unique('u'), title: 'A' }] });
    const keys = Array.from({ length: 300 }, () => unique('n'));
    const rows = [{ key: k, title: 'B' }, ...keys.map((key, i) => ({ key, userName: unique('u'), ...(i > 0 ? { manager: keys[0] } : {}) }))];
    const dry = await bulk({ origin, dryRun: true, users: rows });
    expect(dry).toMatchObject({ dryRun: true, added: 300, updated: 1, errors: 0 });
    expect(dry.users[1]?.id).toBeNull();
    const stored = await t.request({ method: 'GET', url: `/v1/users/by-external-id/${origin}/${k}`, token });
    expect(stored.json()).toMatchObject({ title: 'A', version: 1 });
    const none = await t.request({ method: 'GET', url: `/v1/users/by-external-id/${origin}/${keys[5]}`, token });
    expect(none.statusCode).toBe(404);
    const real = await bulk({ origin, users: rows });
    expect(real).toMatchObject({ dryRun: false, added: dry.added, updated: dry.updated, unchanged: dry.unchanged, errors: dry.errors });
  });

  it('Idempotency-Key replays the first answer', async () => {
    const origin = unique('hr');
    const body = { origin, users: [{ key: unique('k'), userName: unique('u') }] };
    const key = unique('idem');
    const first = await t.request({ method: 'POST', url: '/v1/users/bulk', token, payload: body, headers: { 'idempotency-key': key } });
    const second = await t.request({ method: 'POST', url: '/v1/users/bulk', token, payload: body, headers: { 'idempotency-key': key } });
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.json()).toEqual(first.json());
    expect(first.json().added).toBe(1);
  });

  it('needs users:write', async () => {
    const reader = await tokenWithScopes(t, ['users:read']);
    const res = await t.request({ method: 'POST', url: '/v1/users/bulk', token: reader, payload: { origin: 'hr', users: [] } });
    expect(res.statusCode).toBe(403);
  });

  it('refuses malformed bodies with a 400 naming the problem, and writes nothing', async () => {
    const origin = unique('hr');
    const cases: unknown[] = [
      { users: [] },
      { origin, users: [{ userName: 'no-key' }] },
      { origin, users: [{ key: 'k', unknownField: 1 }] },
      { origin, users: [{ key: 'k', groups: 'not-a-list' }] },
      { origin, mode: 'merge', users: [] },
      { origin, users: [{ key: 'k', environments: [{ environment: 'e', permissions: { fly: true } }] }] },
      { origin, users: [{ key: 'k\u0000', userName: 'x' }] },
    ];
    for (const payload of cases) {
      const res = await t.request({ method: 'POST', url: '/v1/users/bulk', token, payload: payload as Record<string, unknown> });
      expect(res.statusCode, JSON.stringify(payload).slice(0, 200)).toBe(400);
      expect(res.json().code).toMatch(/^request\./);
    }
  });
});

describe('POST /v1/users/bulk-disable', () => {
  it('suspends by id and by external key; repeats are unchanged; preventDeprovision and unknown users are error rows', async () => {
    const origin = unique('hr');
    const [a, b, c] = [unique('a'), unique('b'), unique('c')];
    const loaded = await bulk({ origin, users: [{ key: a, userName: unique('u') }, { key: b, userName: unique('u') }, { key: c, userName: unique('u'), preventDeprovision: true }] });
    const ida = loaded.users[0]?.id as string;
    const res = await t.request({
      method: 'POST', url: '/v1/users/bulk-disable', token,
      payload: { users: [{ id: ida }, { origin, key: b }, { origin, key: c }, { origin, key: unique('nobody') }, { id: ida }] },
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as { disabled: number; unchanged: number; errors: number; users: { status: string; id: string | null; error?: { code: string } }[] };
    expect(body).toMatchObject({ disabled: 2, unchanged: 1, errors: 2 });
    expect(body.users.map((u) => u.status)).toEqual(['disabled', 'disabled', 'error', 'error', 'unchanged']);
    expect(body.users[2]?.error?.code).toBe('bulk.deprovision_prevented');
    expect(body.users[3]?.error?.code).toBe('user.not_found');
    expect((await getUser(ida)).status).toBe('suspended');
    expect((await getUser(loaded.users[2]?.id as string)).status).toBe('active');
    expect((await history(ida)).map((e) => e.type)).toEqual(['user.created', 'user.suspended']);
  });
});

describe('POST /v1/users/bulk: asynchronous calls and NDJSON', () => {
  async function runJobs(): Promise<void> {
    const runner = t.runtime.jobRunner({ concurrency: 1 });
    while ((await runner.runDue()) > 0);
  }

  async function results(jobId: string, bearer: string, query = '') {
    const all: { index: number; key: string; id: string | null; status: string | null; error: { code: string } | null }[] = [];
    let url = `/v1/jobs/${jobId}/results?$top=7${query}`;
    for (;;) {
      const res = await t.request({ method: 'GET', url, token: bearer });
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json() as { items: typeof all; nextCursor: string | null };
      all.push(...page.items);
      if (!page.nextCursor) return all;
      url = `/v1/jobs/${jobId}/results?cursor=${page.nextCursor}`;
    }
  }

  it('?async=true answers 202 with a job that a users:write credential follows to its per-row results', async () => {
    const writer = await tokenWithScopes(t, ['users:write']);
    const origin = unique('hr');
    const keys = Array.from({ length: 20 }, () => unique('a'));
    const users = [...keys.map((key) => ({ key, userName: `${key}@example.com` })), { key: unique('bad'), userName: unique('b'), groups: ['no such group'] }];
    const res = await t.request({ method: 'POST', url: '/v1/users/bulk?async=true', token: writer, payload: { origin, users } });
    expect(res.statusCode, res.body).toBe(202);
    const job = res.json() as { id: string; status: string; type: string };
    expect(res.headers.location).toBe(`/v1/jobs/${job.id}`);
    expect(job).toMatchObject({ status: 'queued', type: 'users.bulk-upsert' });
    expect((await results(job.id, writer)).every((r) => r.status === null)).toBe(true);

    await runJobs();
    const done = await t.request({ method: 'GET', url: `/v1/jobs/${job.id}`, token: writer });
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json()).toMatchObject({ status: 'succeeded', result: { added: 20, updated: 0, unchanged: 0, errors: 1 }, progress: { done: 21, total: 21 } });
    const rows = await results(job.id, writer);
    expect(rows.map((r) => r.index)).toEqual(Array.from({ length: 21 }, (_, i) => i));
    expect(rows.slice(0, 20).every((r) => r.status === 'added' && r.id !== null)).toBe(true);
    expect(rows[20]).toMatchObject({ status: 'error', id: null, error: { code: 'bulk.reference_not_found' } });
    expect((await results(job.id, writer, '&status=error')).map((r) => r.index)).toEqual([20]);
    expect((await getUser(rows[3]?.id as string)).externalIds).toEqual([{ origin, key: keys[3] }]);
    const history = (await t.request({ method: 'GET', url: `/v1/users/${rows[3]?.id}/history`, token })).json().items as { context?: { jobId?: string } }[];
    expect(history[0]?.context?.jobId).toBe(job.id);
  });

  it('more than 10,000 rows become a job by themselves; an async dry run writes nothing', async () => {
    const origin = unique('hr');
    const users = Array.from({ length: 10_001 }, (_, i) => ({ key: `k${i}`, userName: `${origin}-${i}@example.com` }));
    const dry = await t.request({ method: 'POST', url: '/v1/users/bulk', token, payload: { origin, dryRun: true, users } });
    expect(dry.statusCode, dry.body.slice(0, 300)).toBe(202);
    await runJobs();
    expect((await t.request({ method: 'GET', url: `/v1/jobs/${dry.json().id}`, token })).json()).toMatchObject({ status: 'succeeded', result: { added: 10_001, dryRun: true } });
    expect((await t.request({ method: 'GET', url: `/v1/users/by-external-id/${origin}/k5`, token })).statusCode).toBe(404);
    const real = await t.request({ method: 'POST', url: '/v1/users/bulk', token, payload: { origin, users } });
    expect(real.statusCode).toBe(202);
    await runJobs();
    expect((await t.request({ method: 'GET', url: `/v1/jobs/${real.json().id}`, token })).json()).toMatchObject({ status: 'succeeded', result: { added: 10_001, errors: 0 } });
    expect((await t.request({ method: 'GET', url: `/v1/users/by-external-id/${origin}/k10000`, token })).statusCode).toBe(200);
  }, 120_000);

  it('takes application/x-ndjson: one row per line, origin, mode and dryRun in the query string', async () => {
    const origin = unique('hr');
    const [a, b] = [unique('a'), unique('b')];
    const body = `${JSON.stringify({ key: a, userName: `${a}@example.com`, title: 'T' })}\r\n\n${JSON.stringify({ key: b, userName: `${b}@example.com`, manager: a })}\n`;
    const res = await t.request({ method: 'POST', url: `/v1/users/bulk?origin=${origin}&mode=create`, token, payload: body, headers: { 'content-type': 'application/x-ndjson' } });
    expect(res.statusCode, res.body).toBe(200);
    const answer = res.json() as BulkAnswer;
    expect(answer).toMatchObject({ added: 2, errors: 0 });
    expect((await getUser(answer.users[1]?.id as string)).managerId).toBe(answer.users[0]?.id);

    const dry = await t.request({ method: 'POST', url: `/v1/users/bulk?origin=${origin}&dryRun=true`, token, payload: JSON.stringify({ key: a, title: 'U' }), headers: { 'content-type': 'application/x-ndjson' } });
    expect(dry.json()).toMatchObject({ dryRun: true, updated: 1 });

    const badLine = await t.request({ method: 'POST', url: `/v1/users/bulk?origin=${origin}`, token, payload: `${JSON.stringify({ key: a })}\n{"key": oops}\n`, headers: { 'content-type': 'application/x-ndjson' } });
    expect(badLine.statusCode).toBe(400);
    expect(badLine.json().detail).toMatch(/Line 2/);
    const badRow = await t.request({ method: 'POST', url: `/v1/users/bulk?origin=${origin}`, token, payload: `${JSON.stringify({ key: a })}\n${JSON.stringify({ key: b, nope: 1 })}\n`, headers: { 'content-type': 'application/x-ndjson' } });
    expect(badRow.statusCode).toBe(400);
    expect(JSON.stringify(badRow.json().errors)).toContain('/body/users/1');
    const noOrigin = await t.request({ method: 'POST', url: '/v1/users/bulk', token, payload: JSON.stringify({ key: a }), headers: { 'content-type': 'application/x-ndjson' } });
    expect(noOrigin.statusCode).toBe(400);
    const queryWithJson = await t.request({ method: 'POST', url: `/v1/users/bulk?origin=${origin}`, token, payload: { origin, users: [] } });
    expect(queryWithJson.statusCode).toBe(400);
    expect(queryWithJson.json().errors[0].field).toBe('/querystring/origin');
  });
});
