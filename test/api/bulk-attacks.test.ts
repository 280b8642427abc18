import { describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { useTestApp, type TestApp } from '../helpers/test-app.js';
import { createEnvironment, createGroup, createOtherTenant } from '../helpers/directory-fixtures.js';

/*
 * Fresh-eyes attacks on POST /v1/users/bulk and POST /v1/users/bulk-disable (README "Bulk upsert
 * and bulk disable"), through HTTP on both databases. What bulk-upsert.test.ts already proves is
 * not repeated here. Each test states what a client relies on: a 400 for a body that does not
 * match the schema, an error row (a problem object) for a row-level problem, never a 500, the
 * same answer on SQLite and PostgreSQL, nothing written by failed rows, a dry run that answers
 * exactly what the real run then does and writes nothing, and sane results under concurrency.
 * Tests marked `// BUG:` document a defect of src; they are `it.fails` until it is fixed.
 */

let t: TestApp;
let token: string;
useTestApp((app, adminToken) => {
  t = app;
  token = adminToken;
});

let seq = 0;
const unique = (prefix: string) => `${prefix}-${++seq}-${Date.now().toString(36)}`;

interface Problem { code: string; status: number; detail: string; errors?: { field: string; message: string }[] }
interface RowResult { key: string; id: string | null; status: 'added' | 'updated' | 'unchanged' | 'error'; error?: Problem }
interface BulkAnswer { added: number; updated: number; unchanged: number; errors: number; dryRun: boolean; users: RowResult[] }
interface DisableAnswer { disabled: number; unchanged: number; errors: number; dryRun: boolean; users: { id: string | null; origin?: string; key?: string; status: string; error?: Problem }[] }
interface StoredUser { id: string; userName: string; version: number; status: string; title: string | null; managerId: string | null; externalIds: { origin: string; key: string }[] }

const post = (url: string, payload: unknown, headers: Record<string, string> = {}, bearer = token): Promise<LightMyRequestResponse> =>
  t.request({ method: 'POST', url, token: bearer, headers: { 'content-type': 'application/json', ...headers }, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) });

async function bulk(body: unknown, headers: Record<string, string> = {}, bearer = token): Promise<BulkAnswer> {
  const res = await post('/v1/users/bulk', body, headers, bearer);
  expect(res.statusCode, res.body.slice(0, 500)).toBe(200);
  return res.json() as BulkAnswer;
}

async function disable(body: unknown): Promise<DisableAnswer> {
  const res = await post('/v1/users/bulk-disable', body);
  expect(res.statusCode, res.body.slice(0, 500)).toBe(200);
  return res.json() as DisableAnswer;
}

/** A 400 for the whole call: a problem naming the request, nothing written. */
async function expect400(url: string, payload: unknown, label: string, headers: Record<string, string> = {}): Promise<Problem> {
  const res = await post(url, payload, headers);
  expect(res.statusCode, `${label}: ${res.body.slice(0, 300)}`).toBe(400);
  const problem = res.json() as Problem;
  expect(problem.code, label).toMatch(/^request\./);
  expect(problem.detail, label).toBeTruthy();
  return problem;
}

async function createUser(payload: Record<string, unknown>, bearer = token): Promise<StoredUser> {
  const res = await t.request({ method: 'POST', url: '/v1/users', token: bearer, payload });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as StoredUser;
}

async function getUser(id: string): Promise<StoredUser> {
  const res = await t.request({ method: 'GET', url: `/v1/users/${id}`, token });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as StoredUser;
}

async function byKey(origin: string, key: string): Promise<StoredUser | undefined> {
  const res = await t.request({ method: 'GET', url: `/v1/users/by-external-id/${encodeURIComponent(origin)}/${encodeURIComponent(key)}`, token });
  if (res.statusCode === 404) return undefined;
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as StoredUser;
}

async function historyTypes(id: string): Promise<string[]> {
  const res = await t.request({ method: 'GET', url: `/v1/users/${id}/history?limit=1000`, token });
  expect(res.statusCode, res.body).toBe(200);
  return (res.json().items as { type: string }[]).map((e) => e.type).reverse();
}

