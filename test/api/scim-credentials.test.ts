import { describe, expect, it } from 'vitest';
import { useApiSuite } from '../helpers/test-app.js';

const s = useApiSuite();

const DEFAULTS = { origin: 'scim', owns: 'own', onDelete: 'delete' };
const NONE = { origin: null, owns: null, onDelete: null };

async function createToken(payload: Record<string, unknown>) {
  return s.request({ method: 'POST', url: '/v1/api-tokens', payload: { name: s.unique('token'), ...payload } });
}

describe('API tokens with SCIM settings', () => {
  it('are created with the scim scope and an origin, and show their settings on create, get and list', async () => {
    const created = await createToken({ scopes: ['scim'], origin: 'entra', owns: 'all', onDelete: 'suspend' });
    expect(created.statusCode, created.body).toBe(201);
    const settings = { scopes: ['scim'], origin: 'entra', owns: 'all', onDelete: 'suspend' };
    expect(created.json()).toMatchObject(settings);

    const { id } = created.json();
    expect((await s.request({ method: 'GET', url: `/v1/api-tokens/${id}` })).json()).toMatchObject(settings);
    const selected = await s.request({ method: 'GET', url: `/v1/api-tokens/${id}?$select=origin,onDelete` });
    expect(selected.json()).toEqual({ id, origin: 'entra', onDelete: 'suspend' });
    const listed = (await s.request({ method: 'GET', url: '/v1/api-tokens?$top=1000' })).json().items.find((i: { id: string }) => i.id === id);
    expect(listed).toMatchObject(settings);
  });

  it('show the defaults when they hold scim or admin and sent none, and null without either', async () => {
    const scim = await createToken({ scopes: ['scim'] });
    expect(scim.json()).toMatchObject(DEFAULTS);
    const admin = await createToken({ scopes: ['admin'] });
    expect(admin.json()).toMatchObject(DEFAULTS);
    const partial = await createToken({ scopes: ['scim', 'users:read'], owns: 'all' });
    expect(partial.json()).toMatchObject({ ...DEFAULTS, owns: 'all' });
    const reader = await createToken({ scopes: ['users:read'] });
    expect(reader.statusCode).toBe(201);
    expect(reader.json()).toMatchObject(NONE);
  });

  it('refuse an origin that is not an identifier of 1 to 64 characters', async () => {
    const cases: [unknown, RegExp][] = [
      ['has space', /U\+0020 SPACE/],
      ['x'.repeat(65), /at most 64/],
      ['', /must not be empty|at least 1/],
      ['nul\u0000here', /NUL|U\+0000/],
      ['zero\u200bwidth', /U\+200B ZERO WIDTH SPACE/],
      [42, /string/],
    ];
    for (const [origin, message] of cases) {
      const res = await createToken({ scopes: ['scim'], origin });
      expect(res.statusCode, JSON.stringify(origin)).toBe(400);
      expect(res.body, JSON.stringify(origin)).toMatch(message);
    }
    expect((await createToken({ scopes: ['scim'], origin: 'x'.repeat(64) })).statusCode).toBe(201);
    expect((await createToken({ scopes: ['scim'], origin: 'hr.süd-1' })).json().origin).toBe('hr.süd-1');
  });

  it('refuse owns and onDelete outside their values', async () => {
    const owns = await createToken({ scopes: ['scim'], owns: 'mine' });
    expect(owns.statusCode).toBe(400);
    expect(owns.json().errors[0].field).toBe('/body/owns');
    const onDelete = await createToken({ scopes: ['scim'], onDelete: 'purge' });
    expect(onDelete.statusCode).toBe(400);
    expect(onDelete.json().errors[0].field).toBe('/body/onDelete');
  });

  it('refuse SCIM settings for a token without the scim or admin scope, saying why, and store nothing', async () => {
    const count = async () => ((await s.request({ method: 'GET', url: '/v1/api-tokens?$top=1000' })).json().items as unknown[]).length;
    const before = await count();
    const res = await createToken({ scopes: ['users:write'], origin: 'entra', onDelete: 'suspend' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'request.validation_failed' });
    expect(res.json().errors.map((e: { field: string }) => e.field)).toEqual(['/body/origin', '/body/onDelete']);
    expect(res.json().errors[0].message).toContain('scim');
    expect(await count()).toBe(before);
  });

  it('authenticate with the scim scope alone, which implies no other scope', async () => {
    const { token } = (await createToken({ scopes: ['scim'], origin: 'entra' })).json();
    expect((await s.t.request({ method: 'GET', url: '/v1/event-types', token })).statusCode).toBe(200);
    const users = await s.t.request({ method: 'GET', url: '/v1/users', token });
    expect(users.statusCode).toBe(403);
    expect(users.json().code).toBe('auth.insufficient_scope');
    expect((await s.t.request({ method: 'GET', url: '/v1/roles', token })).statusCode).toBe(403);
  });

  it('cannot be granted scim by a credential without it', async () => {
    const writer = (await createToken({ scopes: ['users:write'] })).json();
    const res = await s.t.request({ method: 'POST', url: '/v1/api-tokens', token: writer.token, payload: { name: 'x', scopes: ['scim'] } });
    expect(res.statusCode).toBe(403); // creating API tokens needs admin in the first place
  });
});

