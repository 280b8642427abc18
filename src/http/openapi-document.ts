import { STATUS_CODES } from 'node:http';
import type { FastifyInstance, RouteOptions } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Type, type TObject } from '@sinclair/typebox';
import type { Config } from '../config.js';
import { DIRECTORY } from '../domain/directory.js';
import { MEMBERSHIPS, MEMBERSHIP_KINDS } from '../domain/membership.js';
import type { Scope } from '../domain/principal.js';
import { stableStringify } from '../lib/stable-json.js';
import { COMPONENT } from './schemas/common-schemas.js';

/*
 * The OpenAPI document (GET /openapi.json) and the interactive docs (/docs). Routes declare their
 * contract (schemas, operationId, summary, description, tags, responseHeaders); this module adds
 * what follows from the route's config (security from `config.auth`, the Idempotency-Key header
 * and Idempotent-Replayed from `config.idempotent`) and turns schemas named with
 * `x-component` into `#/components/schemas/<name>` references. Validation and serialisation
 * never see any of this: they keep compiling the inline schemas.
 */

/** Response headers a route may declare (`schema.responseHeaders`), documented once here. */
export const RESPONSE_HEADERS = {
  ETag: { type: 'string', description: 'W/"<version>" of the record returned; send it back as If-Match to update only that version.' },
  Location: { type: 'string', description: 'The URL of the created resource.' },
  'Idempotent-Replayed': { type: 'string', enum: ['true'], description: 'Present when this is the stored response of an earlier request with the same Idempotency-Key.' },
  'Retry-After': { type: 'integer', description: 'Seconds to wait before retrying.' },
} as const;
export type ResponseHeaderName = keyof typeof RESPONSE_HEADERS;

declare module 'fastify' {
  interface FastifySchema {
    /** Documentation only: the headers each status of this route sends (see RESPONSE_HEADERS). */
    responseHeaders?: Readonly<Partial<Record<number, readonly ResponseHeaderName[]>>>;
  }
}


const SCOPE_DESCRIPTIONS: Record<Scope, string> = {
  'users:read': 'Read users, their memberships, reports, history and identity links.',
  'users:write': 'Create, change and delete users and their memberships.',
  'directory:read': 'Read roles, groups, organizations, environments and the rest of the directory.',
  'directory:write': 'Create, change and delete directory records and their members.',
  scim: 'The SCIM 2.0 server under /scim/v2 (users and groups), under the credential\'s SCIM settings (origin, owns, onDelete). Implies no other scope.',
  admin: 'Everything in the tenant (implies every other scope), plus clients, API tokens, events and jobs.',
};

const INTRO = [
  'User management and provisioning: users, the directory (roles, groups, organizations, environments, positions, areas, identity providers, …) and the memberships between them, with an audit trail of every change.',
  '',
  '**Authenticate.** Click *Authorize*, choose `oauth2` and enter a client id and secret (the admin client printed on first start, or one made with `POST /v1/clients`): these docs fetch a token from `POST /v1/oauth/token` themselves. ' +
    'From a shell, get a token with the client credentials grant and send `Authorization: Bearer <token>`; an API token (`rst_…`, `POST /v1/api-tokens`) is sent the same way (`bearerAuth`).',
  '',
  '**Errors** are `application/problem+json` (RFC 9457) with a stable `code` to branch on and a `requestId` to quote.',
  '',
  '**Lists** take `$top` and return `{items, nextCursor}`: pass `nextCursor` back as `cursor` for the next page. User and directory lists also take OData `$filter`, `$orderby`, `$select`, `$skip` and `$count`.',
  '',
  '**Writes**: `PATCH` is JSON Merge Patch (`application/merge-patch+json`; `null` clears a field). Records carry a `version` returned as the `ETag`; send it as `If-Match` to refuse lost updates (412). ' +
    'Creating `POST`s accept an `Idempotency-Key`: a retry with the same key and body replays the first response (`Idempotent-Replayed: true`).',
].join('\n');

const singular = (kind: string) => kind.replaceAll('_', ' ').replace(/^./, (c) => c.toUpperCase());

/** The tag of a membership kind: memberships are grouped by kind ("Group memberships"). */
export const membershipTag = (kind: string) => `${singular(kind)} memberships`;