/** What a write would change, seen from outside: how many users there are and the newest event position. */
async function snapshot(bearer = token): Promise<{ users: number; lastEvent: number | null }> {
  const users = await t.request({ method: 'GET', url: '/v1/users?$count=true&$top=1', token: bearer });
  expect(users.statusCode, users.body).toBe(200);
  const events = await t.request({ method: 'GET', url: '/v1/events?$top=1', token: bearer });
  expect(events.statusCode, events.body).toBe(200);
  return { users: (users.json() as { count: number }).count, lastEvent: (events.json().items as { position: number }[])[0]?.position ?? null };
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/** A row as a client compares a dry run with the real run: ids of added users and request ids left out. */
function comparable(rows: readonly { id: string | null; status: string; error?: Problem }[]) {
  return rows.map(({ id, status, error, ...rest }) => ({
    ...rest,
    status,
    id: status === 'added' ? null : id,
    error: error && { code: error.code, status: error.status, detail: error.detail.replace(UUID, '<uuid>'), errors: error.errors },
  }));
}

/**
 * The dry-run contract: a dry run writes nothing (same user count, no new event) and answers
 * exactly what the real run that follows it answers. Returns the real answer.
 */
async function dryThenReal(body: Record<string, unknown>): Promise<BulkAnswer> {
  const before = await snapshot();
  const dry = await bulk({ ...body, dryRun: true });
  expect(await snapshot(), 'a dry run wrote something').toEqual(before);
  const real = await bulk(body);
  expect(dry.dryRun).toBe(true);
  expect(real.dryRun).toBe(false);
  expect({ added: dry.added, updated: dry.updated, unchanged: dry.unchanged, errors: dry.errors }).toEqual({ added: real.added, updated: real.updated, unchanged: real.unchanged, errors: real.errors });
  expect(comparable(dry.users)).toEqual(comparable(real.users));
  return real;
}

const times = <T>(n: number, f: (i: number) => Promise<T>) => Promise.all(Array.from({ length: n }, (_, i) => f(i)));

describe('bulk upsert: bodies that do not match the schema are a 400 for the whole call, and write nothing', () => {
  it('malformed JSON, wrong types, unknown fields, bad modes and both forms of a reference', async () => {
    const origin = unique('hr');
    const before = await snapshot();
    await expect400('/v1/users/bulk', '{"origin":"hr","users":[', 'truncated JSON');
    await expect400('/v1/users/bulk', '{"origin":"hr","users":[],}', 'trailing comma');
    await expect400('/v1/users/bulk', `{"origin":"${origin}","origin":"x","users":[]}`, 'repeated key');
    await expect400('/v1/users/bulk', `{"origin":"${origin}","users":[{"key":"a","__proto__":{"admin":true}}]}`, '__proto__');
    const cases: [string, unknown][] = [
      ['body is an array', [{ origin, users: [] }]],
      ['body is a string', JSON.stringify('hello')],
      ['body is null', 'null'],
      ['origin a number', { origin: 42, users: [] }],
      ['origin empty', { origin: '', users: [] }],
      ['origin too long', { origin: 'o'.repeat(129), users: [] }],
      ['users an object', { origin, users: { key: 'a' } }],
      ['users missing', { origin }],
      ['dryRun a string', { origin, dryRun: 'yes', users: [] }],
      ['mode null', { origin, mode: null, users: [] }],
      ['mode in capitals', { origin, mode: 'UPSERT', users: [] }],
      ['mode replace', { origin, mode: 'replace', users: [] }],
      ['unknown top-level field', { origin, users: [], async: 'maybe' }],
      ['row is a string', { origin, users: ['a'] }],
      ['row is null', { origin, users: [null] }],
      ['key a number', { origin, users: [{ key: 1815, userName: 'x' }] }],
      ['key empty', { origin, users: [{ key: '', userName: 'x' }] }],
      ['key too long', { origin, users: [{ key: 'k'.repeat(257), userName: 'x' }] }],
      ['key null', { origin, users: [{ key: null, userName: 'x' }] }],
      ['userName a number', { origin, users: [{ key: 'a', userName: 12 }] }],
      ['title an object', { origin, users: [{ key: 'a', title: { en: 'x' } }] }],
      ['groups with a number', { origin, users: [{ key: 'a', groups: [1] }] }],
      ['groups null', { origin, users: [{ key: 'a', groups: null }] }],
      ['reference with id and name', { origin, users: [{ key: 'a', groups: [{ id: '0190f0c5-7b1e-7cc3-a5a4-2f1d3c9b8e10', name: 'x' }] }] }],
      ['reference with origin, key and name', { origin, users: [{ key: 'a', manager: { origin, key: 'b', userName: 'c' } }] }],
      ['reference by origin without key', { origin, users: [{ key: 'a', manager: { origin } }] }],
      ['reference id not a UUID', { origin, users: [{ key: 'a', manager: { id: 'not-a-uuid' } }] }],
      ['reference an empty object', { origin, users: [{ key: 'a', roles: [{}] }] }],
      ['reference an empty string', { origin, users: [{ key: 'a', roles: [''] }] }],
      ['environment without environment', { origin, users: [{ key: 'a', environments: [{ permissions: ['view'] }] }] }],
      ['environment as a string', { origin, users: [{ key: 'a', environments: ['prod'] }] }],
      ['permission not in the list', { origin, users: [{ key: 'a', environments: [{ environment: 'prod', permissions: ['fly'] }] }] }],
      ['permission flag a string', { origin, users: [{ key: 'a', environments: [{ environment: 'prod', permissions: { view: 'yes' } }] }] }],
      ['permissions a string', { origin, users: [{ key: 'a', environments: [{ environment: 'prod', permissions: 'view' }] }] }],
      ['status unknown', { origin, users: [{ key: 'a', userName: 'x', status: 'retired' }] }],
      ['unknown row field', { origin, users: [{ key: 'a', userName: 'x', nickname: 'y' }] }],
      ['id is not writable in a row', { origin, users: [{ key: 'a', id: '0190f0c5-7b1e-7cc3-a5a4-2f1d3c9b8e10' }] }],
      ['version is not writable in a row', { origin, users: [{ key: 'a', version: 3 }] }],
      ['an unsafe integer in attributes', `{"origin":"${origin}","users":[{"key":"a","attributes":{"n":9007199254740993}}]}`],
    ];
    for (const [label, payload] of cases) await expect400('/v1/users/bulk', payload, label);
    expect(await snapshot()).toEqual(before);
  });

  it('NUL and unpaired surrogates in origins, keys, names and references are a 400 naming where they are', async () => {
    const origin = unique('hr');
    const before = await snapshot();
    const bad = ['nul\u0000', 'lone\ud800', 'lone\udc00end'];
    for (const text of bad) {
      const cases: [string, Record<string, unknown>, RegExp][] = [
        ['origin', { origin: text, users: [] }, /\/origin/],
        ['key', { origin, users: [{ key: text, userName: 'x' }] }, /\/users\/0\/key/],
        ['userName', { origin, users: [{ key: 'a', userName: text }] }, /\/users\/0\/userName/],
        ['givenName', { origin, users: [{ key: 'a', userName: 'x', givenName: text }] }, /\/users\/0\/givenName/],
        ['group name', { origin, users: [{ key: 'a', groups: ['ok', text] }] }, /\/users\/0\/groups\/1/],
        ['manager key', { origin, users: [{ key: 'a', manager: { origin, key: text } }] }, /\/users\/0\/manager/],
        ['environment', { origin, users: [{ key: 'a', environments: [{ environment: { name: text } }] }] }, /\/users\/0\/environments\/0/],
        ['attribute name', { origin, users: [{ key: 'a', attributes: { [text]: 1 } }] }, /\/users\/0\/attributes/],
      ];
      for (const [label, payload, field] of cases) {
        const problem = await expect400('/v1/users/bulk', payload, `${label} ${JSON.stringify(text)}`);
        expect(JSON.stringify(problem.errors), `${label} ${JSON.stringify(text)}`).toMatch(field);
      }
    }
    expect(await snapshot()).toEqual(before);
  });

  it('huge strings, deep nesting and 10,000 rows of junk are refused quickly and in plain words', async () => {
    const origin = unique('hr');
    const before = await snapshot();
    await expect400('/v1/users/bulk', { origin, users: [{ key: 'a', userName: 'u'.repeat(1_000_000) }] }, 'a 1 MB userName');
    await expect400('/v1/users/bulk', { origin, users: [{ key: 'a', groups: ['g'.repeat(100_000)] }] }, 'a 100 kB group name');
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = { d: deep };
    await expect400('/v1/users/bulk', { origin, users: [{ key: 'a', userName: 'x', attributes: { deep } }] }, '100 levels of attributes');
    let deep33: unknown = 'x';
    for (let i = 0; i < 33; i++) deep33 = { d: deep33 };
    const nested = await expect400('/v1/users/bulk', { origin, users: [{ key: 'a', userName: 'x' }, { key: 'b', userName: 'y', attributes: { deep33 } }] }, '34 levels of attributes');
    expect(nested.errors?.[0]?.field).toBe('/body/users/1/attributes');
    await expect400('/v1/users/bulk', { origin, users: [{ key: 'a', userName: 'x', environments: [{ environment: 'e', permissions: ['view', 'view'] }] }] }, 'a repeated permission');
    const started = Date.now();
    const junk = Array.from({ length: 10_000 }, (_, i) => ({ key: i, userName: { no: i }, groups: 'x' }));
    const problem = await expect400('/v1/users/bulk', { origin, users: junk }, '10,000 rows of junk');
    expect(problem.errors?.length ?? 0).toBeLessThanOrEqual(20);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await snapshot()).toEqual(before);
  });

  it('no Content-Type, another media type or a gzip body is a 415, not a 500', async () => {
    const body = JSON.stringify({ origin: 'hr', users: [] });
    const noType = await t.request({ method: 'POST', url: '/v1/users/bulk', token, payload: body, headers: { 'content-type': '' } });
    expect([400, 415]).toContain(noType.statusCode);
    const text = await t.request({ method: 'POST', url: '/v1/users/bulk', token, payload: body, headers: { 'content-type': 'text/plain' } });
    expect(text.statusCode).toBe(415);
    // NDJSON is the bulk upsert's other body type (origin in the query string), not bulk disable's.
    const ndjson = await t.request({ method: 'POST', url: '/v1/users/bulk', token, payload: '{"key":"a"}\n', headers: { 'content-type': 'application/x-ndjson' } });
    expect(ndjson.statusCode).toBe(400);
    expect(ndjson.json().detail).toMatch(/origin/);
    const ndjsonDisable = await t.request({ method: 'POST', url: '/v1/users/bulk-disable', token, payload: '{"id":"x"}\n', headers: { 'content-type': 'application/x-ndjson' } });
    expect(ndjsonDisable.statusCode).toBe(415);
    const latin1 = await t.request({ method: 'POST', url: '/v1/users/bulk', token, payload: body, headers: { 'content-type': 'application/json; charset=iso-8859-1' } });
    expect(latin1.statusCode).toBe(415);
  });

  it('an empty list of users is answered, not refused', async () => {
    const res = await bulk({ origin: unique('hr'), users: [] });
    expect(res).toEqual({ added: 0, updated: 0, unchanged: 0, errors: 0, dryRun: false, users: [] });
  });
});