describe('API clients with SCIM settings', () => {
  it('accept the same settings and show them on create, get and list', async () => {
    const created = await s.request({ method: 'POST', url: '/v1/clients', payload: { name: 'Okta', scopes: ['scim'], origin: 'okta', owns: 'all', onDelete: 'suspend' } });
    expect(created.statusCode, created.body).toBe(201);
    const settings = { scopes: ['scim'], origin: 'okta', owns: 'all', onDelete: 'suspend' };
    expect(created.json()).toMatchObject(settings);
    const { id } = created.json();
    expect((await s.request({ method: 'GET', url: `/v1/clients/${id}` })).json()).toMatchObject(settings);
    const listed = (await s.request({ method: 'GET', url: '/v1/clients?$top=1000' })).json().items;
    expect(listed.find((c: { id: string }) => c.id === id)).toMatchObject(settings);
    // The bootstrap admin client has none stored: the defaults.
    expect(listed.find((c: { clientId: string }) => c.clientId === 'test-admin')).toMatchObject(DEFAULTS);
  });

  it('show null settings without scim or admin, and refuse settings there or a bad origin', async () => {
    const reader = await s.request({ method: 'POST', url: '/v1/clients', payload: { name: 'reader', scopes: ['users:read'] } });
    expect(reader.json()).toMatchObject(NONE);
    const withOwns = await s.request({ method: 'POST', url: '/v1/clients', payload: { name: 'x', scopes: ['users:read'], owns: 'all' } });
    expect(withOwns.statusCode).toBe(400);
    expect(withOwns.json().errors).toEqual([{ field: '/body/owns', message: expect.stringContaining('scim') }]);
    const badOrigin = await s.request({ method: 'POST', url: '/v1/clients', payload: { name: 'x', scopes: ['scim'], origin: 'two words' } });
    expect(badOrigin.statusCode).toBe(400);
    expect(badOrigin.json().errors[0].field).toBe('/body/origin');
  });

  it('get access tokens that carry no SCIM claims: the settings stay on the client row', async () => {
    const client = (await s.request({ method: 'POST', url: '/v1/clients', payload: { name: 'Entra', scopes: ['scim'], origin: 'entra' } })).json();
    const accessToken = await s.t.token(client.clientId, client.clientSecret);
    const claims = JSON.parse(Buffer.from(accessToken.split('.')[1] as string, 'base64url').toString('utf8')) as Record<string, unknown>;
    expect(claims.scope).toBe('scim');
    expect(JSON.stringify(claims)).not.toContain('entra');
  });
});
