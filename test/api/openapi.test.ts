import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { DIRECTORY } from '../../src/domain/directory.js';
import { SCOPES } from '../../src/domain/principal.js';
import { liftComponents } from '../../src/http/openapi-document.js';
import { validatorCompiler } from '../../src/http/validation.js';
import { ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, useApiSuite } from '../helpers/test-app.js';

/*
 * The published OpenAPI document (/openapi.json) and /docs: what a newcomer clicks through must
 * be complete and must work as pre-filled.
 */
const s = useApiSuite();

type Json = Record<string, unknown>;
type Operation = {
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
  security?: Json[];
  requestBody?: { content: Record<string, { schema: Json; example?: unknown }> };
  responses: Record<string, Json>;
};
const METHODS = ['get', 'put', 'post', 'patch', 'delete'] as const;

let cached: Json | undefined;
async function openapi(): Promise<Json> {
  if (cached) return cached;
  const res = await s.t.request({ method: 'GET', url: '/openapi.json' });
  expect(res.statusCode).toBe(200);
  cached = res.json() as Json;
  return cached;
}

async function operations(): Promise<{ path: string; method: (typeof METHODS)[number]; op: Operation }[]> {
  const paths = (await openapi()).paths as Record<string, Record<string, Operation>>;
  return Object.entries(paths).flatMap(([path, item]) => METHODS.filter((m) => item[m]).map((method) => ({ path, method, op: item[method]! })));
}

/** Resolves a local reference (`#/components/schemas/User`) in the document. */
function resolve(doc: Json, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  return ref
    .slice(2)
    .split('/')
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce<unknown>((node, part) => (node && typeof node === 'object' ? (node as Json)[part] : undefined), doc);
}

/** The schema with every $ref replaced by what it points to (component schemas are not recursive). */
function inline(doc: Json, node: unknown): unknown {
  if (Array.isArray(node)) return node.map((n) => inline(doc, n));
  if (!node || typeof node !== 'object') return node;
  const ref = (node as Json).$ref;
  if (typeof ref === 'string') return inline(doc, resolve(doc, ref));
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, k === 'example' || k === 'examples' ? v : inline(doc, v)]));
}

/** Validates like the server validates bodies (src/http/validation.ts). */
function validates(schema: unknown, value: unknown): { ok: boolean; errors: unknown } {
  const validate = validatorCompiler({ schema, httpPart: 'body', method: 'POST', url: '/' } as never) as ((v: unknown) => boolean) & { errors?: unknown };
  const ok = validate(structuredClone(value));
  return { ok, errors: validate.errors };
}

const fill = (path: string, ids: Record<string, string> = {}) =>
  path.replace(/\{(\w+)\}/g, (_m, name: string) => ids[name] ?? '0190f0c5-7b1e-7cc3-a5a4-2f1d3c9b8e10');