describe('bulk upsert: row-level problems are error rows, and a failed row changes nothing', () => {
  it('userName collisions between rows of one call and with stored users, by case and width', async () => {
    const origin = unique('hr');
    const base = unique('ann');
    const stored = await createUser({ userName: `${base}-stored@example.com` });
    const rows = [
      { key: unique('k'), userName: `${base}@example.com` },
      { key: unique('k'), userName: `${base.toUpperCase()}@EXAMPLE.COM` },
      // The same name in fullwidth letters (U+FF21…): the same userName as compared.
      { key: unique('k'), userName: `${[...base].map((c) => (/[a-z]/.test(c) ? String.fromCharCode(c.charCodeAt(0) - 0x61 + 0xff41) : c)).join('')}@example.com` },
      { key: unique('k'), userName: `${base.toUpperCase()}-STORED@example.com` },
      { key: unique('k'), email: `${base}-stored@example.com` }, // userName defaults to the email
    ];
    const res = await dryThenReal({ origin, users: rows });
    expect(res.users.map((u) => u.status)).toEqual(['added', 'error', 'error', 'error', 'error']);
    for (const [i, row] of res.users.entries()) {
      if (i === 0) continue;
      expect(row.error, `row ${i}`).toMatchObject({ code: 'user.username_taken', status: 409 });
      expect(row.error?.errors?.[0]?.field, `row ${i}`).toMatch(new RegExp(`^/users/${i}/(userName|email)$`));
    }
    for (const row of rows.slice(1)) expect(await byKey(origin, row.key)).toBeUndefined();
    expect((await getUser(stored.id)).version).toBe(1);
  });

  it('keys that differ only by case or width are the same key: a repeat', async () => {
    const origin = unique('hr');
    const res = await dryThenReal({ origin, users: [{ key: 'EMP-42', userName: unique('u') }, { key: 'ｅｍｐ－４２', userName: unique('u') }] });
    expect(res.users.map((u) => u.status)).toEqual(['added', 'error']);
    expect(res.users[1]?.error?.code).toBe('bulk.duplicate_key');
  });

  it('externalIds that conflict with the row\'s own key, or that another user holds, are error rows', async () => {
    const origin = unique('hr');
    const holder = await createUser({ userName: unique('holder'), externalIds: [{ origin: 'ad', key: unique('held') }] });
    const [a, b, c, d] = [unique('a'), unique('b'), unique('c'), unique('d')];
    const res = await dryThenReal({
      origin,
      users: [
        { key: a, userName: unique('u'), externalIds: [{ origin, key: unique('other') }] },
        { key: b, userName: unique('u'), externalIds: [holder.externalIds[0]] },
        { key: c, userName: unique('u'), externalIds: [{ origin: origin.toUpperCase(), key: c.toUpperCase() }, { origin: 'ad', key: unique('ad') }] },
        { key: d, userName: unique('u'), externalIds: null },
      ],
    });
    expect(res.users.map((u) => u.status)).toEqual(['error', 'error', 'added', 'added']);
    expect(res.users[0]?.error).toMatchObject({ status: 400, errors: [{ field: '/users/0/externalIds' }] });
    expect(res.users[1]?.error).toMatchObject({ code: 'user.external_id_taken', status: 409 });
    expect(res.users[1]?.error?.errors?.[0]?.field).toMatch(/^\/users\/1\/externalIds/);
    // Row c's own key is kept (once, as sent); row d's null still leaves it its own key.
    expect((await byKey(origin, c))?.externalIds).toHaveLength(2);
    expect((await byKey(origin, d))?.externalIds).toEqual([{ origin, key: d }]);
    expect(await byKey(origin, a)).toBeUndefined();
    expect(await byKey(origin, b)).toBeUndefined();
  });

  it('a manager that is the row itself, by key, by id, by userName and by external key, is refused', async () => {
    const origin = unique('hr');
    const [a, b] = [unique('a'), unique('b')];
    const loaded = await bulk({ origin, users: [{ key: a, userName: `${a}@example.com` }, { key: b, userName: `${b}@example.com` }] });
    const [ida, idb] = loaded.users.map((u) => u.id as string) as [string, string];
    const n = unique('new');
    const res = await dryThenReal({
      origin,
      users: [
        { key: a, manager: a.toUpperCase() },
        { key: b, manager: { id: idb } },
        { key: n, userName: `${n}@example.com`, manager: { origin, key: n } },
      ],
    });
    expect(res.users.map((u) => u.error?.code)).toEqual(['user.manager_cycle', 'user.manager_cycle', 'user.manager_cycle']);
    const byName = await dryThenReal({ origin, users: [{ key: a, manager: { userName: `${a}@example.com` } }] });
    expect(byName.users[0]?.error?.code).toBe('user.manager_cycle');
    for (const id of [ida, idb]) {
      const user = await getUser(id);
      expect(user).toMatchObject({ managerId: null, version: 1 });
    }
    expect(await byKey(origin, n)).toBeUndefined();
  });

  it('rows whose manager is a row that fails are refused too, in the same chunk and in a later one', async () => {
    const origin = unique('hr');
    const taken = await createUser({ userName: unique('taken') });
    const boss = unique('boss');
    const fillers = Array.from({ length: 260 }, () => ({ key: unique('f'), userName: unique('f') }));
    const [r1, r2] = [unique('r'), unique('r')];
    const res = await dryThenReal({
      origin,
      users: [
        { key: r1, userName: unique('r'), manager: boss }, // before its manager in the request
        { key: boss, userName: taken.userName }, // fails: userName taken
        ...fillers,
        { key: r2, userName: unique('r'), manager: { origin, key: boss } }, // in the second chunk
      ],
    });
    expect(res.users[0]).toMatchObject({ status: 'error', error: { code: 'user.manager_not_found' } });
    expect(res.users[1]).toMatchObject({ status: 'error', error: { code: 'user.username_taken' } });
    expect(res.users.at(-1)).toMatchObject({ status: 'error', error: { code: 'user.manager_not_found' } });
    expect(res.added).toBe(260);
    for (const k of [boss, r1, r2]) expect(await byKey(origin, k)).toBeUndefined();
  });

  it('another tenant\'s users, ids, names and external keys are not found, and its users are never touched', async () => {
    const other = await createOtherTenant(t, unique('tenant'));
    const origin = unique('hr');
    const sharedKey = unique('shared');
    const theirs = await createUser({ userName: unique('their'), externalIds: [{ origin, key: sharedKey }] }, other);
    const theirGroup = await createGroup(t, { token: other });
    const theirEnv = await createEnvironment(t, { token: other });
    const theirsBefore = await snapshot(other);
    const res = await dryThenReal({
      origin,
      users: [
        { key: unique('k'), userName: unique('u'), manager: { id: theirs.id } },
        { key: unique('k'), userName: unique('u'), managerId: theirs.id },
        { key: unique('k'), userName: unique('u'), manager: theirs.userName },
        { key: unique('k'), userName: unique('u'), manager: { origin, key: sharedKey } },
        { key: unique('k'), userName: unique('u'), environments: [{ environment: theirEnv.id }] },
        { key: unique('k'), userName: unique('u'), environments: [{ environment: { name: theirEnv.name } }] },
        { key: unique('k'), userName: unique('u'), groups: [{ id: theirGroup.id }] },
        { key: unique('k'), userName: theirs.userName }, // userNames are unique per tenant only
      ],
    });
    expect(res.users.map((u) => u.error?.code ?? u.status)).toEqual([
      'user.manager_not_found', 'user.manager_not_found', 'user.manager_not_found', 'user.manager_not_found',
      'bulk.reference_not_found', 'bulk.reference_not_found', 'bulk.reference_not_found', 'added',
    ]);
    for (const row of res.users.slice(0, 7)) expect(row.error?.status).toBeGreaterThanOrEqual(400);
    // The other tenant's key in our tenant is a key of ours: a new user, theirs untouched.
    const ours = await bulk({ origin, users: [{ key: sharedKey, userName: unique('ours'), title: 'Mine' }] });
    expect(ours.users[0]).toMatchObject({ status: 'added' });
    expect(ours.users[0]?.id).not.toBe(theirs.id);
    expect(await snapshot(other)).toEqual(theirsBefore);
    const disabled = await disable({ users: [{ id: theirs.id }, { id: theirs.id.toUpperCase() }] });
    expect(disabled.users.map((u) => u.error?.code)).toEqual(['user.not_found', 'user.not_found']);
    expect(await snapshot(other)).toEqual(theirsBefore);
  });

  it('a row that fails leaves the stored user, its lists, its version and its history as they were', async () => {
    const origin = unique('hr');
    const k = unique('k');
    const group = await createGroup(t);
    const loaded = await bulk({ origin, users: [{ key: k, userName: unique('u'), title: 'Before', groups: [group.name] }] });
    const id = loaded.users[0]?.id as string;
    const stored = await getUser(id);
    const events = await historyTypes(id);
    const res = await dryThenReal({
      origin,
      users: [{ key: k, title: 'After', givenName: 'Changed', groups: [], roles: ['no such role'] }],
    });
    expect(res.users[0]).toMatchObject({ status: 'error', id, error: { code: 'bulk.reference_not_found', errors: [{ field: '/users/0/roles/0' }] } });
    expect(await getUser(id)).toEqual(stored);
    expect(await historyTypes(id)).toEqual(events);
    const groups = await t.request({ method: 'GET', url: `/v1/users/${id}/groups`, token });
    expect((groups.json().items as { id: string }[]).map((g) => g.id)).toEqual([group.id]);
  });

  it('userName and status cannot be cleared; status aliases and lifecycle rules apply as PATCH applies them', async () => {
    const origin = unique('hr');
    const [a, b, c, d] = [unique('a'), unique('b'), unique('c'), unique('d')];
    await bulk({ origin, users: [{ key: a, userName: unique('u') }, { key: b, userName: unique('u') }] });
    const res = await dryThenReal({
      origin,
      users: [
        { key: a, userName: null },
        { key: b, status: null },
        { key: c, userName: unique('u'), status: 'inactive' }, // the old name of suspended
        { key: d, userName: unique('u'), status: 'staged' },
      ],
    });
    expect(res.users.map((u) => u.status)).toEqual(['error', 'error', 'added', 'added']);
    expect(res.users[0]?.error).toMatchObject({ status: 400, errors: [{ field: '/users/0/userName' }] });
    expect(res.users[1]?.error).toMatchObject({ status: 400, errors: [{ field: '/users/1/status' }] });
    expect((await byKey(origin, c))?.status).toBe('suspended');
    expect((await byKey(origin, d))?.status).toBe('staged');
    // staged → active is allowed; active → staged is Roster's own move only: an error row.
    const moves = await dryThenReal({ origin, users: [{ key: d, status: 'active' }, { key: a, status: 'staged' }, { key: c, status: 'inactive' }] });
    expect(moves.users.map((u) => u.status)).toEqual(['updated', 'error', 'unchanged']);
    expect(moves.users[1]?.error).toMatchObject({ code: 'user.transition_not_allowed', status: 409 });
    const dUser = await byKey(origin, d);
    expect(await historyTypes(dUser?.id as string)).toEqual(['user.created', 'user.activated']);
  });

  it('impossible dates in date attributes are error rows naming the attribute; a real date is stored', async () => {
    const define = await t.request({ method: 'POST', url: '/v1/attribute-definitions', token, payload: { name: 'hiredOn', type: 'date' } });
    expect(define.statusCode, define.body).toBe(201);
    const origin = unique('hr');
    const dates = ['2023-02-30', '0000-01-01', '2023-13-01', 'yesterday', '2023-01-01T24:00:00Z', '2016-12-31T23:59:60Z', '2024-02-29'];
    const rows = dates.map((hiredOn) => ({ key: unique('k'), userName: unique('u'), attributes: { hiredOn } }));
    const res = await dryThenReal({ origin, users: rows });
    expect(res.users.map((u) => u.status)).toEqual(['error', 'error', 'error', 'error', 'error', 'error', 'added']);
    for (const [i, row] of res.users.slice(0, -1).entries()) {
      expect(row.error, `row ${i}`).toMatchObject({ code: 'user.attribute_invalid', status: 422, errors: [{ field: `/users/${i}/attributes/hiredOn` }] });
      expect(await byKey(origin, rows[i]?.key as string)).toBeUndefined();
    }
    expect(((await byKey(origin, rows[6]?.key as string)) as unknown as { attributes: Record<string, unknown> }).attributes.hiredOn).toBe('2024-02-29');
  });

  it('environments: permission flags all false and an empty permission list are stored alike', async () => {
    const env = await createEnvironment(t);
    const origin = unique('hr');
    const res = await dryThenReal({
      origin,
      users: [
        { key: unique('a'), userName: unique('u'), environments: [{ environment: env.name, permissions: { view: false, admin: false } }] },
        { key: unique('b'), userName: unique('u'), environments: [{ environment: env.name, permissions: [] }] },
      ],
    });
    expect(res.users.map((u) => u.status)).toEqual(['added', 'added']);
    const perms = await Promise.all(res.users.map(async (u) => (await t.request({ method: 'GET', url: `/v1/users/${u.id}/environments`, token })).json().items as { permissions: string[] }[]));
    expect(perms[0]).toEqual(perms[1]);
  });

  // Was a bug: the pointer of the membership write ("/users/1/1/id") instead of the request's.
  it('a group or environment named twice in a row: the error row points at the repeat in the request', async () => {
    const env = await createEnvironment(t);
    const group = await createGroup(t);
    const origin = unique('hr');
    const res = await dryThenReal({
      origin,
      users: [
        { key: unique('a'), userName: unique('u'), environments: [{ environment: env.name }, { environment: { id: env.id }, permissions: ['run'] }] },
        { key: unique('b'), userName: unique('u'), groups: [group.name, group.id] },
      ],
    });
    expect(res.users.map((u) => u.status)).toEqual(['error', 'error']);
    expect(res.users[0]?.error?.status).toBe(400);
    expect(res.users[0]?.error?.errors?.[0]?.field).toBe('/users/0/environments/1/environment');
    expect(res.users[1]?.error?.errors?.[0]?.field).toBe('/users/1/groups/1');
  });
});

