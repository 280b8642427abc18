import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalJWKSet, jwtVerify, SignJWT, generateKeyPair, decodeJwt } from 'jose';
import { ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, createTestApp, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

const tokenRequest = (payload: Record<string, string>, headers: Record<string, string> = {}) =>
  t.request({ method: 'POST', url: '/v1/oauth/token', payload, headers });

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

async function createClient(scopes: string[], tenantId?: string) {
  const res = await t.request({ method: 'POST', url: '/v1/clients', token: await t.adminToken(), payload: { name: 'c', scopes, ...(tenantId ? { tenantId } : {}) } });
  expect(res.statusCode).toBe(201);
  return res.json() as { id: string; clientId: string; clientSecret: string };
}

describe('POST /v1/oauth/token client_credentials', () => {
  it('issues a signed access token and a refresh token with a JSON body', async () => {
    const res = await tokenRequest({ grant_type: 'client_credentials', client_id: ADMIN_CLIENT_ID, client_secret: ADMIN_CLIENT_SECRET });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json();
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 900, scope: 'admin' });
    expect(body.refresh_token).toMatch(/^rrt_/);
    const claims = decodeJwt(body.access_token);
    expect(claims).toMatchObject({ iss: 'http://roster.test', sub: ADMIN_CLIENT_ID, tid: 'default', scope: 'admin', aud: 'roster-api' });
  });

  it('accepts HTTP Basic client authentication with a form-encoded body', async () => {
    const res = await t.request({
      method: 'POST',
      url: '/v1/oauth/token',
      headers: { authorization: basic(ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET), 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'grant_type=client_credentials&scope=users%3Aread',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().scope).toBe('users:read');
  });

  it('verifies against the published JWKS', async () => {
    const token = await t.adminToken();
    const jwks = (await t.request({ method: 'GET', url: '/.well-known/jwks.json' })).json();
    expect(jwks.keys.length).toBeGreaterThan(0);
    expect(jwks.keys[0]).not.toHaveProperty('d');
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks), { issuer: 'http://roster.test', audience: 'roster-api' });
    expect(protectedHeader).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt' });
    expect(payload.tid).toBe('default');
  });

  it('rejects a wrong secret and an unknown client the same way', async () => {
    for (const [id, secret] of [[ADMIN_CLIENT_ID, 'wrong-secret-000000'], ['nobody', 'whatever-secret-0000']] as const) {
      const res = await tokenRequest({ grant_type: 'client_credentials', client_id: id, client_secret: secret });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ error: 'invalid_client', error_description: 'Client authentication failed.' });
    }
  });

  it('answers malformed requests in the RFC 6749 shape', async () => {
    expect((await tokenRequest({ grant_type: 'password', client_id: ADMIN_CLIENT_ID, client_secret: ADMIN_CLIENT_SECRET })).json().error).toBe('unsupported_grant_type');
    expect((await tokenRequest({ client_id: ADMIN_CLIENT_ID } as Record<string, string>)).json().error).toBe('invalid_request');
    const noAuth = await tokenRequest({ grant_type: 'client_credentials' });
    expect(noAuth.statusCode).toBe(401);
    expect(noAuth.json().error).toBe('invalid_client');
  });

  it('narrows scopes on request and refuses scopes the client does not hold', async () => {
    const reader = await createClient(['users:read']);
    const narrowed = await tokenRequest({ grant_type: 'client_credentials', client_id: reader.clientId, client_secret: reader.clientSecret, scope: 'users:write' });
    expect(narrowed.statusCode).toBe(400);
    expect(narrowed.json().error).toBe('invalid_scope');
    const token = await t.token(reader.clientId, reader.clientSecret);
    expect((await t.request({ method: 'GET', url: '/v1/users', token })).statusCode).toBe(200);
    const denied = await t.request({ method: 'POST', url: '/v1/users', token, payload: { userName: 'x' } });
    expect(denied.statusCode).toBe(403);
    expect(denied.json().code).toBe('auth.insufficient_scope');
  });
});

describe('refresh tokens', () => {
  it('rotate on every use, and a replayed token revokes its whole family', async () => {
    const first = (await tokenRequest({ grant_type: 'client_credentials', client_id: ADMIN_CLIENT_ID, client_secret: ADMIN_CLIENT_SECRET })).json();
    const second = await tokenRequest({ grant_type: 'refresh_token', refresh_token: first.refresh_token });
    expect(second.statusCode).toBe(200);
    const secondBody = second.json();
    expect(secondBody.refresh_token).not.toBe(first.refresh_token);

    const replay = await tokenRequest({ grant_type: 'refresh_token', refresh_token: first.refresh_token });
    expect(replay.statusCode).toBe(400);
    expect(replay.json().error).toBe('invalid_grant');
    // The legitimate successor is dead too: the family was revoked.
    const successor = await tokenRequest({ grant_type: 'refresh_token', refresh_token: secondBody.refresh_token });
    expect(successor.json().error).toBe('invalid_grant');
  });

  it('can narrow but never widen scopes, and must belong to the authenticating client', async () => {
    const other = await createClient(['users:read']);
    const first = (await tokenRequest({ grant_type: 'client_credentials', client_id: ADMIN_CLIENT_ID, client_secret: ADMIN_CLIENT_SECRET, scope: 'users:read' })).json();
    const widened = await tokenRequest({ grant_type: 'refresh_token', refresh_token: first.refresh_token, scope: 'admin' });
    expect(widened.json().error).toBe('invalid_scope');
    const stolen = await tokenRequest({ grant_type: 'refresh_token', refresh_token: first.refresh_token, client_id: other.clientId, client_secret: other.clientSecret });
    expect(stolen.json().error).toBe('invalid_grant');
  });

  it('expire', async () => {
    const first = (await tokenRequest({ grant_type: 'client_credentials', client_id: ADMIN_CLIENT_ID, client_secret: ADMIN_CLIENT_SECRET })).json();
    t.clock.advance(31 * 86_400);
    try {
      const res = await tokenRequest({ grant_type: 'refresh_token', refresh_token: first.refresh_token });
      expect(res.json()).toEqual({ error: 'invalid_grant', error_description: 'The refresh token has expired.' });
    } finally {
      t.clock.advance(-31 * 86_400);
    }
  });
});

