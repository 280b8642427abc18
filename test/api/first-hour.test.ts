import { describe, expect, it } from 'vitest';
import { ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, useApiSuite } from '../helpers/test-app.js';
import { createEnvironment, createGroup, createIdentityProvider } from '../helpers/directory-fixtures.js';

/*
 * Issue 7 E: what a newcomer meets in the first hour — media types, readable validation errors,
 * 409s that name the value, OAuth parameter errors, `$` query options, `$select` on single GETs,
 * one paging vocabulary. Every case runs on SQLite and PostgreSQL.
 */

const s = useApiSuite();

interface Problem {
  code: string;
  status: number;
  detail: string;
  errors?: { field: string; message: string }[];
}
type Res = { statusCode: number; body: string; json(): unknown };

const problem = (res: Res): Problem => res.json() as Problem;
const messageOf = (res: Res, field: string): string | undefined => problem(res).errors?.find((e) => e.field === field)?.message;
const userCount = async () => ((await s.request({ method: 'GET', url: '/v1/users?$top=1000&$select=id' })).json() as { items: unknown[] }).items.length;

describe('media types', () => {
  it('refuses a body without Content-Type or as a form on JSON routes, naming the accepted types, and writes nothing', async () => {
    const before = await userCount();
    const cases: { payload: string; headers: Record<string, string>; sent: RegExp }[] = [
      // curl -d 'email=x@example.com': a form; it used to create a user.
      { payload: `email=${s.unique('form')}@example.com`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, sent: /not application\/x-www-form-urlencoded.*curl -d/ },
      // curl -d '{"userName":"y"}': JSON sent as a form.
      { payload: JSON.stringify({ userName: s.unique('y') }), headers: { 'content-type': 'application/x-www-form-urlencoded' }, sent: /not application\/x-www-form-urlencoded/ },
      { payload: JSON.stringify({ userName: s.unique('y') }), headers: {}, sent: /no Content-Type/ },
      { payload: JSON.stringify({ userName: s.unique('y') }), headers: { 'content-type': 'text/plain' }, sent: /not text\/plain/ },
      { payload: JSON.stringify({ userName: s.unique('y') }), headers: { 'content-type': 'application/merge-patch+json' }, sent: /not application\/merge-patch\+json/ },
    ];
    for (const c of cases) {
      const res = await s.t.app.inject({ method: 'POST', url: '/v1/users', headers: { authorization: `Bearer ${s.token}`, ...c.headers }, payload: c.payload });
      expect(res.statusCode, res.body).toBe(415);
      expect(res.headers['content-type']).toContain('application/problem+json');
      const p = problem(res);
      expect(p.code).toBe('request.unsupported_media_type');
      expect(p.detail).toMatch(/^POST \/v1\/users takes a body of type application\/json,/);
      expect(p.detail).toMatch(c.sent);
      expect(p.errors).toEqual([{ field: '/headers/content-type', message: 'must be application/json' }]);
    }
    expect(await userCount()).toBe(before);
  });

  it('takes JSON (with charset=utf-8), merge-patch on PATCH, and body-less action POSTs without a Content-Type', async () => {
    const created = await s.request({ method: 'POST', url: '/v1/users', headers: { 'content-type': 'application/json; charset=utf-8' }, payload: JSON.stringify({ userName: s.unique('ct') }) });
    expect(created.statusCode, created.body).toBe(201);
    const id = (created.json() as { id: string }).id;
    for (const type of ['application/merge-patch+json', 'application/json']) {
      const patched = await s.request({ method: 'PATCH', url: `/v1/users/${id}`, headers: { 'content-type': type }, payload: JSON.stringify({ title: type }) });
      expect(patched.statusCode, patched.body).toBe(200);
    }
    const formPatch = await s.request({ method: 'PATCH', url: `/v1/users/${id}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'title=x' });
    expect(formPatch.statusCode).toBe(415);
    expect(problem(formPatch).detail).toMatch(/takes a body of type application\/json or application\/merge-patch\+json/);
    const groupForm = await s.request({ method: 'PATCH', url: `/v1/groups/${(await createGroup(s.t)).id}`, headers: { 'content-type': 'text/plain' }, payload: '{}' });
    expect(groupForm.statusCode).toBe(415);

    const suspend = await s.t.app.inject({ method: 'POST', url: `/v1/users/${id}/suspend`, headers: { authorization: `Bearer ${s.token}` } });
    expect(suspend.statusCode, suspend.body).toBe(200);
    expect((suspend.json() as { status: string }).status).toBe('suspended');
    const activate = await s.request({ method: 'POST', url: `/v1/users/${id}/activate`, headers: { 'content-type': 'application/json' } });
    expect(activate.statusCode, activate.body).toBe(200);
    // A body on an action is still typed: a form there is refused and changes nothing.
    const formAction = await s.request({ method: 'POST', url: `/v1/users/${id}/suspend`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'x=1' });
    expect(formAction.statusCode).toBe(415);
    expect(((await s.request({ method: 'GET', url: `/v1/users/${id}` })).json() as { status: string }).status).toBe('active');
  });

  it('takes forms and JSON on the OAuth token and revoke endpoints, and answers other types the OAuth way', async () => {
    const form = await s.t.app.inject({
      method: 'POST', url: '/v1/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `grant_type=client_credentials&client_id=${ADMIN_CLIENT_ID}&client_secret=${ADMIN_CLIENT_SECRET}`,
    });
    expect(form.statusCode, form.body).toBe(200);
    const json = await s.t.app.inject({ method: 'POST', url: '/v1/oauth/token', payload: { grant_type: 'client_credentials', client_id: ADMIN_CLIENT_ID, client_secret: ADMIN_CLIENT_SECRET } });
    expect(json.statusCode, json.body).toBe(200);
    const revoke = await s.t.app.inject({ method: 'POST', url: '/v1/oauth/revoke', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `token=${(form.json() as { access_token: string }).access_token}` });
    expect(revoke.statusCode, revoke.body).toBe(200);
    for (const headers of [{ 'content-type': 'text/plain' }, {}]) {
      const res = await s.t.app.inject({ method: 'POST', url: '/v1/oauth/token', headers, payload: 'grant_type=client_credentials' });
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json()).toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/application\/x-www-form-urlencoded or application\/json/) });
    }
  });
});

describe('readable validation errors', () => {
  it('says what a field must be in plain words, a union once, never a wall of anyOf', async () => {
    const res = await s.request({
      method: 'POST', url: '/v1/users',
      payload: { userName: s.unique('v'), email: 'not-an-email', status: 'retired', managerId: 'nope', givenName: 12, shoeSize: 44 },
    });
    expect(res.statusCode, res.body).toBe(400);
    const p = problem(res);
    expect(messageOf(res, '/body/email')).toBe('must be an email address');
    expect(messageOf(res, '/body/status')).toMatch(/^must be one of: .*active.*suspended/);
    expect(messageOf(res, '/body/managerId')).toMatch(/^must be a UUID/);
    expect(messageOf(res, '/body/givenName')).toBe('must be a string or null');
    expect(messageOf(res, '/body/shoeSize')).toMatch(/^unknown field "shoeSize"; the fields here are: .*userName/);
    expect(p.detail).not.toMatch(/anyOf|must be equal to constant|must match format/);
    // One problem per field.
    expect(new Set(p.errors?.map((e) => e.field)).size).toBe(p.errors?.length);
  });

  it('lists the allowed environment permissions once', async () => {
    const env = await createEnvironment(s.t);
    const user = (await s.request({ method: 'POST', url: '/v1/users', payload: { userName: s.unique('perm') } })).json() as { id: string };
    const res = await s.request({ method: 'POST', url: `/v1/users/${user.id}/environments/${env.id}`, payload: { permissions: ['view', 'deploy'] } });
    expect(res.statusCode, res.body).toBe(400);
    expect(problem(res).errors).toEqual([{ field: '/body/permissions/1', message: 'must be one of: view, model, build, run, admin' }]);
    const put = await s.request({ method: 'PUT', url: `/v1/users/${user.id}/environments`, payload: [{ environmentId: env.id, permissions: ['root'] }] });
    expect(put.statusCode, put.body).toBe(400);
    expect(problem(put).errors).toEqual([{ field: '/body/0/permissions/0', message: 'must be one of: view, model, build, run, admin' }]);
    const unknown = await s.request({ method: 'PUT', url: `/v1/users/${user.id}/environments`, payload: [{ id: env.id }] });
    expect(unknown.statusCode).toBe(400);
    expect(problem(unknown).detail).toMatch(/\/body\/0\/environmentId: is required/);
    expect(problem(unknown).detail).toMatch(/unknown field "id" in \/0; the fields here are: environmentId, permissions/);
  });

  it('names enum values of groups and identity providers, and unknown fields inside objects', async () => {
    const group = await s.request({ method: 'POST', url: '/v1/groups', payload: { name: s.unique('g'), externalIds: [{ origin: 'hr', key: '1', extra: true }] } });
    expect(group.statusCode).toBe(400);
    expect(messageOf(group, '/body/externalIds/0/extra')).toMatch(/^unknown field "extra" in \/externalIds\/0; the fields here are: origin, key$/);
    const idp = await s.request({ method: 'POST', url: '/v1/identity-providers', payload: { name: s.unique('p'), alias: s.unique('a'), type: 'kerberos' } });
    expect(idp.statusCode, idp.body).toBe(400);
    expect(messageOf(idp, '/body/type')).toMatch(/^must be one of: [a-z0-9_-]+(, [a-z0-9_-]+)+$/);
    const patch = await s.request({ method: 'PATCH', url: `/v1/identity-providers/${(await createIdentityProvider(s.t)).id}`, payload: { name: '' } });
    expect(messageOf(patch, '/body/name')).toBe('must not be empty');
  });

  it('keeps the cap on reported problems after the rewording', async () => {
    const user = (await s.request({ method: 'POST', url: '/v1/users', payload: { userName: s.unique('cap') } })).json() as { id: string };
    const res = await s.request({ method: 'PUT', url: `/v1/users/${user.id}/groups`, payload: Array.from({ length: 60 }, () => ({ id: 'x' })) });
    expect(res.statusCode).toBe(400);
    expect(problem(res).errors).toHaveLength(20);
    expect(problem(res).detail).toMatch(/and 40 more problems$/);
    expect(problem(res).errors?.[0]).toEqual({ field: '/body/0/id', message: expect.stringMatching(/^must be a UUID/) });
  });
});

describe('OAuth parameter errors (RFC 6749 §5.2)', () => {
  const token = (payload: string, headers: Record<string, string> = {}) =>
    s.t.app.inject({ method: 'POST', url: '/v1/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, payload });
  const basic = `Basic ${Buffer.from(`${ADMIN_CLIENT_ID}:${ADMIN_CLIENT_SECRET}`).toString('base64')}`;

  it('says which parameter is missing, repeated or unsupported', async () => {
    const cases: [string, Record<string, string>, number, string, RegExp][] = [
      [`client_id=${ADMIN_CLIENT_ID}&client_secret=${ADMIN_CLIENT_SECRET}`, {}, 400, 'invalid_request', /^grant_type is missing\.$/],
      ['', { authorization: basic }, 400, 'invalid_request', /^grant_type is missing\.$/],
      // RFC 6749 §3.1: a parameter without a value is treated as omitted.
      [`grant_type=&client_id=${ADMIN_CLIENT_ID}`, {}, 400, 'invalid_request', /^grant_type is missing\.$/],
      ['grant_type=client_credentials&grant_type=refresh_token', { authorization: basic }, 400, 'invalid_request', /grant_type is sent more than once/],
      ['grant_type=password', { authorization: basic }, 400, 'unsupported_grant_type', /"password" is not supported; use client_credentials or refresh_token/],
      ['grant_type=refresh_token', {}, 400, 'invalid_request', /^refresh_token is missing/],
      ['grant_type=client_credentials', {}, 401, 'invalid_client', /Client authentication is missing/],
      [`grant_type=client_credentials&client_id=${ADMIN_CLIENT_ID}`, {}, 401, 'invalid_client', /client_secret/],
    ];
    for (const [payload, headers, status, error, description] of cases) {
      const res = await token(payload, headers);
      expect(res.statusCode, `${payload}: ${res.body}`).toBe(status);
      expect(res.json(), payload).toMatchObject({ error, error_description: expect.stringMatching(description) });
    }
    const revoke = await s.t.app.inject({ method: 'POST', url: '/v1/oauth/revoke', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'token_type_hint=access_token' });
    expect(revoke.statusCode).toBe(400);
    expect(revoke.json()).toEqual({ error: 'invalid_request', error_description: 'token is missing.' });
  });
});

describe('query parameters', () => {
  it('suggests the $ form of OData options sent without it', async () => {
    for (const name of ['filter', 'top', 'orderby', 'select', 'expand', 'skip', 'count', 'Filter', '$TOP']) {
      const res = await s.request({ method: 'GET', url: `/v1/users?${name}=1` });
      expect(res.statusCode, name).toBe(400);
      const want = `$${name.replace(/^\$/, '').toLowerCase()}`;
      expect(problem(res).detail.startsWith(`/querystring/${name}: unknown query parameter "${name}"; did you mean ${want}? (this route takes: $filter,`), problem(res).detail).toBe(true);
    }
    const groups = await s.request({ method: 'GET', url: "/v1/groups?filter=name eq 'x'" });
    expect(problem(groups).detail).toMatch(/did you mean \$filter\?/);
  });

  it('refuses an unknown query parameter on every route, naming it', async () => {
    const group = await createGroup(s.t);
    const user = (await s.request({ method: 'POST', url: '/v1/users', payload: { userName: s.unique('q') } })).json() as { id: string };
    const urls = [
      `/v1/groups/${group.id}?verbose=1`, `/v1/users/${user.id}?verbose=1`, `/v1/users/${user.id}/groups?verbose=1`, '/v1/event-types?verbose=1',
      `/v1/users/${user.id}/identities?verbose=1`, '/v1/jobs?verbose=1', '/v1/events?verbose=1', '/v1/clients?verbose=1',
    ];
    for (const url of urls) {
      const res = await s.request({ method: 'GET', url });
      expect(res.statusCode, url).toBe(400);
      expect(messageOf(res, '/querystring/verbose'), url).toMatch(/^unknown query parameter "verbose"/);
    }
    const del = await s.request({ method: 'DELETE', url: `/v1/groups/${group.id}?force=true` });
    expect(del.statusCode).toBe(400);
    expect((await s.request({ method: 'GET', url: `/v1/groups/${group.id}` })).statusCode).toBe(200);
  });
});

describe('$select on every single-resource GET', () => {
  it('returns id and the selected fields, with the list errors for an unknown field', async () => {
    const group = await createGroup(s.t);
    const idp = await createIdentityProvider(s.t);
    const user = (await s.request({ method: 'POST', url: '/v1/users', payload: { userName: s.unique('sel'), email: `${s.unique('sel')}@example.com`, title: 'Boss' } })).json() as { id: string; userName: string };
    const client = (await s.request({ method: 'POST', url: '/v1/clients', payload: { name: s.unique('c'), scopes: ['users:read'] } })).json() as { id: string; name: string };
    const apiToken = (await s.request({ method: 'POST', url: '/v1/api-tokens', payload: { name: s.unique('t'), scopes: ['users:read'] } })).json() as { id: string; name: string };
    const cases: [string, string, Record<string, unknown>][] = [
      [`/v1/users/${user.id}`, 'title', { id: user.id, title: 'Boss' }],
      [`/v1/users/by-username/${encodeURIComponent(user.userName)}`, 'userName,id', { id: user.id, userName: user.userName }],
      [`/v1/groups/${group.id}`, 'name', { id: group.id, name: group.name }],
      [`/v1/identity-providers/${idp.id}`, 'alias,configSecrets', { id: idp.id, alias: idp.alias, configSecrets: [] }],
      [`/v1/clients/${client.id}`, 'name', { id: client.id, name: client.name }],
      [`/v1/api-tokens/${apiToken.id}`, 'name', { id: apiToken.id, name: apiToken.name }],
      ['/v1/tenants/default', 'name', { id: 'default', name: expect.any(String) }],
    ];
    for (const [url, select, expected] of cases) {
      const res = await s.request({ method: 'GET', url: `${url}?$select=${select}` });
      expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
      expect(res.json(), url).toEqual(expected);
      const bad = await s.request({ method: 'GET', url: `${url}?$select=${select},shoeSize` });
      expect(bad.statusCode, url).toBe(400);
      expect(problem(bad)).toMatchObject({ code: 'request.invalid_select', detail: expect.stringMatching(/^\$select: Cannot select 'shoeSize'\. Allowed: id, /) });
      expect(problem(bad).errors?.[0]?.field).toBe('$select');
    }
    // With $expand too, and on a list of a directory kind (the cursor keeps the selection).
    const both = await s.request({ method: 'GET', url: `/v1/users/${user.id}?$select=userName&$expand=groups` });
    expect(both.json()).toEqual({ id: user.id, userName: user.userName, groups: [] });
    await createGroup(s.t);
    const page = await s.request({ method: 'GET', url: '/v1/groups?$select=name&$top=1' });
    expect(page.statusCode, page.body).toBe(200);
    const body = page.json() as { items: Record<string, unknown>[]; nextCursor: string };
    expect(Object.keys(body.items[0] ?? {})).toEqual(['id', 'name']);
    const next = (await s.request({ method: 'GET', url: `/v1/groups?cursor=${encodeURIComponent(body.nextCursor)}` })).json() as { items: Record<string, unknown>[] };
    expect(Object.keys(next.items[0] ?? {})).toEqual(['id', 'name']);
    // A job, when there is one.
    const jobs = (await s.request({ method: 'GET', url: '/v1/jobs?$top=1' })).json() as { items: { id: string; status: string }[] };
    for (const job of jobs.items) expect((await s.request({ method: 'GET', url: `/v1/jobs/${job.id}?$select=status` })).json()).toEqual({ id: job.id, status: job.status });
    expect((await s.request({ method: 'GET', url: '/v1/jobs/0190a0a0-0000-7000-8000-000000000000?$select=nope' })).statusCode).toBe(400);
  });
});

describe('one paging vocabulary', () => {
  it('pages every list with $top and cursor into {items, nextCursor}; limit is a deprecated alias; both is a 400', async () => {
    const group = await createGroup(s.t);
    const manager = (await s.request({ method: 'POST', url: '/v1/users', payload: { userName: s.unique('mgr') } })).json() as { id: string };
    for (let i = 0; i < 3; i++) {
      const u = (await s.request({ method: 'POST', url: '/v1/users', payload: { userName: s.unique('pg'), managerId: manager.id } })).json() as { id: string };
      await s.request({ method: 'POST', url: `/v1/groups/${group.id}/members/${u.id}` });
      await s.request({ method: 'PATCH', url: `/v1/users/${manager.id}`, payload: { title: `t${i}` } });
    }
    for (let i = 0; i < 2; i++) await s.request({ method: 'POST', url: '/v1/clients', payload: { name: s.unique('pc'), scopes: ['users:read'] } });
    for (let i = 0; i < 2; i++) await s.request({ method: 'POST', url: '/v1/api-tokens', payload: { name: s.unique('pt'), scopes: ['users:read'] } });
    const lists = [
      '/v1/users', '/v1/groups', `/v1/groups/${group.id}/members`, '/v1/events', `/v1/users/${manager.id}/history`, `/v1/users/${manager.id}/reports`,
      '/v1/clients', '/v1/api-tokens', '/v1/tenants',
    ];
    for (const url of lists) {
      const first = await s.request({ method: 'GET', url: `${url}?$top=1` });
      expect(first.statusCode, `${url}: ${first.body}`).toBe(200);
      const page = first.json() as { items: { id: string }[]; nextCursor: string | null };
      expect(page.items, url).toHaveLength(1);
      if (url !== '/v1/tenants') {
        expect(typeof page.nextCursor, url).toBe('string');
        const second = (await s.request({ method: 'GET', url: `${url}?cursor=${encodeURIComponent(page.nextCursor as string)}${url === '/v1/events' || url.endsWith('/history') || url.startsWith('/v1/users?') || url === '/v1/users' || url === '/v1/groups' ? '' : '&$top=1'}` })).json() as { items: { id: string }[] };
        expect(second.items.length, url).toBeGreaterThanOrEqual(1);
        expect(second.items[0]?.id, url).not.toBe(page.items[0]?.id);
      }
      const both = await s.request({ method: 'GET', url: `${url}?$top=1&limit=1` });
      expect(both.statusCode, url).toBe(400);
      if (url === '/v1/users' || url === '/v1/groups') {
        // These never took limit: it is an unknown parameter there.
        expect(messageOf(both, '/querystring/limit')).toMatch(/^unknown query parameter "limit"/);
      } else {
        expect(problem(both).detail, url).toBe('Send $top or limit (its deprecated alias), not both.');
        const alias = (await s.request({ method: 'GET', url: `${url}?limit=1` })).json() as { items: unknown[] };
        expect(alias.items, url).toHaveLength(1);
      }
    }
    const jobs = await s.request({ method: 'GET', url: '/v1/jobs?$top=1' });
    expect(jobs.statusCode, jobs.body).toBe(200);
    expect(jobs.json()).toMatchObject({ items: expect.any(Array), nextCursor: expect.toSatisfy((v: unknown) => v === null || typeof v === 'string') });
    expect((await s.request({ method: 'GET', url: '/v1/jobs?$top=1&limit=2' })).statusCode).toBe(400);
    // The event cursor names the page size as $top when it differs.
    const events = (await s.request({ method: 'GET', url: '/v1/events?$top=1' })).json() as { nextCursor: string };
    const other = await s.request({ method: 'GET', url: `/v1/events?$top=2&cursor=${encodeURIComponent(events.nextCursor)}` });
    expect(other.statusCode).toBe(400);
    expect(problem(other).detail).toMatch(/another page size \(\$top\)/);
  });
});

describe('409s name the field and the value as sent', () => {
  const conflict = (res: Res, code: string, field: string, value: string) => {
    expect(res.statusCode, res.body).toBe(409);
    const p = problem(res);
    expect(p.code).toBe(code);
    expect(p.detail).toContain(value);
    expect(p.errors).toEqual([{ field, message: expect.stringContaining(value) }]);
  };

  it('users: a duplicate email names email, a duplicate userName or external id names that, in the form sent', async () => {
    const email = `${s.unique('dup')}@example.com`;
    expect((await s.request({ method: 'POST', url: '/v1/users', payload: { email } })).statusCode).toBe(201);
    const before = await userCount();
    const sameEmail = await s.request({ method: 'POST', url: '/v1/users', payload: { email: email.toUpperCase() } });
    conflict(sameEmail, 'user.username_taken', '/body/email', JSON.stringify(email.toUpperCase()));
    expect(problem(sameEmail).detail).toMatch(/defaults to the email/);
    expect(problem(sameEmail).detail).not.toMatch(/^Another user in this tenant already has this userName/);
    // userName sent: the userName is named, in the form sent (full-width letters compare equal, RFC 8265).
    const wide = email.replace('d', '\uff44');
    conflict(await s.request({ method: 'POST', url: '/v1/users', payload: { userName: wide, email: 'other@example.com' } }), 'user.username_taken', '/body/userName', JSON.stringify(wide));
    const ext = { origin: 'HR', key: s.unique('k') };
    expect((await s.request({ method: 'POST', url: '/v1/users', payload: { userName: s.unique('e'), externalIds: [ext] } })).statusCode).toBe(201);
    const sentExt = { origin: 'hr', key: ext.key.toUpperCase() };
    const dupExt = await s.request({ method: 'POST', url: '/v1/users', payload: { userName: s.unique('e'), externalIds: [{ origin: 'x', key: '1' }, sentExt] } });
    conflict(dupExt, 'user.external_id_taken', '/body/externalIds/1', `{origin: "hr", key: ${JSON.stringify(sentExt.key)}}`);
    expect(await userCount()).toBe(before + 1);
    // On PATCH too.
    const other = (await s.request({ method: 'POST', url: '/v1/users', payload: { userName: s.unique('p') } })).json() as { id: string };
    conflict(await s.request({ method: 'PATCH', url: `/v1/users/${other.id}`, payload: { userName: email } }), 'user.username_taken', '/body/userName', JSON.stringify(email));
    conflict(await s.request({ method: 'PATCH', url: `/v1/users/${other.id}`, payload: { externalIds: [sentExt] } }), 'user.external_id_taken', '/body/externalIds/0', sentExt.key);
  });

  it('directory: unique names, codes, aliases and group external ids', async () => {
    const group = await createGroup(s.t);
    conflict(await s.request({ method: 'POST', url: '/v1/groups', payload: { name: group.name.toUpperCase() } }), 'group.name_taken', '/body/name', JSON.stringify(group.name.toUpperCase()));
    const code = s.unique('ORG');
    expect((await s.request({ method: 'POST', url: '/v1/organizations', payload: { name: 'A', code } })).statusCode).toBe(201);
    conflict(await s.request({ method: 'POST', url: '/v1/organizations', payload: { name: 'B', code: code.toLowerCase() } }), 'organization.code_taken', '/body/code', JSON.stringify(code.toLowerCase()));
    const idp = await createIdentityProvider(s.t);
    const other = await createIdentityProvider(s.t);
    conflict(await s.request({ method: 'PATCH', url: `/v1/identity-providers/${other.id}`, payload: { alias: idp.alias } }), 'identity_provider.alias_taken', '/body/alias', JSON.stringify(idp.alias));
    const ext = { origin: 'ad', key: s.unique('g') };
    expect((await s.request({ method: 'POST', url: '/v1/groups', payload: { name: s.unique('g'), externalIds: [ext] } })).statusCode).toBe(201);
    conflict(await s.request({ method: 'POST', url: '/v1/groups', payload: { name: s.unique('g'), externalIds: [ext] } }), 'group.external_id_taken', '/body/externalIds/0', ext.key);
    const role = (await s.request({ method: 'POST', url: '/v1/roles', payload: { name: s.unique('r'), weight: 1 } })).json() as { name: string };
    conflict(await s.request({ method: 'POST', url: '/v1/roles', payload: { name: role.name, weight: 2 } }), 'role.name_taken', '/body/name', JSON.stringify(role.name));
  });
});