describe('bulk upsert: a dry run answers exactly what the real run then does', () => {
  it('mode variations with dryRun: create and update on present and absent keys', async () => {
    const origin = unique('hr');
    const present = unique('p');
    await bulk({ origin, users: [{ key: present, userName: unique('u'), title: 'A' }] });
    for (const mode of ['create', 'update', 'upsert'] as const) {
      const absent = unique('absent');
      await dryThenReal({ origin, mode, users: [{ key: present, title: `T-${mode}` }, { key: absent, userName: unique('u') }] });
    }
  });

  // Was a bug: a dry run rolls back each 250-row chunk before running the next, so a later chunk did
  // not see the users an earlier chunk would have created (now replayed where a row meets them).
  it('a userName repeated in a later chunk is refused by the dry run as by the real run', async () => {
    const origin = unique('hr');
    const name = unique('twice');
    const fillers = Array.from({ length: 260 }, () => ({ key: unique('f'), userName: unique('f') }));
    await dryThenReal({ origin, users: [{ key: unique('k'), userName: name }, ...fillers, { key: unique('k'), userName: name.toUpperCase() }] });
  });

  // BUG: same cause: a manager cleared in the first chunk frees the way for a change in a later
  // chunk; the dry run (chunk 1 rolled back) sees the old chain and answers user.manager_cycle,
  // the real run answers `updated`.
  it.fails('a manager change that depends on an earlier chunk\'s change gets the same answer dry and real', async () => {
    const origin = unique('hr');
    const [a, b] = [unique('a'), unique('b')];
    await bulk({ origin, users: [{ key: a, userName: unique('u') }, { key: b, userName: unique('u'), manager: a }] });
    const fillers = Array.from({ length: 260 }, () => ({ key: unique('f'), userName: unique('f') }));
    // b stops reporting to a (chunk 1); then a reports to b (chunk 2): no cycle once b's row is applied.
    const res = await dryThenReal({ origin, users: [{ key: b, manager: null }, ...fillers, { key: a, manager: { origin, key: b } }] });
    expect(res.users.at(-1)?.status).toBe('updated');
  });

  it('a large mixed batch (adds, updates, unchanged, errors across chunks) answers the same dry and real', async () => {
    const origin = unique('hr');
    const group = await createGroup(t);
    const existing = Array.from({ length: 40 }, () => unique('e'));
    await bulk({ origin, users: existing.map((key) => ({ key, userName: `${key}@example.com`, title: 'Same' })) });
    const news = Array.from({ length: 400 }, () => unique('n'));
    const rows: Record<string, unknown>[] = [
      ...existing.map((key, i) => (i % 2 === 0 ? { key, title: 'Same' } : { key, title: 'Changed', groups: [group.name] })),
      ...news.map((key, i) => ({
        key,
        userName: `${key}@example.com`,
        ...(i % 50 === 7 ? { groups: ['no such group'] } : {}),
        ...(i % 3 === 0 && i > 0 ? { manager: news[i - 1] } : {}), // some managers are rows that fail
        ...(i % 97 === 5 ? { manager: { origin, key: existing[0] } } : {}),
      })),
    ];
    const res = await dryThenReal({ origin, users: rows });
    expect(res.unchanged).toBe(20);
    expect(res.updated).toBe(20);
    expect(res.errors).toBeGreaterThan(0);
  });
});

