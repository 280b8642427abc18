import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { ApiSuite } from './test-app.js';

/** The SCIM URNs tests send and expect (RFC 7643, RFC 7644). */
export const URN = {
  user: 'urn:ietf:params:scim:schemas:core:2.0:User',
  enterprise: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
  group: 'urn:ietf:params:scim:schemas:core:2.0:Group',
  patch: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
  list: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
  error: 'urn:ietf:params:scim:api:messages:2.0:Error',
  search: 'urn:ietf:params:scim:api:messages:2.0:SearchRequest',
} as const;

export const SCIM_TYPE = 'application/scim+json; charset=utf-8';

/** One SCIM client: a token with the scim scope and its settings, sending application/scim+json. */
export interface ScimClient {
  token: string;
  /** The API token's id (the actor id of its events). */
  id: string;
  request(options: InjectOptions): Promise<LightMyRequestResponse>;
  get(url: string, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  post(url: string, payload: unknown, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  put(url: string, payload: unknown, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  patch(url: string, operations: unknown[], headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  delete(url: string, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
}

/** Creates an API token with `scopes` (default ["scim"]) and SCIM settings, through the native API. */
export async function scimClient(s: ApiSuite, settings: Record<string, unknown> = {}, token?: string): Promise<ScimClient> {
  const res = await s.request({ method: 'POST', url: '/v1/api-tokens', ...(token ? { token } : {}), payload: { name: s.unique('scim'), scopes: ['scim'], ...settings } });
  expect(res.statusCode, res.body).toBe(201);
  const { token: bearer, id } = res.json() as { token: string; id: string };
  const request = (options: InjectOptions) =>
    s.t.request({ ...options, token: bearer, headers: { ...(options.payload !== undefined ? { 'content-type': 'application/scim+json' } : {}), ...options.headers } });
  return {
    token: bearer,
    id,
    request,
    get: (url, headers) => request({ method: 'GET', url, ...(headers ? { headers } : {}) }),
    post: (url, payload, headers) => request({ method: 'POST', url, payload: payload as InjectOptions['payload'], ...(headers ? { headers } : {}) }),
    put: (url, payload, headers) => request({ method: 'PUT', url, payload: payload as InjectOptions['payload'], ...(headers ? { headers } : {}) }),
    patch: (url, operations, headers) => request({ method: 'PATCH', url, payload: { schemas: [URN.patch], Operations: operations } as InjectOptions['payload'], ...(headers ? { headers } : {}) }),
    delete: (url, headers) => request({ method: 'DELETE', url, ...(headers ? { headers } : {}) }),
  };
}

/** `?filter=…` with the filter URL-encoded, plus further raw parameters. */
export const filterUrl = (resource: string, filter: string, more = ''): string => `/scim/v2/${resource}?filter=${encodeURIComponent(filter)}${more ? `&${more}` : ''}`;

/** A SCIM error (RFC 7644 §3.12): the status, the SCIM media type, the body with status as a string and the scimType. */
export function expectScimError(res: LightMyRequestResponse, status: number, scimType?: string): { detail: string; scimType?: string } {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type'], res.body).toBe(SCIM_TYPE);
  const body = res.json();
  expect(body, res.body).toEqual({ schemas: [URN.error], status: String(status), ...(scimType ? { scimType } : {}), detail: expect.any(String) });
  return body;
}

/** A minimal SCIM user body. */
export function userBody(userName: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { schemas: [URN.user], userName, active: true, name: { givenName: 'Test', familyName: userName.split('@')[0] }, ...extra };
}

/** A SCIM User representation as tests read it. */
export interface ScimUserDoc {
  id: string;
  userName: string;
  meta: { version: string; location: string; created: string; lastModified: string };
  [attribute: string]: unknown;
}

/** Creates a user through SCIM and returns its representation. */
export async function createScimUser(client: ScimClient, userName: string, extra: Record<string, unknown> = {}): Promise<ScimUserDoc> {
  const res = await client.post('/scim/v2/Users', userBody(userName, extra));
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

/** The ids of a ListResponse's resources, in order. */
export const ids = (res: LightMyRequestResponse): string[] => (res.json().Resources as { id: string }[]).map((r) => r.id);

/** A SCIM caller as a function of inject options: a new token with the scim scope and `settings`, sending application/scim+json. */
export type ScimCaller = (options: InjectOptions) => Promise<LightMyRequestResponse>;

export async function scimCaller(s: ApiSuite, settings: Record<string, unknown>): Promise<ScimCaller> {
  const res = await s.request({ method: 'POST', url: '/v1/api-tokens', payload: { name: s.unique('scim'), scopes: ['scim'], ...settings } });
  expect(res.statusCode, res.body).toBe(201);
  const token = res.json().token as string;
  return (options) => s.t.request({ ...options, token, headers: { 'content-type': 'application/scim+json', ...options.headers } });
}

/** A user created through the native API, as an HR feed would: no SCIM credential provisioned it. Its id. */
export async function nativeUser(s: ApiSuite): Promise<string> {
  const userName = `${s.unique('hr')}@example.com`;
  const res = await s.request({ method: 'POST', url: '/v1/users', payload: { userName, email: userName } });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id as string;
}

/** A user created by `scim` (with `extra` attributes). Its id. */
export async function scimCreatedUser(s: ApiSuite, scim: ScimCaller, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await scim({ method: 'POST', url: '/scim/v2/Users', payload: { userName: `${s.unique('u')}@example.com`, ...extra } });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id as string;
}