describe('the OpenAPI document', () => {
  it('gives every operation a unique camelCase operationId, a summary, a description and declared tags', async () => {
    const doc = await openapi();
    const declared = new Set((doc.tags as { name: string }[]).map((t) => t.name));
    const ops = await operations();
    expect(ops.length).toBeGreaterThan(100);
    const ids = ops.map(({ op }) => op.operationId);
    for (const { path, method, op } of ops) {
      expect(op.operationId, `${method} ${path}`).toMatch(/^[a-z][A-Za-z]+$/);
      expect(op.summary, `${method} ${path}`).toBeTruthy();
      expect(op.description, `${method} ${path}`).toBeTruthy();
      expect(op.tags?.length, `${method} ${path}`).toBe(1);
      expect(declared.has(op.tags![0]!), `${method} ${path}: tag ${op.tags![0]}`).toBe(true);
    }
    expect(new Set(ids).size).toBe(ids.length);
    const byId = new Map(ops.map(({ path, method, op }) => [op.operationId, `${method} ${path}`]));
    expect(byId.get('createUser')).toBe('post /v1/users');
    expect(byId.get('patchUser')).toBe('patch /v1/users/{id}');
    expect(byId.get('listGroups')).toBe('get /v1/groups');
    expect(byId.get('listIdentityProviders')).toBe('get /v1/identity-providers');
    expect(byId.get('addGroupMember')).toBe('post /v1/groups/{id}/members/{userId}');
    expect(byId.get('replaceUserEnvironments')).toBe('put /v1/users/{id}/environments');
    expect(byId.get('listOrganizationDescendants')).toBe('get /v1/organizations/{id}/descendants');
    expect(byId.get('requestToken')).toBe('post /v1/oauth/token');
  });

  it('orders tags: users and the directory first, housekeeping last; memberships grouped by kind', async () => {
    const names = ((await openapi()).tags as { name: string }[]).map((t) => t.name);
    expect(names[0]).toBe('Users');
    for (const def of Object.values(DIRECTORY)) expect(names.indexOf(def.title)).toBeLessThan(names.indexOf('Events'));
    for (const housekeeping of ['Tenants', 'API clients', 'API tokens', 'Signing keys', 'Jobs']) {
      expect(names.indexOf(housekeeping)).toBeGreaterThan(names.indexOf('Attribute definitions'));
    }
    expect(names.at(-1)).toBe('Health');
    const ops = await operations();
    for (const kind of ['roles', 'groups', 'organizations', 'environments']) {
      const tagsOfKind = new Set(ops.filter(({ path }) => path.startsWith(`/v1/${kind}/{id}/members`) || path.startsWith(`/v1/users/{id}/${kind}`)).map(({ op }) => op.tags![0]));
      expect([...tagsOfKind]).toEqual([`${kind[0]!.toUpperCase()}${kind.slice(1, -1)} memberships`]);
    }
  });

  it('names its schemas as components and every $ref resolves', async () => {
    const doc = await openapi();
    const schemas = (doc.components as Json).schemas as Json;
    for (const name of ['User', 'UserPage', 'UserCreate', 'UserPatch', 'Group', 'GroupPage', 'GroupCreate', 'IdentityProvider', 'Problem', 'Event', 'EventPage', 'Job', 'JobPage',
      'Client', 'ClientPage', 'ApiToken', 'TokenRequest', 'TokenResponse', 'RoleMember', 'RoleMemberPage']) {
      expect(schemas, name).toHaveProperty(name);
    }
    const refs: string[] = [];
    JSON.stringify(doc, (key, value: unknown) => {
      if (key === '$ref') refs.push(value as string);
      return value;
    });
    expect(refs.length).toBeGreaterThan(500);
    for (const ref of new Set(refs)) expect(resolve(doc, ref), ref).toBeDefined();
    // No naming key leaks into the document, and schemas are referenced, not repeated inline.
    expect(JSON.stringify(doc)).not.toContain('x-component');
    const post = (doc.paths as Json)['/v1/users'] as { post: Operation };
    expect(post.post.requestBody!.content['application/json']!.schema).toEqual({ $ref: '#/components/schemas/UserCreate' });
    expect(post.post.responses['201']!.content).toEqual({ 'application/json': { schema: { $ref: '#/components/schemas/User' } } });
    expect(post.post.responses['400']).toEqual({ $ref: '#/components/responses/BadRequest' });
    // 517 KB when every operation inlined its schemas; about 308 KB with bulk writes and sync runs (135 operations).
    expect(JSON.stringify(doc).length).toBeLessThan(320_000);
  });

  it('refuses two different schemas under one component name', () => {
    const doc = {
      components: {},
      paths: { '/a': { get: { responses: { 200: { content: { 'application/json': { schema: { type: 'object', 'x-component': 'A' } } } } } } },
        '/b': { get: { responses: { 200: { content: { 'application/json': { schema: { type: 'string', 'x-component': 'A' } } } } } } } },
    };
    expect(() => liftComponents(doc)).toThrow(/Two different schemas are named A/);
  });

  it('gives every request body an example that validates against its own schema', async () => {
    const doc = await openapi();
    let bodies = 0;
    for (const { path, method, op } of await operations()) {
      for (const [type, media] of Object.entries(op.requestBody?.content ?? {})) {
        bodies++;
        expect(media.example, `${method} ${path} ${type}`).toBeDefined();
        const result = validates(inline(doc, media.schema), media.example);
        expect(result.ok, `${method} ${path}: ${JSON.stringify(result.errors)}`).toBe(true);
      }
    }
    expect(bodies).toBeGreaterThan(40);
  });

  it('declares the content types the server takes: merge patch on PATCH, a form on the token endpoint', async () => {
    for (const { path, method, op } of await operations()) {
      if (method === 'patch') expect(Object.keys(op.requestBody!.content), path).toEqual(['application/merge-patch+json', 'application/json']);
    }
    const paths = (await openapi()).paths as Record<string, Record<string, Operation>>;
    const token = paths['/v1/oauth/token']!.post!;
    expect(Object.keys(token.requestBody!.content)).toEqual(['application/x-www-form-urlencoded', 'application/json']);
    const form = inline(await openapi(), token.requestBody!.content['application/x-www-form-urlencoded']!.schema) as { properties: Json; required: string[] };
    expect(Object.keys(form.properties)).toEqual(expect.arrayContaining(['grant_type', 'client_id', 'client_secret', 'scope', 'refresh_token']));
  });

  it('declares the response headers the routes send', async () => {
    const paths = (await openapi()).paths as Record<string, Record<string, Operation>>;
    const headers = (op: Operation, status: string) => Object.keys((op.responses[status]!.headers as Json | undefined) ?? {}).sort();
    expect(headers(paths['/v1/users']!.post!, '201')).toEqual(['ETag', 'Idempotent-Replayed', 'Location']);
    expect(headers(paths['/v1/users/{id}']!.get!, '200')).toEqual(['ETag']);
    expect(headers(paths['/v1/users/{id}']!.patch!, '200')).toEqual(['ETag']);
    expect(headers(paths['/v1/groups']!.post!, '201')).toEqual(['ETag', 'Idempotent-Replayed', 'Location']);
    expect(headers(paths['/v1/groups/{id}']!.get!, '200')).toEqual(['ETag']);
    expect(headers(paths['/v1/clients']!.post!, '201')).toEqual(['Idempotent-Replayed', 'Location']);
    // Every idempotent route documents the request header as well.
    expect(paths['/v1/groups']!.post!).toHaveProperty('parameters', expect.arrayContaining([expect.objectContaining({ in: 'header', name: 'idempotency-key' })]));

    // And the server sends what is declared.
    const created = await s.request({ method: 'POST', url: '/v1/users', payload: { userName: s.unique('hdr') } });
    expect(created.headers).toHaveProperty('location');
    expect(created.headers).toHaveProperty('etag');
  });

  it('marks public operations security: [] and needs a token everywhere else', async () => {
    const doc = await openapi();
    const schemes = (doc.components as Json).securitySchemes as Record<string, Json>;
    expect(schemes.oauth2).toEqual(expect.objectContaining({ type: 'oauth2', flows: { clientCredentials: { tokenUrl: '/v1/oauth/token', scopes: expect.any(Object) } } }));
    expect(Object.keys((schemes.oauth2!.flows as { clientCredentials: { scopes: Json } }).clientCredentials.scopes)).toEqual([...SCOPES]);
    expect(schemes.bearerAuth).toEqual(expect.objectContaining({ type: 'http', scheme: 'bearer' }));

    const publicOps = ['get /healthz', 'get /readyz', 'post /v1/oauth/token', 'post /v1/oauth/revoke', 'get /.well-known/jwks.json', 'get /.well-known/oauth-authorization-server'];
    for (const { path, method, op } of await operations()) {
      const name = `${method} ${path}`;
      if (publicOps.includes(name)) {
        expect(op.security, name).toEqual([]);
        continue;
      }
      expect(op.security, name).toEqual([{ oauth2: expect.any(Array) }, { bearerAuth: [] }]);
      // The document says a token is needed: the server agrees.
      const res = await s.t.request({ method: method.toUpperCase() as 'GET', url: fill(path) });
      expect(res.statusCode, name).toBe(401);
    }
    for (const name of publicOps.filter((n) => n.startsWith('get'))) {
      expect((await s.t.request({ method: 'GET', url: name.slice(4) })).statusCode, name).toBe(200);
    }
    const paths = doc.paths as Record<string, Record<string, Operation>>;
    expect(paths['/v1/users']!.get!.security).toEqual([{ oauth2: ['users:read'] }, { bearerAuth: [] }]);
  });

  it('keeps the intro readable: no raw HTML outside code spans', async () => {
    const description = ((await openapi()).info as Json).description as string;
    expect(description).toContain('`Authorization: Bearer <token>`');
    expect(description.replace(/`[^`]*`/g, '')).not.toMatch(/[<>]/);
  });
});

describe('the examples /docs pre-fills', () => {
  it('work through HTTP: every create, then replace and patch of what was created', async () => {
    const ops = await operations();
    const creates = ops.filter(({ method, op }) => method === 'post' && /^create[A-Z]/.test(op.operationId!) && !op.operationId!.startsWith('createUser'));
    // The directory first: the user example's attributes fit the attribute definition example.
    const ordered = [...creates, ...ops.filter(({ op }) => op.operationId === 'createUser')];
    // One create per directory kind, plus the other createX operations (sync runs among them) and createUser.
    expect(ordered.length).toBe(Object.keys(DIRECTORY).length + 5);
    for (const { path, op } of ordered) {
      const [type, media] = Object.entries(op.requestBody!.content)[0]!;
      const res = await s.request({ method: 'POST', url: path, headers: { 'content-type': type }, payload: JSON.stringify(media.example) });
      expect(res.statusCode, `${op.operationId}: ${res.body}`).toBe(201);
      const id = res.json().id as string;
      for (const method of ['put', 'patch'] as const) {
        const item = ((await openapi()).paths as Record<string, Record<string, Operation>>)[`${path}/{id}`]?.[method];
        if (!item) continue;
        const [itemType, itemMedia] = Object.entries(item.requestBody!.content)[0]!;
        const changed = await s.request({ method: method.toUpperCase() as 'PUT', url: `${path}/${encodeURIComponent(id)}`, headers: { 'content-type': itemType }, payload: JSON.stringify(itemMedia.example) });
        expect(changed.statusCode, `${item.operationId}: ${changed.body}`).toBe(200);
      }
    }
  });

  it('get a token with the form the token endpoint declares', async () => {
    const paths = (await openapi()).paths as Record<string, Record<string, Operation>>;
    const token = paths['/v1/oauth/token']!.post!;
    const [type, media] = Object.entries(token.requestBody!.content)[0]!;
    const fields = { ...(media.example as Record<string, string>), client_id: ADMIN_CLIENT_ID, client_secret: ADMIN_CLIENT_SECRET };
    const res = await s.t.request({ method: 'POST', url: '/v1/oauth/token', headers: { 'content-type': type }, payload: new URLSearchParams(fields).toString() });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toHaveProperty('access_token');
  });
});

describe('/docs', () => {
  it("shows Roster's title and logo, not the framework's, and loads /openapi.json", async () => {
    const html = await s.t.request({ method: 'GET', url: '/docs' });
    expect(html.statusCode).toBe(200);
    expect(html.body).toContain('<title>Roster API</title>');
    expect(html.body).not.toContain('favicon-32x32.png');

    const initializer = (await s.t.request({ method: 'GET', url: '/docs/static/swagger-initializer.js' })).body;
    const require = createRequire(import.meta.url);
    const fastifyLogo = readFileSync(require.resolve('@fastify/swagger-ui/static/logo.svg')).toString('base64');
    expect(initializer).toContain('data:image/svg+xml;base64,');
    expect(initializer).not.toContain(fastifyLogo);
    expect(Buffer.from(/data:image\/svg\+xml;base64,([A-Za-z0-9+/=]+)/.exec(initializer)![1]!, 'base64').toString()).toContain('Roster');

    const script = /<script src="([^"]*theme\/[^"]+\.js)"/.exec(html.body)?.[1];
    expect(script).toBeDefined();
    const theme = await s.t.request({ method: 'GET', url: `/docs/${script!.replace(/^\.\//, '').replace(/^\/docs\//, '')}` });
    expect(theme.statusCode).toBe(200);
    expect(theme.body).toContain("'/openapi.json'");
  });
});