describe('bulk disable: attacks', () => {
  it('bad targets are a 400 for the whole call', async () => {
    const before = await snapshot();
    const cases: [string, unknown][] = [
      ['id not a UUID', { users: [{ id: 'abc' }] }],
      ['id and key together', { users: [{ id: '0190f0c5-7b1e-7cc3-a5a4-2f1d3c9b8e10', origin: 'hr', key: 'a' }] }],
      ['key without origin', { users: [{ key: 'a' }] }],
      ['a bare string', { users: ['0190f0c5-7b1e-7cc3-a5a4-2f1d3c9b8e10'] }],
      ['NUL in a key', { users: [{ origin: 'hr', key: 'a\u0000' }] }],
      ['lone surrogate in an origin', { users: [{ origin: '\ud800', key: 'a' }] }],
      ['unknown field', { users: [], force: true }],
      ['users missing', {}],
      ['10,001 targets', { users: Array.from({ length: 10_001 }, (_, i) => ({ origin: 'hr', key: `k${i}` })) }],
    ];
    for (const [label, payload] of cases) await expect400('/v1/users/bulk-disable', payload, label);
    expect(await snapshot()).toEqual(before);
  });

  it('staged and invited users are suspended; a dry run answers the same and writes nothing', async () => {
    const origin = unique('hr');
    const [s, i, a] = [unique('s'), unique('i'), unique('a')];
    await bulk({ origin, users: [{ key: s, userName: unique('u'), status: 'staged' }, { key: i, userName: unique('u'), status: 'invited' }, { key: a, userName: unique('u') }] });
    const body = { users: [{ origin, key: s }, { origin: origin.toUpperCase(), key: i.toUpperCase() }, { origin, key: a }, { origin, key: unique('none') }] };
    const before = await snapshot();
    const dry = await disable({ ...body, dryRun: true });
    expect(await snapshot()).toEqual(before);
    const real = await disable(body);
    expect(dry.dryRun).toBe(true);
    expect(comparable(dry.users)).toEqual(comparable(real.users));
    expect(real.users.map((u) => u.status)).toEqual(['disabled', 'disabled', 'disabled', 'error']);
    expect(real.users[1]).toMatchObject({ origin: origin.toUpperCase(), key: i.toUpperCase() });
    for (const k of [s, i, a]) expect((await byKey(origin, k))?.status).toBe('suspended');
  });

  // Was a bug: the dry run rolls back each 250-target chunk, so a user named again in a later chunk
  // was `disabled` twice by the dry run; the real run answers `unchanged` the second time.
  it('a user named twice, in two chunks, gets the same answer dry and real', async () => {
    const origin = unique('hr');
    const k = unique('k');
    const loaded = await bulk({ origin, users: [{ key: k, userName: unique('u') }] });
    const id = loaded.users[0]?.id as string;
    const nobody = Array.from({ length: 260 }, () => ({ origin, key: unique('nobody') }));
    const body = { users: [{ id }, ...nobody, { origin, key: k }] };
    const dry = await disable({ ...body, dryRun: true });
    const real = await disable(body);
    expect(real.users.at(-1)?.status).toBe('unchanged');
    expect(comparable(dry.users)).toEqual(comparable(real.users));
  });
});