describe('access token checks', () => {
  it('rejects a missing, malformed, expired, forged or alg:none token with 401', async () => {
    const missing = await t.request({ method: 'GET', url: '/v1/users' });
    expect(missing.statusCode).toBe(401);
    expect(missing.headers['www-authenticate']).toContain('Bearer');
    expect(missing.json().code).toBe('auth.missing_token');
    expect((await t.request({ method: 'GET', url: '/v1/users', headers: { authorization: 'Token abc' } })).statusCode).toBe(401);

    const real = await t.adminToken();
    const [header, payload] = real.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid: JSON.parse(Buffer.from(header!, 'base64url').toString()).kid })).toString('base64url')}.${payload}.`;
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, tid: 'other' })).toString('base64url')}.${real.split('.')[2]}`;
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const kid = JSON.parse(Buffer.from(header!, 'base64url').toString()).kid;
    const foreign = await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid }).sign(privateKey);
    for (const bad of [none, tampered, foreign, 'not-a-jwt']) {
      const res = await t.request({ method: 'GET', url: '/v1/users', token: bad });
      expect(res.statusCode, bad).toBe(401);
      expect(res.json().code).toBe('auth.invalid_token');
    }
  });

  it('expires after its lifetime', async () => {
    const token = await t.token(ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET);
    t.clock.advance(901);
    try {
      const res = await t.request({ method: 'GET', url: '/v1/users', token });
      expect(res.statusCode).toBe(401);
      expect(res.json().detail).toContain('expired');
    } finally {
      t.clock.advance(-901);
    }
  });

  it('stops working once revoked (RFC 7009), as does a revoked refresh token', async () => {
    const issued = (await tokenRequest({ grant_type: 'client_credentials', client_id: ADMIN_CLIENT_ID, client_secret: ADMIN_CLIENT_SECRET })).json();
    expect((await t.request({ method: 'GET', url: '/v1/users', token: issued.access_token })).statusCode).toBe(200);
    const revoke = await t.request({ method: 'POST', url: '/v1/oauth/revoke', payload: { token: issued.access_token } });
    expect(revoke.statusCode).toBe(200);
    expect((await t.request({ method: 'GET', url: '/v1/users', token: issued.access_token })).statusCode).toBe(401);

    await t.request({ method: 'POST', url: '/v1/oauth/revoke', payload: { token: issued.refresh_token, token_type_hint: 'refresh_token' } });
    expect((await tokenRequest({ grant_type: 'refresh_token', refresh_token: issued.refresh_token })).json().error).toBe('invalid_grant');
    // Unknown tokens are accepted silently, as RFC 7009 requires.
    expect((await t.request({ method: 'POST', url: '/v1/oauth/revoke', payload: { token: 'garbage' } })).statusCode).toBe(200);
  });

  it('keeps tokens of a rotated signing key valid and signs new ones with the new key', async () => {
    const before = await t.token(ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET);
    const rotated = await t.request({ method: 'POST', url: '/v1/signing-keys/rotate', token: before });
    expect(rotated.statusCode).toBe(200);
    const after = await t.token(ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET);
    const kidOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString()).kid;
    expect(kidOf(after)).toBe(rotated.json().kid);
    expect(kidOf(before)).not.toBe(kidOf(after));
    expect((await t.request({ method: 'GET', url: '/v1/users', token: before })).statusCode).toBe(200);
    const jwks = (await t.request({ method: 'GET', url: '/.well-known/jwks.json' })).json();
    expect(jwks.keys.map((k: { kid: string }) => k.kid)).toEqual(expect.arrayContaining([kidOf(before), kidOf(after)]));
  });
});

describe('discovery', () => {
  it('publishes RFC 8414 metadata', async () => {
    const res = await t.request({ method: 'GET', url: '/.well-known/oauth-authorization-server' });
    expect(res.json()).toMatchObject({
      issuer: 'http://roster.test',
      token_endpoint: 'http://roster.test/v1/oauth/token',
      jwks_uri: 'http://roster.test/.well-known/jwks.json',
      grant_types_supported: ['client_credentials', 'refresh_token'],
    });
  });
});