/** Users and the directory first, housekeeping last (Swagger UI keeps this order). */
function tags(): { name: string; description: string }[] {
  const directory = Object.values(DIRECTORY).flatMap((def) => {
    const membership = MEMBERSHIP_KINDS.map((k) => MEMBERSHIPS[k]).find((m) => m.target.kind === def.kind);
    return [
      { name: def.title, description: `${def.title}: create, read, change and delete (scope directory:read / directory:write).` },
      ...(membership
        ? [{ name: membershipTag(def.kind), description: `Which users are in which ${membership.label}, from either side: /v1/users/{id}/${membership.kind} and /v1/${membership.targetTable}/{id}/members.` }]
        : []),
      ...(def.kind === 'identity_provider' ? [{ name: 'Identity links', description: "A user's accounts at identity providers (the provider's subject for the user)." }] : []),
    ];
  });
  return [
    { name: 'Users', description: 'People: create, find, filter, change, suspend and delete users; their history and reports.' },
    { name: 'Bulk', description: 'Many users per call, keyed by their external id (origin, key): upsert with references, and disable.' },
    { name: 'Sync runs', description: 'A source\'s complete list of its people: planned, reviewed (field-level diff, safeguards), then applied as a job.' },
    ...directory,
    { name: 'Events', description: 'The audit trail and change feed of a tenant, and the catalogue of event types.' },
    { name: 'OAuth', description: 'Access tokens (client credentials), refresh, revocation and the keys that verify tokens.' },
    { name: 'Tenants', description: 'Tenants of the installation (installation admins).' },
    { name: 'API clients', description: 'OAuth clients that get access tokens; the secret is shown once.' },
    { name: 'API tokens', description: 'Long-lived bearer tokens (rst_…); the token is shown once.' },
    { name: 'Signing keys', description: 'The keys that sign access tokens.' },
    { name: 'Jobs', description: 'Background jobs of the tenant (read-only).' },
    { name: 'Health', description: 'Liveness and readiness probes.' },
  ];
}

type AnySchema = Record<string, unknown>;

const SUCCESS: Record<string, string> = { '200': 'OK', '201': 'Created', '204': 'Done (no body)' };

/**
 * Per route, before @fastify/swagger converts it: security from `config.auth`, the
 * Idempotency-Key header on idempotent routes, the declared response headers.
 */
function transformRoute({ schema, route }: { schema: AnySchema | undefined; route: RouteOptions }): { schema: AnySchema } {
  const source = (schema ?? {}) as AnySchema & { responseHeaders?: Partial<Record<number, readonly ResponseHeaderName[]>> };
  const { responseHeaders = {}, ...rest } = source;
  const auth = route.config?.auth;
  const idempotent = route.config?.idempotent === true;
  const out: AnySchema = { ...rest };

  if (auth === 'public') out.security = [];
  else if (auth !== undefined) {
    const scopes = auth === 'authenticated' ? [] : [auth];
    out.security = [{ oauth2: scopes }, { bearerAuth: [] }];
    const needs = auth === 'authenticated' ? 'Any valid credential.' : `Scope \`${auth}\`${auth === 'admin' ? '' : ' (or `admin`)'}.`;
    out.description = [rest.description, needs].filter(Boolean).join('\n\n');
  }

  if (idempotent) {
    const headers = (rest.headers as TObject | undefined)?.properties ?? {};
    if (!('idempotency-key' in headers)) {
      out.headers = Type.Object({
        ...headers,
        'idempotency-key': Type.Optional(Type.String({ description: 'Retries with the same key and body replay the first response for 24 h.' })),
      });
    }
  }

  // A route without response schemas (the JWKS, discovery metadata) answers JSON all the same.
  const response = (rest.response as Record<string, AnySchema> | undefined) ?? { 200: {} };
  const documented: Record<string, AnySchema> = {};
  for (const [status, entry] of Object.entries(response)) {
    const names: ResponseHeaderName[] = [...(responseHeaders[Number(status)] ?? [])];
    if (idempotent && status.startsWith('2')) names.push('Idempotent-Replayed');
    const described = typeof entry.description === 'string' ? {} : { 'x-response-description': SUCCESS[status] ?? STATUS_CODES[Number(status)] ?? status };
    documented[status] = { ...entry, ...described, ...(names.length === 0 ? {} : { headers: Object.fromEntries(names.map((n) => [n, RESPONSE_HEADERS[n]])) }) };
  }
  out.response = documented;
  return { schema: out };
}

/**
 * Replaces every schema carrying `x-component` with a reference to `components.schemas`
 * (innermost first). Two different schemas under one name are a programming error: refused,
 * so a name always means one shape.
 */