describe('bulk upsert: concurrency', () => {
  it('8 parallel calls × 200 rows, half the keys shared: one user per key, every row answered, no 500', async () => {
    const origin = unique('hr');
    const shared = Array.from({ length: 100 }, () => unique('s'));
    const before = await snapshot();
    const results = await times(8, async (call) => {
      const own = Array.from({ length: 100 }, () => unique(`c${call}`));
      // Shared keys in a different order in each call, so the calls meet in every order.
      const sharedRows = (call % 2 === 0 ? shared : [...shared].reverse()).map((key) => ({ key, userName: `${key}@example.com`, title: `call ${call}` }));
      const rows = [...sharedRows, ...own.map((key) => ({ key, userName: `${key}@example.com` }))];
      const res = await post('/v1/users/bulk', { origin, users: rows });
      return { res, own };
    });
    for (const { res } of results) {
      expect(res.statusCode, res.body.slice(0, 500)).toBe(200);
      const answer = res.json() as BulkAnswer;
      expect(answer.users).toHaveLength(200);
      for (const row of answer.users) {
        expect(['added', 'updated', 'unchanged', 'error']).toContain(row.status);
        if (row.status === 'error') expect(row.error?.status, JSON.stringify(row.error)).toBeLessThan(500);
      }
      // Every call's own keys are new to everyone: they are all added.
      expect(answer.users.slice(100).every((u) => u.status === 'added'), JSON.stringify(answer.users.slice(100).find((u) => u.status !== 'added'))).toBe(true);
    }
    expect((await snapshot()).users).toBe(before.users + 100 + 8 * 100);
    // Each shared key: exactly one user, the one every call that wrote it named.
    const answers = results.map(({ res }) => res.json() as BulkAnswer);
    for (const key of shared) {
      const user = await byKey(origin, key);
      expect(user, key).toBeDefined();
      const ids = new Set(answers.flatMap((a) => a.users.filter((u) => u.key === key && u.status !== 'error').map((u) => u.id)));
      expect([...ids], key).toEqual([user?.id]);
    }
  });

  // Was a bug on PostgreSQL: the calls that lose the race to create a key answered 409 for the
  // rows whose user, by (origin, key), is the very user they identify.
  it('a shared key added by a parallel call is answered as an upsert would (updated or unchanged), not as a conflict', async () => {
    const origin = unique('hr');
    const shared = Array.from({ length: 50 }, () => unique('s'));
    const results = await times(4, (call) => bulk({ origin, users: shared.map((key) => ({ key, userName: `${key}@example.com`, title: `call ${call}` })) }));
    const added = results.reduce((n, r) => n + r.added, 0);
    expect(added).toBe(50);
    const errors = results.flatMap((r) => r.users.filter((u) => u.status === 'error').map((u) => u.error?.code));
    expect(errors, 'a parallel upsert of the same key answered an error instead of updating').toEqual([]);
  });

  it('parallel bulk disable and bulk upsert of the same users: each user\'s status agrees with its history', async () => {
    const origin = unique('hr');
    const keys = Array.from({ length: 120 }, () => unique('u'));
    await bulk({ origin, users: keys.map((key) => ({ key, userName: `${key}@example.com` })) });
    const calls = await Promise.all([
      post('/v1/users/bulk', { origin, users: keys.map((key, i) => ({ key, title: `t${i}`, status: 'active' })) }),
      post('/v1/users/bulk-disable', { users: [...keys].reverse().map((key) => ({ origin, key })) }),
      post('/v1/users/bulk', { origin, users: [...keys].reverse().map((key) => ({ key, department: 'D' })) }),
    ]);
    for (const res of calls) expect(res.statusCode, res.body.slice(0, 300)).toBeLessThan(500);
    for (const key of keys.slice(0, 30)) {
      const user = await byKey(origin, key) as StoredUser;
      const types = (await historyTypes(user.id)).filter((type) => type === 'user.suspended' || type === 'user.activated');
      expect(user.status).toBe(types.at(-1) === 'user.activated' ? 'active' : 'suspended');
    }
  });

  // Was a bug on PostgreSQL: the disable locked users one by one in request order, the upsert its
  // chunk in id order: they deadlocked and one call failed whole (409) after six attempts.
  it('parallel bulk disable (in reverse order) and bulk upsert of the same users both answer every row', async () => {
    for (let round = 0; round < 5; round++) {
      const origin = unique('hr');
      const keys = Array.from({ length: 120 }, () => unique('u'));
      await bulk({ origin, users: keys.map((key) => ({ key, userName: `${key}@example.com` })) });
      const [up, dis] = await Promise.all([
        post('/v1/users/bulk', { origin, users: keys.map((key, i) => ({ key, title: `t${i}` })) }),
        post('/v1/users/bulk-disable', { users: [...keys].reverse().map((key) => ({ origin, key })) }),
      ]);
      expect(up.statusCode, `round ${round}: ${up.body.slice(0, 300)}`).toBe(200);
      expect(dis.statusCode, `round ${round}: ${dis.body.slice(0, 300)}`).toBe(200);
      expect((up.json() as BulkAnswer).updated).toBe(120);
      expect((dis.json() as DisableAnswer).disabled).toBe(120);
    }
  });

  it('parallel calls naming each other as managers in opposite directions never store a cycle', async () => {
    const origin = unique('hr');
    const pairs = Array.from({ length: 40 }, () => [unique('x'), unique('y')] as const);
    await bulk({ origin, users: pairs.flat().map((key) => ({ key, userName: `${key}@example.com` })) });
    const rounds = await times(6, (call) =>
      post('/v1/users/bulk', { origin, users: pairs.map(([x, y]) => (call % 2 === 0 ? { key: x, manager: y } : { key: y, manager: { origin, key: x } })) }),
    );
    for (const res of rounds) {
      expect(res.statusCode, res.body.slice(0, 500)).toBe(200);
      for (const row of (res.json() as BulkAnswer).users) {
        if (row.status === 'error') expect(row.error?.code).toBe('user.manager_cycle');
      }
    }
    // Also new rows of two calls naming each other (in-batch managers across calls).
    const [p, q] = [unique('p'), unique('q')];
    await Promise.all([
      post('/v1/users/bulk', { origin, users: [{ key: p, userName: `${p}@example.com`, manager: q }, { key: q, userName: `${q}@example.com` }] }),
      post('/v1/users/bulk', { origin, users: [{ key: q, userName: `${q}@example.com`, manager: p }, { key: p, userName: `${p}@example.com` }] }),
    ]);
    for (const [x, y] of [...pairs, [p, q] as const]) {
      const ux = await byKey(origin, x);
      const uy = await byKey(origin, y);
      expect(ux && uy, `${x} ${y}`).toBeTruthy();
      expect(ux?.managerId === uy?.id && uy?.managerId === ux?.id, `${x} and ${y} manage each other`).toBe(false);
      // Walk up: every chain ends.
      for (const start of [ux, uy]) {
        const seen = new Set<string>();
        let at: StoredUser | undefined = start;
        while (at?.managerId) {
          expect(seen.has(at.id), `a cycle through ${at.id}`).toBe(false);
          seen.add(at.id);
          at = await getUser(at.managerId);
        }
      }
    }
  });
});

