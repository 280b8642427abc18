import { randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { FREE_JSON_LIMITS } from '../../src/domain/storable-values.js';
import { AttributeIndexRepository } from '../../src/repositories/attribute-index-repository.js';
import { ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, useTestApp, type TestApp } from '../helpers/test-app.js';
import { createGroup, createIdentityProvider, createOtherTenant } from '../helpers/directory-fixtures.js';

/*
 * Issue 7 A: whatever enters at the HTTP edge (path, query, $filter, cursor, body, form, Basic
 * credentials) is either storable by BOTH databases or refused with the same 400/415, never a 500
 * on PostgreSQL and a silent change on SQLite. Every case runs on both databases.
 */

let t: TestApp;
let token: string;
useTestApp((app, adminToken) => {
  t = app;
  token = adminToken;
});

let seq = 0;
const unique = (prefix: string) => `${prefix}-${++seq}-${Date.now().toString(36)}`;

type Res = { statusCode: number; body: string; json(): unknown };
interface Problem {
  code: string;
  detail: string;
  errors?: { field: string; message: string }[];
}

/** A 400 request.validation_failed naming `field` (a JSON pointer under /body, /querystring…). */
function expectRefused(res: Res, field: string | RegExp, message: RegExp) {
  expect(res.statusCode, res.body.slice(0, 500)).toBe(400);
  const problem = res.json() as Problem;
  expect(problem.code).toBe('request.validation_failed');
  const fields = problem.errors?.map((e) => e.field) ?? [];
  if (typeof field === 'string') expect(fields).toContain(field);
  else expect(fields.some((f) => field.test(f)), fields.join(', ')).toBe(true);
  expect(problem.detail).toMatch(message);
}

const NUL = /NUL character \(U\+0000\)/;
const SURROGATE = /lone UTF-16 surrogate/;

const users = () => t.request({ method: 'GET', url: `/v1/users?$top=1000`, token }).then((r) => (r.json() as { items: { userName: string }[] }).items.length);
const post = (url: string, payload: string, contentType = 'application/json') =>
  t.request({ method: 'POST', url, token, headers: { 'content-type': contentType }, payload });

describe('NUL and lone surrogates are refused alike on both databases', () => {
  it('in body strings and object keys, leaving nothing written', async () => {
    const before = await users();
    const cases: [string, string, RegExp][] = [
      [`{"userName":"a\\u0000b"}`, '/body/userName', NUL],
      [`{"userName":"x\\ud800y"}`, '/body/userName', SURROGATE],
      [`{"userName":"x\\udc00"}`, '/body/userName', SURROGATE],
      [`{"userName":"${unique('u')}","attributes":{"a\\u0000":1}}`, '/body/attributes/a\ufffd', NUL],
      [`{"userName":"${unique('u')}","attributes":{"deep":{"list":["ok","\\u0000"]}}}`, '/body/attributes/deep/list/1', NUL],
      [`{"userName":"${unique('u')}","tags":["\\ud83d"]}`, '/body/tags/0', SURROGATE],
    ];
    for (const [payload, field, message] of cases) expectRefused(await post('/v1/users', payload), field, message);
    expect(await users()).toBe(before);
  });

  it('accepts properly paired surrogates (emoji) and echoes them unchanged', async () => {
    // In displayName: an identifier such as userName refuses emoji (RFC 8265, identifiers.test.ts).
    const displayName = `${unique('emoji')}-\u{1F600}`;
    const res = await post('/v1/users', JSON.stringify({ userName: unique('emoji'), displayName }));
    expect(res.statusCode, res.body).toBe(201);
    expect((res.json() as { displayName: string }).displayName).toBe(displayName);
  });

  it('in directory records, identity provider config, merge patches and PUT bodies', async () => {
    const group = await createGroup(t);
    expectRefused(await post('/v1/groups', `{"name":"g\\u0000"}`), '/body/name', NUL);
    expectRefused(await post('/v1/identity-providers', `{"name":"p","alias":"${unique('a')}","type":"oidc","config":{"issuer":"\\ud800"}}`), '/body/config/issuer', SURROGATE);
    const patch = await t.request({ method: 'PATCH', url: `/v1/groups/${group.id}`, token, headers: { 'content-type': 'application/merge-patch+json' }, payload: `{"description":"\\u0000"}` });
    expectRefused(patch, '/body/description', NUL);
    const put = await t.request({ method: 'PUT', url: `/v1/groups/${group.id}`, token, headers: { 'content-type': 'application/json' }, payload: `{"name":"n\\u0000"}` });
    expectRefused(put, '/body/name', NUL);
  });

  it('in path parameters', async () => {
    expectRefused(await t.request({ method: 'GET', url: '/v1/users/by-username/a%00b', token }), '/params/userName', NUL);
    expectRefused(await t.request({ method: 'GET', url: '/v1/users/by-external-id/hr/a%00b', token }), '/params/key', NUL);
    const idp = await createIdentityProvider(t);
    expectRefused(await t.request({ method: 'GET', url: `/v1/identity-providers/${idp.id}/users/x%00`, token }), '/params/subject', NUL);
    // Percent-encoded bytes that are not UTF-8 never reach a route.
    for (const url of ['/v1/users/by-username/a%ED%A0%80', '/v1/users/by-username/a%FF']) {
      const res = await t.request({ method: 'GET', url, token });
      expect(res.statusCode, res.body).toBe(400);
    }
  });

  it('in query parameters, $filter literals included, and in text the query parser would keep undecoded', async () => {
    expectRefused(await t.request({ method: 'GET', url: `/v1/users?$filter=${encodeURIComponent("userName eq 'a\u0000b'")}`, token }), '/querystring/$filter', NUL);
    expectRefused(await t.request({ method: 'GET', url: "/v1/users?$filter=userName%20eq%20'%ED%A0%80'", token }), '/querystring/$filter', /not percent-encoded UTF-8/);
    expectRefused(await t.request({ method: 'GET', url: "/v1/users?$filter=userName%20eq%20'%FF'", token }), '/querystring/$filter', /not percent-encoded UTF-8/);
    expectRefused(await t.request({ method: 'GET', url: '/v1/users?$orderby=userName%00', token }), '/querystring/$orderby', NUL);
    expectRefused(await t.request({ method: 'GET', url: '/v1/groups?$filter=name%20eq%20%27%00%27', token }), '/querystring/$filter', NUL);
    expectRefused(await t.request({ method: 'GET', url: '/v1/events?after=%00', token }), '/querystring/after', NUL);
    // A literal % is fine when it is written as %25.
    const percent = await t.request({ method: 'GET', url: `/v1/users?$filter=${encodeURIComponent("userName eq '100%'")}`, token });
    expect(percent.statusCode, percent.body).toBe(200);
  });

  it('in the OAuth token endpoint, unauthenticated, answered the OAuth way', async () => {
    const cases: { payload: string; contentType: string; headers?: Record<string, string> }[] = [
      { payload: 'grant_type=client_credentials&client_id=a%00b&client_secret=x', contentType: 'application/x-www-form-urlencoded' },
      { payload: 'grant_type=client_credentials&client_id=a%FFb&client_secret=x', contentType: 'application/x-www-form-urlencoded' },
      { payload: 'grant_type=client_credentials&client_id=a\udc00b&client_secret=x', contentType: 'application/x-www-form-urlencoded' },
      { payload: '{"grant_type":"client_credentials","client_id":"a\\u0000b","client_secret":"x"}', contentType: 'application/json' },
      {
        payload: 'grant_type=client_credentials',
        contentType: 'application/x-www-form-urlencoded',
        headers: { authorization: `Basic ${Buffer.from('a%00b:secret').toString('base64')}` },
      },
    ];
    for (const c of cases) {
      const res = await t.app.inject({ method: 'POST', url: '/v1/oauth/token', headers: { 'content-type': c.contentType, ...c.headers }, payload: c.payload });
      expect(res.statusCode, `${c.payload}: ${res.body}`).toBe(400);
      expect(res.json().error).toBe('invalid_request');
    }
    const raw = Buffer.concat([Buffer.from('grant_type=client_credentials&client_id=a'), Buffer.from([0xff]), Buffer.from('&client_secret=x')]);
    const bytes = await t.app.inject({ method: 'POST', url: '/v1/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: raw });
    expect(bytes.statusCode, bytes.body).toBe(400);
    expect(bytes.json().error_description).toBe('the body must be UTF-8, percent-encoded as application/x-www-form-urlencoded.');
    // A form whose value (or name) is not percent-encoded UTF-8 is named as such, not as "not a form".
    const form = (payload: string) => t.app.inject({ method: 'POST', url: '/v1/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload });
    const badValue = await form('grant_type=client_credentials&client_id=a%FFb&client_secret=x');
    expect(badValue.json()).toEqual({ error: 'invalid_request', error_description: expect.stringMatching(/^client_id is not percent-encoded UTF-8 \(.*write a literal % as %25\)\.$/) });
    const badName = await form('grant_type=client_credentials&client%FF_id=a&client_secret=x');
    expect(badName.json()).toEqual({ error: 'invalid_request', error_description: 'client%FF_id is not a percent-encoded UTF-8 parameter name.' });
    const revoke = await t.app.inject({ method: 'POST', url: '/v1/oauth/revoke', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'token=%00' });
    expect(revoke.statusCode, revoke.body).toBe(400);
    // The same form, well encoded, still works (UTF-8 percent-encoding, + as space).
    const ok = await t.app.inject({
      method: 'POST', url: '/v1/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `grant_type=client_credentials&client_id=${encodeURIComponent(ADMIN_CLIENT_ID)}&client_secret=${encodeURIComponent(ADMIN_CLIENT_SECRET)}&scope=users%3Aread+users%3Awrite`,
    });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json().scope).toBe('users:read users:write');
  });

  it('in cursors, which never passed the edge as text', async () => {
    for (let i = 0; i < 3; i++) await post('/v1/users', JSON.stringify({ userName: unique('page') }));
    const first = await t.request({ method: 'GET', url: '/v1/users?$top=1&$orderby=userName', token });
    const cursor = (first.json() as { nextCursor: string }).nextCursor;
    const payload = JSON.parse(inflateRawSync(Buffer.from(cursor, 'base64url')).toString('utf8')) as { k: unknown[]; i: string; f: unknown };
    const forge = (change: Record<string, unknown>) => deflateRawSync(Buffer.from(JSON.stringify({ ...payload, ...change }), 'utf8')).toString('base64url');
    const forged = [
      forge({ k: ['a\u0000'] }),
      forge({ k: ['a\ud800'] }),
      forge({ i: 'x\u0000' }),
      forge({ f: { kind: 'compare', op: 'eq', path: ['userName'], value: { type: 'string', value: '\u0000' } } }),
    ];
    for (const c of forged) {
      const res = await t.request({ method: 'GET', url: `/v1/users?cursor=${c}`, token });
      expect(res.statusCode, res.body).toBe(400);
      expect((res.json() as Problem).code).toBe('request.invalid_cursor');
    }
    const byDate = await t.request({ method: 'GET', url: '/v1/users?$top=1&$orderby=createdAt', token });
    const dated = JSON.parse(inflateRawSync(Buffer.from((byDate.json() as { nextCursor: string }).nextCursor, 'base64url')).toString('utf8')) as Record<string, unknown>;
    const year0 = deflateRawSync(Buffer.from(JSON.stringify({ ...dated, k: ['0000-01-01T00:00:00.000Z'] }), 'utf8')).toString('base64url');
    const res = await t.request({ method: 'GET', url: `/v1/users?cursor=${year0}`, token });
    expect(res.statusCode, res.body).toBe(400);
    expect((res.json() as Problem).code).toBe('request.invalid_cursor');
  });
});

describe('dates both databases hold: years 0001–9999, real calendar times', () => {
  it('refuses year 0000 in $filter literals, on every date field', async () => {
    for (const filter of ['createdAt gt 0000-01-01', 'updatedAt le 0000-12-31T23:59:59Z', "createdAt gt '0000-01-01T00:00:00Z'", 'createdAt gt 0001-01-01T00:00:00+01:00']) {
      const res = await t.request({ method: 'GET', url: `/v1/users?$filter=${encodeURIComponent(filter)}`, token });
      expect(res.statusCode, `${filter}: ${res.body}`).toBe(400);
      expect((res.json() as Problem).code).toBe('request.invalid_filter');
    }
    const earliest = await t.request({ method: 'GET', url: `/v1/users?$filter=${encodeURIComponent('createdAt gt 0001-01-01')}`, token });
    expect(earliest.statusCode, earliest.body).toBe(200);
    const groups = await t.request({ method: 'GET', url: `/v1/groups?$filter=${encodeURIComponent('createdAt gt 0000-01-01')}`, token });
    expect(groups.statusCode, groups.body).toBe(400);
  });

  it('refuses year 0000 and leap seconds in body date-times, and in date attributes', async () => {
    for (const expiresAt of ['0000-01-01T00:00:00Z', '2999-12-31T23:59:60Z', '2999-02-30T00:00:00Z']) {
      const res = await post('/v1/api-tokens', JSON.stringify({ name: unique('tok'), scopes: ['users:read'], expiresAt }));
      expectRefused(res, '/body/expiresAt', /date-time/);
    }
    const ok = await post('/v1/api-tokens', JSON.stringify({ name: unique('tok'), scopes: ['users:read'], expiresAt: '9999-12-31T23:59:59Z' }));
    expect(ok.statusCode, ok.body).toBe(201);
  });
});

describe('free-form JSON: depth and size limits before anything touches it', () => {
  const nest = (levels: number): unknown => {
    let value: unknown = 'leaf';
    for (let i = 0; i < levels; i++) value = { n: value };
    return value;
  };

  it(`takes attributes ${FREE_JSON_LIMITS.maxDepth} levels deep, refuses one more, and refuses 2,300 levels without a 500`, async () => {
    const ok = await post('/v1/users', JSON.stringify({ userName: unique('deep'), attributes: nest(FREE_JSON_LIMITS.maxDepth) as object }));
    expect(ok.statusCode, ok.body).toBe(201);
    const user = ok.json() as { id: string };
    const before = await users();
    expectRefused(await post('/v1/users', JSON.stringify({ userName: unique('deep'), attributes: nest(FREE_JSON_LIMITS.maxDepth + 1) as object })), '/body/attributes', /32 levels/);
    expectRefused(await post('/v1/users', JSON.stringify({ userName: unique('deep'), attributes: nest(2300) as object })), /^\/body\/attributes(\/n)+$/, /64 levels/);
    expectRefused(await post('/v1/users', `{"userName":"x","attributes":${'['.repeat(400_000)}${']'.repeat(400_000)}}`), /^\/body\/attributes/, /64 levels/);
    expect(await users()).toBe(before);
    const patch = await t.request({ method: 'PATCH', url: `/v1/users/${user.id}`, token, headers: { 'content-type': 'application/merge-patch+json' }, payload: JSON.stringify({ attributes: nest(40) }) });
    expectRefused(patch, '/body/attributes', /32 levels/);
  });

  it('refuses attributes larger than the size limit', async () => {
    const big = { blob: 'x'.repeat(FREE_JSON_LIMITS.maxBytes) };
    expectRefused(await post('/v1/users', JSON.stringify({ userName: unique('big'), attributes: big })), '/body/attributes', /bytes as JSON/);
  });

  it('checks the merged value too: merge patches cannot grow attributes or config beyond the size limit', async () => {
    const half = 'x'.repeat(FREE_JSON_LIMITS.maxBytes / 2 + 100);
    const user = (await post('/v1/users', JSON.stringify({ userName: unique('grow'), attributes: { a: half } }))).json() as { id: string };
    const patchUser = await t.request({ method: 'PATCH', url: `/v1/users/${user.id}`, token, headers: { 'content-type': 'application/merge-patch+json' }, payload: JSON.stringify({ attributes: { b: half } }) });
    expectRefused(patchUser, '/body/attributes', /after the merge patch/);
    const stored = (await t.request({ method: 'GET', url: `/v1/users/${user.id}`, token })).json() as { attributes: Record<string, unknown>; version: number };
    expect(Object.keys(stored.attributes)).toEqual(['a']);
    // Provider config is declared per type (settings: up to 50 strings of up to 2,000 characters);
    // two halves of 20 long entries each fit alone and not together.
    const entries = (prefix: string) => Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`${prefix}${i}`, 'x'.repeat(1_990)]));
    const idp = (await post('/v1/identity-providers', JSON.stringify({ name: 'p', alias: unique('grow'), type: 'oidc', config: { settings: entries('a') } }))).json() as { id: string };
    const patchIdp = await t.request({
      method: 'PATCH', url: `/v1/identity-providers/${idp.id}`, token, headers: { 'content-type': 'application/merge-patch+json' }, payload: JSON.stringify({ config: { settings: entries('b') } }),
    });
    expectRefused(patchIdp, '/body/config', /after the merge patch/);
  });

  it('applies the same limits to identity provider config', async () => {
    const alias = unique('idp');
    expectRefused(await post('/v1/identity-providers', JSON.stringify({ name: 'p', alias, type: 'oidc', config: nest(FREE_JSON_LIMITS.maxDepth + 1) })), '/body/config', /32 levels/);
    // Within the limits, what the provider type declares is accepted (undeclared fields are refused by the type's schema).
    const ok = await post('/v1/identity-providers', JSON.stringify({ name: 'p', alias, type: 'oidc', config: { issuer: 'https://idp.example', settings: { a: 'b' } } }));
    expect(ok.statusCode, ok.body).toBe(201);
  });
});

describe('values JSON cannot carry exactly and bodies in another charset are refused, not altered', () => {
  it('refuses integers beyond 2^53 − 1 and numbers beyond a double, anywhere in the body', async () => {
    const name = unique('num');
    expectRefused(await post('/v1/users', `{"userName":"${name}","attributes":{"n":9007199254740993}}`), '/body/attributes/n', /2\^53/);
    expectRefused(await post('/v1/users', `{"userName":"${name}","attributes":{"list":[1,-90071992547409930]}}`), '/body/attributes/list/1', /2\^53/);
    expectRefused(await post('/v1/users', `{"userName":"${name}","attributes":{"n":1e400}}`), '/body/attributes/n', /too large/);
    // Digits and brackets inside strings (escaped quotes included) are text, not numbers or nesting.
    const text = `12345678901234567890 \\" ${'['.repeat(100)}`;
    const ok = await post('/v1/users', `{"userName":"${name}","attributes":{"max":9007199254740991,"float":1.5e300,"text":${JSON.stringify(text)},"99999999999999999999":-0.5}}`);
    expect(ok.statusCode, ok.body).toBe(201);
    expect((ok.json() as { attributes: unknown }).attributes).toEqual({ max: 9007199254740991, float: 1.5e300, text, '99999999999999999999': -0.5 });
  });

  it('refuses any number a double would change (rounded, underflowed, more digits than it keeps), however it is written', async () => {
    const name = unique('exact');
    for (const literal of ['9007199254740993.0', '9.007199254740993e15', '2e-324', '1e-400', '0.1000000000000000000001', '-123456789.1234567891234']) {
      expectRefused(await post('/v1/users', `{"userName":"${name}","attributes":{"n":${literal}}}`), '/body/attributes/n', /cannot be kept exactly/);
    }
    // Numbers a double keeps as written, in any notation, still go in (and read back as sent).
    const ok = await post('/v1/users', `{"userName":"${name}","attributes":{"a":1.50,"b":12.34e-5,"c":5e-324,"d":-1.5e3,"e":0.30000000000000004,"f":1E+21}}`);
    expect(ok.statusCode, ok.body).toBe(201);
    expect((ok.json() as { attributes: unknown }).attributes).toEqual({ a: 1.5, b: 0.0001234, c: 5e-324, d: -1500, e: 0.30000000000000004, f: 1e21 });
  });

  it('refuses a key repeated in one object (the parser would keep only the last value) and a __proto__ key, naming where', async () => {
    const name = unique('dup');
    expectRefused(await post('/v1/users', `{"userName":"${name}","email":"a@example.com","email":"b@example.com"}`), '/body/email', /repeats the key "email"/);
    expectRefused(await post('/v1/users', `{"userName":"${name}","attributes":{"x":1,"\\u0078":2}}`), '/body/attributes/x', /repeats the key "x"/);
    expectRefused(await post('/v1/users', `{"userName":"${name}","attributes":{"list":[{"k":1,"k":2}]}}`), '/body/attributes/list/0/k', /repeats the key "k"/);
    expectRefused(await post('/v1/users', `{"userName":"${name}","attributes":{"__proto__":{"admin":true}}}`), '/body/attributes/__proto__', /__proto__/);
    // The same key in different objects is no repeat.
    const ok = await post('/v1/users', `{"userName":"${name}","attributes":{"a":{"k":1},"b":{"k":2}}}`);
    expect(ok.statusCode, ok.body).toBe(201);
  });

  it('refuses a compressed body with a 415 naming the Content-Encoding, not as bytes that are not UTF-8', async () => {
    const { gzipSync } = await import('node:zlib');
    const res = await t.request({
      method: 'POST', url: '/v1/users', token,
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      payload: gzipSync(JSON.stringify({ userName: unique('gz') })),
    });
    expect(res.statusCode, res.body).toBe(415);
    expect((res.json() as Problem).detail).toMatch(/Content-Encoding "gzip"/);
  });

  it('refuses a charset other than UTF-8 with a 415, and bytes that are not UTF-8 with a 400', async () => {
    for (const contentType of ['application/json; charset=latin1', 'application/json; charset="iso-8859-1"', 'application/merge-patch+json; charset=utf-16']) {
      const res = await post('/v1/users', JSON.stringify({ userName: unique('cs') }), contentType);
      expect(res.statusCode, res.body).toBe(415);
      expect((res.json() as Problem).detail).toMatch(/UTF-8/);
    }
    const latin1 = Buffer.from(`{"userName":"j\u00fcrgen-${unique('x')}"}`, 'latin1');
    const bad = await t.request({ method: 'POST', url: '/v1/users', token, headers: { 'content-type': 'application/json' }, payload: latin1 });
    expect(bad.statusCode, bad.body).toBe(400);
    expect((bad.json() as Problem).detail).toMatch(/not valid UTF-8/);
    const utf8 = await post('/v1/users', JSON.stringify({ userName: unique('j\u00fcrgen') }), 'application/json; charset=UTF-8');
    expect(utf8.statusCode, utf8.body).toBe(201);
  });
});

describe('validation errors are capped and cheap', () => {
  it('answers a 1 MB body of 520,000 wrong items quickly with one small problem', async () => {
    const user = (await post('/v1/users', JSON.stringify({ userName: unique('many') }))).json() as { id: string };
    const payload = `[${new Array(520_000).fill('1').join(',')}]`;
    // CPU time of this process, not wall time: other helpers' load on the machine does not count.
    const started = process.cpuUsage();
    const res = await t.request({ method: 'PUT', url: `/v1/users/${user.id}/groups`, token, headers: { 'content-type': 'application/json' }, payload });
    const cpu = process.cpuUsage(started);
    const elapsed = (cpu.user + cpu.system) / 1000;
    expect(res.statusCode, res.body.slice(0, 500)).toBe(400);
    expect(res.body.length).toBeLessThan(4096);
    expect((res.json() as Problem).errors?.length).toBeLessThanOrEqual(20);
    // About 150 ms here; listing all 520,000 problems took about 2 s of CPU and a 42 MB answer.
    expect(elapsed).toBeLessThan(750);
  });

  it('lists the first 20 problems and says how many more there were', async () => {
    const user = (await post('/v1/users', JSON.stringify({ userName: unique('few') }))).json() as { id: string };
    const res = await t.request({ method: 'PUT', url: `/v1/users/${user.id}/groups`, token, payload: new Array(30).fill({ id: 'not-a-uuid' }) });
    expect(res.statusCode, res.body).toBe(400);
    const problem = res.json() as Problem;
    expect(problem.errors).toHaveLength(20);
    expect(problem.errors?.[0]?.field).toBe('/body/0/id');
    expect(problem.detail).toMatch(/and 10 more problems$/);
  });
});

describe('indexed string attributes never make a valid value unstorable', () => {
  it('stores a long value in an indexed attribute, in every tenant, and indexes existing long values', async () => {
    const other = await createOtherTenant(t, unique('longvals').toLowerCase().replace(/[^a-z0-9-]/g, ''));
    const define = (bearer: string, name: string) => t.request({ method: 'POST', url: '/v1/attribute-definitions', token: bearer, payload: { name, type: 'string', indexed: true } });
    expect((await define(token, 'badge')).statusCode).toBe(201);
    // Random text does not compress below PostgreSQL's b-tree limit (about 2,700 bytes) the way a repeated character would.
    const long = randomBytes(3000).toString('base64');
    const mine = await post('/v1/users', JSON.stringify({ userName: unique('long'), attributes: { badge: long } }));
    expect(mine.statusCode, mine.body.slice(0, 300)).toBe(201);
    // Another tenant without the definition: the shared index must not refuse its value either.
    const theirs = await t.request({ method: 'POST', url: '/v1/users', token: other, payload: { userName: unique('long'), attributes: { badge: long } } });
    expect(theirs.statusCode, theirs.body.slice(0, 300)).toBe(201);
    const found = await t.request({ method: 'GET', url: `/v1/users?$filter=${encodeURIComponent(`attributes/badge eq '${long}'`)}`, token });
    expect(found.statusCode, found.body.slice(0, 300)).toBe(200);
    expect((found.json() as { items: unknown[] }).items).toHaveLength(1);
    // Declared indexed after long values exist: the index builds and the definition says so.
    await post('/v1/users', JSON.stringify({ userName: unique('long'), attributes: { motto: long } }));
    const late = await define(token, 'motto');
    expect(late.statusCode, late.body).toBe(201);
    expect(await t.runtime.services.store.repos.attributeIndexes.list()).toEqual(expect.arrayContaining([expect.stringContaining('_motto_')]));
  });

  it('leaves no trace when an index build fails: no definition marked indexed, no index, no event', async () => {
    const db = t.runtime.database.db;
    const blocked = AttributeIndexRepository.indexName('blocked', 'string');
    // Another relation holding the index's name makes the build fail on both databases.
    await sql`create table ${sql.id(blocked)} (x integer)`.execute(db);
    const eventCount = async () => ((await t.request({ method: 'GET', url: '/v1/events?limit=1000', token })).json() as { items: unknown[] }).items.length;
    const events = await eventCount();
    const created = await t.request({ method: 'POST', url: '/v1/attribute-definitions', token, payload: { name: 'blocked', type: 'string', indexed: true } });
    expect(created.statusCode, created.body).toBe(503);
    expect((created.json() as Problem).code).toBe('attribute_definition.index_failed');
    const list = await t.request({ method: 'GET', url: `/v1/attribute-definitions?$filter=${encodeURIComponent("name eq 'blocked'")}`, token });
    expect((list.json() as { items: unknown[] }).items).toEqual([]);
    // Defined without an index, then switched to indexed: refused, and the definition stays as it was.
    const plain = await t.request({ method: 'POST', url: '/v1/attribute-definitions', token, payload: { name: 'blocked', type: 'string' } });
    expect(plain.statusCode, plain.body).toBe(201);
    const { id } = plain.json() as { id: string };
    const patched = await t.request({ method: 'PATCH', url: `/v1/attribute-definitions/${id}`, token, headers: { 'content-type': 'application/merge-patch+json' }, payload: '{"indexed":true}' });
    expect(patched.statusCode, patched.body).toBe(503);
    const stored = (await t.request({ method: 'GET', url: `/v1/attribute-definitions/${id}`, token })).json() as { indexed: boolean; version: number };
    expect(stored).toMatchObject({ indexed: false, version: 1 });
    expect(await eventCount()).toBe(events + 1);
    expect(await t.runtime.services.store.repos.attributeIndexes.list()).not.toContain(blocked);
    // Once the name is free, the same request builds the index.
    await sql`drop table ${sql.id(blocked)}`.execute(db);
    const retried = await t.request({ method: 'PATCH', url: `/v1/attribute-definitions/${id}`, token, headers: { 'content-type': 'application/merge-patch+json' }, payload: '{"indexed":true}' });
    expect(retried.statusCode, retried.body).toBe(200);
    expect(await t.runtime.services.store.repos.attributeIndexes.list()).toContain(blocked);
  });
});