export function liftComponents(document: AnySchema): AnySchema {
  const components = ((document.components as AnySchema).schemas ??= {}) as Record<string, unknown>;
  const lift = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(lift);
    if (typeof node !== 'object' || node === null) return node;
    const object = node as AnySchema;
    for (const [key, value] of Object.entries(object)) {
      // Examples are values, not schemas.
      if (key !== 'example' && key !== 'examples') object[key] = lift(value);
    }
    const name = object[COMPONENT];
    if (typeof name !== 'string') return object;
    delete object[COMPONENT];
    const existing = components[name];
    if (existing !== undefined && stableStringify(existing) !== stableStringify(object)) {
      throw new Error(`Two different schemas are named ${name} in the OpenAPI document`);
    }
    components[name] = object;
    return { $ref: `#/components/schemas/${name}` };
  };
  document.paths = lift(document.paths);
  shareProblemResponses(document);
  return document;
}

/**
 * Every route lists its problem responses; the same status says the same everywhere, so each is
 * written once under `components.responses` (`NotFound`, `Conflict`, …) and referenced.
 */
function shareProblemResponses(document: AnySchema): void {
  const shared = ((document.components as AnySchema).responses ??= {}) as Record<string, unknown>;
  for (const item of Object.values(document.paths as Record<string, Record<string, AnySchema>>)) {
    for (const operation of Object.values(item)) {
      const responses = operation.responses as Record<string, AnySchema> | undefined;
      for (const [status, response] of Object.entries(responses ?? {})) {
        if (!(response.content as AnySchema | undefined)?.['application/problem+json']) continue;
        const name = (STATUS_CODES[Number(status)] ?? `Status ${status}`).replace(/[^A-Za-z0-9]+/g, ' ').replace(/ (.)/g, (_m, c: string) => c.toUpperCase()).replace(/ /g, '');
        const existing = shared[name];
        if (existing !== undefined && stableStringify(existing) !== stableStringify(response)) throw new Error(`Two different ${status} problem responses in the OpenAPI document`);
        shared[name] = response;
        responses![status] = { $ref: `#/components/responses/${name}` };
      }
    }
  }
}

/** A small wordmark and icon: the docs show Roster's name, not the framework's logo. */
const MARK = '<rect width="40" height="40" rx="8" fill="#2f6f4f"/><text x="20" y="28" font-family="sans-serif" font-size="24" font-weight="700" fill="#fff" text-anchor="middle">R</text>';
const LOGO = Buffer.from(
  `<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40" viewBox="0 0 120 40">${MARK}` +
    '<text x="48" y="28" font-family="sans-serif" font-size="22" font-weight="600" fill="#fff">Roster</text></svg>',
);
const ICON = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40" viewBox="0 0 40 40">${MARK}</svg>`);

/**
 * Swagger UI always loads its own copy of the document (/docs/json); this points it (and its
 * Explore box) at /openapi.json, the address the README and clients use.
 */
const USE_PUBLIC_DOCUMENT = `(function () {
  var bundle = window.SwaggerUIBundle;
  var documentUrl = window.location.pathname.replace(/\\/docs(\\/.*)?$/, '') + '/openapi.json';
  window.SwaggerUIBundle = Object.assign(function (config) { return bundle(Object.assign({}, config, { url: documentUrl })); }, bundle);
})();
`;

/** Registers the OpenAPI document (served by the app at /openapi.json) and /docs. */
export async function registerOpenApi(app: FastifyInstance, config: Config): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Roster API',
        version: '1.0.0',
        description: INTRO,
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      },
      servers: [{ url: config.issuer }],
      tags: tags(),
      components: {
        securitySchemes: {
          oauth2: {
            type: 'oauth2',
            description: 'OAuth 2.0 client credentials: the client id and secret of an API client. `admin` implies every other scope of its tenant.',
            flows: { clientCredentials: { tokenUrl: '/v1/oauth/token', scopes: SCOPE_DESCRIPTIONS } },
          },
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT access token or rst_ API token', description: 'An access token from /v1/oauth/token or an API token.' },
        },
      },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    transform: transformRoute as never,
    transformObject: (documentObject) => liftComponents((documentObject as { openapiObject: AnySchema }).openapiObject) as never,
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { persistAuthorization: true, displayRequestDuration: true },
    logo: { type: 'image/svg+xml', content: LOGO },
    theme: {
      title: 'Roster API',
      favicon: [{ filename: 'favicon.svg', rel: 'icon', sizes: 'any', type: 'image/svg+xml', content: ICON }],
      js: [{ filename: 'public-document.js', content: USE_PUBLIC_DOCUMENT }],
    },
  });
}