describe('bulk upsert: Idempotency-Key', () => {
  it('the same key with another body is a 422 and writes nothing', async () => {
    const origin = unique('hr');
    const key = unique('idem');
    const first = await post('/v1/users/bulk', { origin, users: [{ key: unique('k'), userName: unique('u') }] }, { 'idempotency-key': key });
    expect(first.statusCode).toBe(200);
    const before = await snapshot();
    const other = await post('/v1/users/bulk', { origin, users: [{ key: unique('k'), userName: unique('u') }] }, { 'idempotency-key': key });
    expect(other.statusCode, other.body).toBe(422);
    expect(other.json().code).toBe('idempotency.key_reused');
    // The same key on the other bulk endpoint is another request too.
    const elsewhere = await post('/v1/users/bulk-disable', { users: [] }, { 'idempotency-key': key });
    expect(elsewhere.statusCode, elsewhere.body).toBe(422);
    expect(await snapshot()).toEqual(before);
  });

  it('the same key sent concurrently runs the call once', async () => {
    const origin = unique('hr');
    const key = unique('idem');
    const body = { origin, users: Array.from({ length: 300 }, () => { const k = unique('k'); return { key: k, userName: `${k}@example.com` }; }) };
    const before = await snapshot();
    const answers = await times(5, () => post('/v1/users/bulk', body, { 'idempotency-key': key }));
    const ran = answers.filter((r) => r.statusCode === 200 && r.headers['idempotent-replayed'] !== 'true');
    expect(ran).toHaveLength(1);
    for (const res of answers) {
      expect([200, 409], res.body.slice(0, 300)).toContain(res.statusCode);
      if (res.statusCode === 409) expect(res.json().code).toBe('idempotency.in_progress');
      if (res.statusCode === 200) expect(res.json()).toEqual(ran[0]?.json());
    }
    expect((ran[0]?.json() as BulkAnswer).added).toBe(300);
    expect((await snapshot()).users).toBe(before.users + 300);
    const replay = await post('/v1/users/bulk', body, { 'idempotency-key': key });
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.json()).toEqual(ran[0]?.json());
  });

  it('an invalid Idempotency-Key is a 400, not a 500', async () => {
    const res = await post('/v1/users/bulk', { origin: 'hr', users: [] }, { 'idempotency-key': 'has space' });
    expect(res.statusCode, res.body).toBe(400);
  });
});
