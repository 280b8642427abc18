import { describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { useApiSuite } from '../helpers/test-app.js';

const s = useApiSuite();

const SCIM_TYPE = 'application/scim+json; charset=utf-8';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const HOST = 'idp.example.test:8443';

interface Attribute {
  name: string;
  type: string;
  multiValued: boolean;
  required: boolean;
  caseExact?: boolean;
  mutability: string;
  returned: string;
  uniqueness: string;
  canonicalValues?: string[];
  referenceTypes?: string[];
  subAttributes?: Attribute[];
}

/** A SCIM error: the RFC 7644 §3.12 body, the SCIM media type, the status as a string. */
function expectScimError(res: LightMyRequestResponse, status: number, scimType?: string): { detail: string } {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toBe(SCIM_TYPE);
  const body = res.json();
  expect(body).toEqual({ schemas: [ERROR], status: String(status), ...(scimType ? { scimType } : {}), detail: expect.any(String) });
  expect(body.detail.length).toBeGreaterThan(10);
  return body;
}

const get = (url: string, token?: string) => s.request({ method: 'GET', url, headers: { host: HOST }, ...(token === undefined ? {} : { token }) });
const attribute = (attributes: Attribute[], name: string): Attribute => {
  const found = attributes.find((a) => a.name === name);
  if (!found) throw new Error(`no attribute ${name}`);
  return found;
};

describe('SCIM discovery', () => {
  it('GET /ServiceProviderConfig advertises patch, bulk, filter, sort, etag, bearer auth and RFC 9865 paging', async () => {
    const res = await get('/scim/v2/ServiceProviderConfig');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe(SCIM_TYPE);
    const config = res.json();
    expect(config).toMatchObject({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
      patch: { supported: true },
      bulk: { supported: true, maxOperations: 1000, maxPayloadSize: 4194304 },
      filter: { supported: true, maxResults: 1000 },
      changePassword: { supported: true },
      sort: { supported: true },
      etag: { supported: true },
      pagination: { cursor: true, index: true, defaultPaginationMethod: 'index', defaultPageSize: 100, maxPageSize: 1000, cursorTimeout: 3600 },
      meta: { resourceType: 'ServiceProviderConfig', location: `http://${HOST}/scim/v2/ServiceProviderConfig` },
    });
    expect(config.authenticationSchemes).toEqual([expect.objectContaining({ type: 'oauthbearertoken', specUri: 'https://www.rfc-editor.org/info/rfc6750', primary: true })]);
    expect(config).not.toHaveProperty('documentationUri');
  });

  it('GET /ResourceTypes lists User (with the enterprise extension) and Group; each is readable by name', async () => {
    const res = await get('/scim/v2/ResourceTypes');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe(SCIM_TYPE);
    const list = res.json();
    expect(list).toMatchObject({ schemas: [LIST], totalResults: 2, itemsPerPage: 2, startIndex: 1 });
    expect(list.Resources.map((r: { id: string }) => r.id)).toEqual(['User', 'Group']);

    const user = await get('/scim/v2/ResourceTypes/User');
    expect(user.headers['content-type']).toBe(SCIM_TYPE);
    expect(user.json()).toEqual({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
      id: 'User', name: 'User', endpoint: '/Users', description: 'User Account', schema: USER,
      schemaExtensions: [{ schema: ENTERPRISE, required: false }],
      meta: { resourceType: 'ResourceType', location: `http://${HOST}/scim/v2/ResourceTypes/User` },
    });
    expect(list.Resources[0]).toEqual(user.json());
    expect((await get('/scim/v2/ResourceTypes/Group')).json()).toMatchObject({ id: 'Group', endpoint: '/Groups', schema: GROUP });
  });

  it('GET /Schemas lists the User, EnterpriseUser and Group schemas in the RFC 7643 §7 representation', async () => {
    const res = await get('/scim/v2/Schemas');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe(SCIM_TYPE);
    const list = res.json();
    expect(list).toMatchObject({ schemas: [LIST], totalResults: 3, itemsPerPage: 3, startIndex: 1 });
    expect(list.Resources.map((r: { id: string }) => r.id)).toEqual([USER, ENTERPRISE, GROUP]);

    const user = (await get(`/scim/v2/Schemas/${USER}`)).json();
    expect(user).toMatchObject({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'], id: USER, name: 'User', meta: { resourceType: 'Schema', location: `http://${HOST}/scim/v2/Schemas/${USER}` } });
    const attrs = user.attributes as Attribute[];
    // id, externalId and meta are common attributes (RFC 7643 §3.1), not part of the schema.
    expect(attrs.map((a) => a.name)).not.toContain('id');
    expect(attrs.map((a) => a.name)).not.toContain('externalId');
    expect(attribute(attrs, 'userName')).toMatchObject({ type: 'string', multiValued: false, required: true, caseExact: false, mutability: 'readWrite', returned: 'default', uniqueness: 'server' });
    expect(attribute(attrs, 'password')).toMatchObject({ mutability: 'writeOnly', returned: 'never' });
    expect(attribute(attrs, 'active')).toMatchObject({ type: 'boolean' });
    expect(attribute(attrs, 'profileUrl')).toMatchObject({ type: 'reference', referenceTypes: ['external'] });
    expect(attribute(attrs, 'name').subAttributes?.map((a) => a.name)).toEqual(['formatted', 'familyName', 'givenName', 'middleName', 'honorificPrefix', 'honorificSuffix']);
    const emails = attribute(attrs, 'emails');
    expect(emails).toMatchObject({ type: 'complex', multiValued: true });
    expect(attribute(emails.subAttributes!, 'value')).toMatchObject({ caseExact: false });
    expect(attribute(emails.subAttributes!, 'type').canonicalValues).toEqual(['work', 'home', 'other']);
    expect(attribute(emails.subAttributes!, 'primary')).toMatchObject({ type: 'boolean' });
    expect(attribute(attrs, 'addresses').subAttributes?.map((a) => a.name)).toEqual(['formatted', 'streetAddress', 'locality', 'region', 'postalCode', 'country', 'type', 'primary']);
    const groups = attribute(attrs, 'groups');
    expect(groups.mutability).toBe('readOnly');
    expect(groups.subAttributes?.map((a) => [a.name, a.mutability])).toEqual([['value', 'readOnly'], ['$ref', 'readOnly'], ['display', 'readOnly'], ['type', 'readOnly']]);
    for (const name of ['phoneNumbers', 'ims', 'photos', 'entitlements', 'roles', 'x509Certificates']) {
      expect(attribute(attrs, name).subAttributes?.map((a) => a.name)).toEqual(['value', 'display', 'type', 'primary']);
    }
    // Every string attribute states caseExact; every attribute states all its characteristics.
    const walk = (list: Attribute[]): Attribute[] => list.flatMap((a) => [a, ...walk(a.subAttributes ?? [])]);
    for (const a of walk(attrs)) {
      expect(a, a.name).toMatchObject({ multiValued: expect.any(Boolean), required: expect.any(Boolean), mutability: expect.any(String), returned: expect.any(String), uniqueness: expect.any(String) });
      if (a.type === 'string') expect(a.caseExact, a.name).toBe(false);
    }

    const enterprise = (await get(`/scim/v2/Schemas/${ENTERPRISE}`)).json();
    const manager = attribute(enterprise.attributes, 'manager');
    expect(manager.subAttributes?.map((a) => a.name)).toEqual(['value', '$ref', 'displayName']);
    expect(attribute(manager.subAttributes!, 'displayName').mutability).toBe('readOnly');

    const group = (await get(`/scim/v2/Schemas/${GROUP}`)).json();
    expect(attribute(group.attributes, 'displayName')).toMatchObject({ required: true, uniqueness: 'server', caseExact: false });
    const members = attribute(group.attributes, 'members');
    expect(attribute(members.subAttributes!, 'value').mutability).toBe('immutable');
    expect(attribute(members.subAttributes!, 'display').mutability).toBe('readOnly');
    expect(attribute(members.subAttributes!, 'type').canonicalValues).toEqual(['User']);
  });

  it('finds a schema by its URN in any case', async () => {
    const res = await get(`/scim/v2/Schemas/${GROUP.toUpperCase()}`);
    expect(res.statusCode).toBe(200);
    expect(res.json().id).toBe(GROUP);
  });

  it('answers any valid credential, also one without the users or admin scopes', async () => {
    const created = await s.request({ method: 'POST', url: '/v1/api-tokens', payload: { name: s.unique('scim-reader'), scopes: ['directory:read'] } });
    expect(created.statusCode, created.body).toBe(201);
    const res = await get('/scim/v2/ServiceProviderConfig', created.json().token);
    expect(res.statusCode, res.body).toBe(200);
  });

  it('refuses a filter on /Schemas and /ResourceTypes with 403 (RFC 7644 §4), and ignores one on /ServiceProviderConfig', async () => {
    expectScimError(await get(`/scim/v2/Schemas?filter=${encodeURIComponent('id eq "x"')}`), 403);
    expectScimError(await get(`/scim/v2/ResourceTypes?filter=${encodeURIComponent('name eq "User"')}`), 403);
    expect((await get(`/scim/v2/ServiceProviderConfig?filter=${encodeURIComponent('x eq 1')}`)).statusCode).toBe(200);
  });
});

describe('SCIM errors', () => {
  it('404 for an unknown resource type, schema or path under /scim/v2', async () => {
    expect(expectScimError(await get('/scim/v2/ResourceTypes/Printer'), 404).detail).toContain('User, Group');
    expect(expectScimError(await get('/scim/v2/Schemas/urn:example:nope'), 404).detail).toContain(USER);
    expectScimError(await get('/scim/v2/NoSuchEndpoint'), 404);
    expectScimError(await get('/scim/v2'), 404);
  });

  it('405 with Allow for a method a discovery endpoint does not take', async () => {
    const post = await s.request({ method: 'POST', url: '/scim/v2/ServiceProviderConfig', payload: { schemas: [] } });
    expectScimError(post, 405);
    expect(post.headers.allow).toContain('GET');
    const del = await s.request({ method: 'DELETE', url: `/scim/v2/Schemas/${USER}` });
    expectScimError(del, 405);
    expect(del.headers.allow).toContain('GET');
  });

  it('401 without a token and with a bad one, with WWW-Authenticate', async () => {
    const none = await s.t.request({ method: 'GET', url: '/scim/v2/Schemas' });
    expectScimError(none, 401);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="roster"');
    const bad = await s.t.request({ method: 'GET', url: '/scim/v2/ResourceTypes', token: 'not-a-token' });
    expectScimError(bad, 401);
    expect(bad.headers['www-authenticate']).toBe('Bearer realm="roster"');
    expectScimError(await s.t.request({ method: 'GET', url: '/scim/v2/Me' }), 401);
  });

  it('/Me is 501 on every method: SCIM credentials are not users', async () => {
    expect(expectScimError(await get('/scim/v2/Me'), 501).detail).toMatch(/not users/);
    for (const contentType of ['application/scim+json', 'application/json']) {
      const res = await s.request({ method: 'POST', url: '/scim/v2/Me', headers: { 'content-type': contentType }, payload: JSON.stringify({ schemas: [USER], userName: 'me' }) });
      expectScimError(res, 501);
    }
    expectScimError(await s.request({ method: 'DELETE', url: '/scim/v2/Me' }), 501);
  });

  it('415 for a body that is neither application/scim+json nor application/json', async () => {
    const res = await s.request({ method: 'PUT', url: '/scim/v2/Me', headers: { 'content-type': 'text/plain' }, payload: 'userName=me' });
    expect(expectScimError(res, 415).detail).toContain('application/scim+json or application/json');
  });

  it('400 invalidSyntax for malformed JSON, in either JSON media type', async () => {
    for (const contentType of ['application/scim+json', 'application/json; charset=utf-8']) {
      const res = await s.request({ method: 'POST', url: '/scim/v2/Me', headers: { 'content-type': contentType }, payload: '{"userName": ' });
      expectScimError(res, 400, 'invalidSyntax');
    }
  });

  it('400 invalidValue for input no database can store (a NUL in the query, a path that is not UTF-8)', async () => {
    expectScimError(await get('/scim/v2/ServiceProviderConfig?attributes=%00'), 400, 'invalidValue');
    // Refused before routing (the path is not percent-encoded UTF-8): still a SCIM error.
    expectScimError(await get('/scim/v2/Schemas/%FF'), 400, 'invalidValue');
  });
});

describe('the native API is unchanged', () => {
  it('answers problem+json without scimType, and does not take application/scim+json bodies', async () => {
    const missing = await s.request({ method: 'GET', url: '/v1/no-such-route' });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(missing.json()).toMatchObject({ code: 'request.route_not_found', status: 404, type: 'https://roster.dev/errors/request.route_not_found' });

    const malformed = await s.request({ method: 'POST', url: '/v1/users', headers: { 'content-type': 'application/json' }, payload: '{"userName": ' });
    expect(malformed.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(malformed.json()).toMatchObject({ code: 'request.malformed_json', status: 400 });
    expect(malformed.json()).not.toHaveProperty('scimType');
    expect(malformed.json()).not.toHaveProperty('schemas');

    const scimBody = await s.request({ method: 'POST', url: '/v1/users', headers: { 'content-type': 'application/scim+json' }, payload: JSON.stringify({ userName: s.unique('u') }) });
    expect(scimBody.statusCode).toBe(415);
    expect(scimBody.json().code).toBe('request.unsupported_media_type');

    const ok = await s.request({ method: 'GET', url: '/v1/users?$top=1' });
    expect(ok.headers['content-type']).toMatch(/^application\/json/);
  });

  it('keeps the SCIM endpoints out of /openapi.json', async () => {
    const document = (await s.request({ method: 'GET', url: '/openapi.json' })).json();
    expect(Object.keys(document.paths).filter((path) => path.startsWith('/scim'))).toEqual([]);
  });
});
