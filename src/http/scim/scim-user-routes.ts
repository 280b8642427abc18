import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Principal } from '../../domain/principal.js';
import type { User } from '../../domain/user.js';
import type { Services } from '../../services/container.js';
import { parseIfMatch } from '../routes/user-routes.js';
import { SCIM_ENTERPRISE_URN, USER_MODEL } from './scim-attributes.js';
import { notModified, resourceId, scimContext, sendResource, type ScimRequestContext } from './scim-context.js';
import { readDocument, scimFail, type ScimDocument } from './scim-document.js';
import { answerList, scimListQuery, type ScimListParams, type ScimListResource } from './scim-list-query.js';
import { applyPatch, readPatchRequest, type ScimPatchOperation } from './scim-patch.js';
import { parseProjection, project, wants, type ScimProjection } from './scim-projection.js';
import { SCIM_PREFIX } from './scim-urls.js';
import { documentToUserInput, presentScimUser, resolveUserFilterPath, rewriteUserFilter, userToDocument, type ScimUserView } from './scim-user-mapping.js';

/** The list parameters of RFC 7644 §3.4.2 and RFC 9865, as text (query parameters are). */
export const ScimListQuerySchema = Type.Object(
  {
    filter: Type.Optional(Type.String({ maxLength: 4096 })),
    sortBy: Type.Optional(Type.String({ maxLength: 512 })),
    sortOrder: Type.Optional(Type.String({ maxLength: 32 })),
    startIndex: Type.Optional(Type.String({ maxLength: 32 })),
    count: Type.Optional(Type.String({ maxLength: 32 })),
    cursor: Type.Optional(Type.String({ maxLength: 4096 })),
    attributes: Type.Optional(Type.String({ maxLength: 4096 })),
    excludedAttributes: Type.Optional(Type.String({ maxLength: 4096 })),
  },
  { additionalProperties: false },
);
/** attributes/excludedAttributes on the routes that return one resource. */
export const ScimResourceQuerySchema = Type.Object(
  { attributes: Type.Optional(Type.String({ maxLength: 4096 })), excludedAttributes: Type.Optional(Type.String({ maxLength: 4096 })) },
  { additionalProperties: false },
);
export const ScimIdParams = Type.Object({ id: Type.String({ maxLength: 200 }) }, { additionalProperties: false });
/** Any JSON: SCIM bodies are read by the adapter (scim-document.ts, scim-patch.ts…), which says what is wrong in SCIM terms (invalidSyntax for a body that is not an object). */
export const ScimBody = Type.Unknown();

/** Query parameter names in errors (QueryError parts → SCIM parameters). */
export const SCIM_QUERY_PARAMETERS = { filter: 'filter', sort: 'sortBy', select: 'attributes', expand: 'attributes', cursor: 'cursor', size: 'count', offset: 'startIndex' } as const;

const config = (idempotent = false) => ({ auth: 'scim' as const, queryParameters: SCIM_QUERY_PARAMETERS, ...(idempotent ? { idempotent: true } : {}) });

/** How users answer SCIM filters and sortBy for this credential. */
export function userListResource(ctx: ScimRequestContext): ScimListResource {
  return {
    model: USER_MODEL,
    resolve: resolveUserFilterPath,
    rewrite: (node) => rewriteUserFilter(node, ctx.mapping, ctx.actor.owner),
    // The repository's sort whitelist judges the field (a 400 naming sortBy when it cannot sort).
    sortField: (field) => field,
    scope: ctx.actor.owner === undefined ? undefined : { kind: 'compare', op: 'eq', path: ['provisionedBy'], value: { type: 'string', value: ctx.actor.owner } },
  };
}

/** SCIM Users (RFC 7644 §3.3–3.6) over the user commands: the same users, events and versions as /v1/users. */
export function registerScimUserRoutes(app: FastifyInstance, services: Services): void {
  const { scim } = services;

  app.get(`${SCIM_PREFIX}/Users`, { config: config(), schema: { querystring: ScimListQuerySchema } }, async (request) => {
    return listUsers(services, request, request.query as ScimListParams);
  });

  app.post(`${SCIM_PREFIX}/Users/.search`, { config: config(), schema: { body: ScimBody } }, async (request) => {
    return listUsers(services, request, searchParams(request.body));
  });

  app.post(`${SCIM_PREFIX}/Users`, { config: config(true), schema: { body: ScimBody, querystring: ScimResourceQuerySchema } }, async (request, reply) => {
    const ctx = scimContext(request);
    const projection = projectionOf(request);
    const doc = readDocument(USER_MODEL, request.body);
    const password = await scim.hashPassword(takePassword(doc));
    if (typeof doc.userName !== 'string') scimFail('scim.invalid_value', 'userName is required.');
    const user = await scim.createUser(request.principal, ctx.actor, documentToUserInput(doc, null, ctx.mapping), password);
    return sendResource(reply, (await presentUsers(services, request.principal, ctx, [user], projection, true))[0] as ScimDocument, user.version, 201);
  });

  app.get(`${SCIM_PREFIX}/Users/:id`, { config: config(), schema: { params: ScimIdParams, querystring: ScimResourceQuerySchema } }, async (request, reply) => {
    const ctx = scimContext(request);
    const projection = projectionOf(request);
    const user = await scim.getUser(request.principal, ctx.actor, resourceId((request.params as { id: string }).id, 'user.not_found'));
    if (notModified(request, user.version)) return reply.code(304).header('etag', `W/"${user.version}"`).send();
    return sendResource(reply, (await presentUsers(services, request.principal, ctx, [user], projection))[0] as ScimDocument, user.version);
  });

  app.put(`${SCIM_PREFIX}/Users/:id`, { config: config(), schema: { params: ScimIdParams, body: ScimBody, querystring: ScimResourceQuerySchema } }, async (request, reply) => {
    const ctx = scimContext(request);
    const projection = projectionOf(request);
    const id = resourceId((request.params as { id: string }).id, 'user.not_found');
    const doc = readDocument(USER_MODEL, request.body);
    const password = await scim.hashPassword(takePassword(doc));
    if (typeof doc.userName !== 'string') scimFail('scim.invalid_value', 'userName is required: PUT replaces the whole user.');
    const user = await scim.updateUser(request.principal, ctx.actor, id, parseIfMatch(request.headers['if-match']), (current, view) => documentToUserInput(doc, current, ctx.mapping, view), password);
    return sendResource(reply, (await presentUsers(services, request.principal, ctx, [user], projection))[0] as ScimDocument, user.version);
  });

  app.patch(`${SCIM_PREFIX}/Users/:id`, { config: config(), schema: { params: ScimIdParams, body: ScimBody, querystring: ScimResourceQuerySchema } }, async (request, reply) => {
    const ctx = scimContext(request);
    const projection = projectionOf(request);
    const id = resourceId((request.params as { id: string }).id, 'user.not_found');
    const operations = readPatchRequest(request.body);
    const password = await scim.hashPassword(takePatchPassword(operations));
    const change = (current: User, view: ScimUserView) => {
      const doc = applyPatch(USER_MODEL, userToDocument(current, ctx.mapping, view), operations, current.id);
      if (typeof doc.userName !== 'string') scimFail('scim.mutability', 'userName is required and cannot be removed.');
      return documentToUserInput(doc, current, ctx.mapping, view);
    };
    const user = await scim.updateUser(request.principal, ctx.actor, id, parseIfMatch(request.headers['if-match']), change, password);
    return sendResource(reply, (await presentUsers(services, request.principal, ctx, [user], projection))[0] as ScimDocument, user.version);
  });

  app.delete(`${SCIM_PREFIX}/Users/:id`, { config: config(), schema: { params: ScimIdParams } }, async (request, reply) => {
    const ctx = scimContext(request);
    const id = resourceId((request.params as { id: string }).id, 'user.not_found');
    await scim.deleteUser(request.principal, ctx.actor, id, parseIfMatch(request.headers['if-match']), ctx.settings.onDelete);
    return reply.code(204).send();
  });
}

/** GET /Users and POST /Users/.search. */
export async function listUsers(services: Services, request: FastifyRequest, params: ScimListParams): Promise<Record<string, unknown>> {
  const ctx = scimContext(request);
  const projection = parseProjection(USER_MODEL, params.attributes, params.excludedAttributes);
  const plan = scimListQuery(params, userListResource(ctx));
  return answerList(plan, 'users', (query) => services.scim.listUsers(request.principal, query), (users) => presentUsers(services, request.principal, ctx, users, projection));
}

/** SCIM Users for a page: groups and managers' names in one query each, only when the response shows them. */
export async function presentUsers(
  services: Services,
  principal: Principal,
  ctx: ScimRequestContext,
  users: readonly User[],
  projection: ScimProjection,
  /** A user just created belongs to no group: no need to ask. */
  created = false,
): Promise<ScimDocument[]> {
  if (users.length === 0) return [];
  const groups = wants(projection, 'groups') && !created ? await services.scim.groupsOf(principal, ctx.actor, users.map((u) => u.id)) : undefined;
  const managerIds = users.flatMap((u) => (u.managerId ? [u.managerId] : []));
  const managers = managerIds.length > 0 && wants(projection, `${SCIM_ENTERPRISE_URN}:manager`) ? await services.scim.displayNames(principal, ctx.actor, managerIds) : undefined;
  return users.map((user) =>
    project(
      USER_MODEL,
      presentScimUser(user, ctx.mapping, {
        baseUrl: ctx.baseUrl,
        ...(groups ? { groups: groups.get(user.id) ?? [] } : {}),
        managerDisplayName: user.managerId ? (managers?.get(user.managerId) ?? null) : null,
        // displayNames leaves out the managers the credential may not see.
        managerHidden: ctx.actor.owner !== undefined && user.managerId !== null && managers !== undefined && !managers.has(user.managerId),
      }),
      projection,
    ),
  );
}

export function projectionOf(request: FastifyRequest): ScimProjection {
  const query = request.query as { attributes?: string; excludedAttributes?: string };
  return parseProjection(USER_MODEL, query.attributes, query.excludedAttributes);
}

/** A SearchRequest body (RFC 7644 §3.4.3) as list parameters. */
export function searchParams(body: unknown): ScimListParams {
  if (body !== undefined && (body === null || typeof body !== 'object' || Array.isArray(body))) scimFail('scim.invalid_syntax', 'The body must be a SearchRequest object.');
  const raw = (body ?? {}) as Record<string, unknown>;
  const text = (name: string): string | undefined => {
    const value = raw[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') scimFail('scim.invalid_value', `${name} must be a string.`);
    return value;
  };
  const list = (name: string): string | undefined => {
    const value = raw[name];
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) scimFail('scim.invalid_value', `${name} must be a list of attribute names.`);
    return (value as string[]).join(',');
  };
  const known = new Set(['schemas', 'attributes', 'excludedattributes', 'filter', 'sortby', 'sortorder', 'startindex', 'count', 'cursor']);
  const unknown = Object.keys(raw).filter((k) => !known.has(k.toLowerCase()));
  if (unknown.length > 0) scimFail('scim.invalid_syntax', `A SearchRequest has no ${unknown.map((k) => JSON.stringify(k.slice(0, 60))).join(', ')}.`);
  return {
    attributes: list('attributes'),
    excludedAttributes: list('excludedAttributes'),
    filter: text('filter'),
    sortBy: text('sortBy'),
    sortOrder: text('sortOrder'),
    startIndex: raw.startIndex ?? undefined,
    count: raw.count ?? undefined,
    cursor: text('cursor'),
  };
}

/** The password of a POST or PUT body, taken out of the document (it is hashed before the write). */
export function takePassword(doc: ScimDocument): string | undefined {
  const password = doc.password;
  delete doc.password;
  return typeof password === 'string' ? password : undefined;
}

/**
 * The password a PATCH sets (`{"op":"replace","path":"password","value":"…"}` or a path-less
 * value with `password`), taken out of the operations so it is hashed before the unit. Removing
 * a password is not something SCIM can ask of Roster (400 mutability).
 */
export function takePatchPassword(operations: ScimPatchOperation[]): string | undefined {
  let password: string | undefined;
  for (let i = operations.length - 1; i >= 0; i--) {
    const operation = operations[i] as ScimPatchOperation;
    const path = operation.path;
    if (path && path.attribute.toLowerCase() === 'password' && (path.uri === undefined || path.uri.toLowerCase() === USER_MODEL.coreUrn.toLowerCase())) {
      if (operation.op === 'remove' || typeof operation.value !== 'string' || path.subAttribute !== undefined || path.valueFilter !== undefined) {
        scimFail('scim.mutability', 'password can only be set, with a string value.');
      }
      password ??= operation.value as string;
      operations.splice(i, 1);
    } else if (!path && operation.value !== null && typeof operation.value === 'object' && !Array.isArray(operation.value)) {
      const value = { ...(operation.value as Record<string, unknown>) };
      const key = Object.keys(value).find((k) => k.toLowerCase() === 'password');
      if (key !== undefined) {
        if (typeof value[key] !== 'string') scimFail('scim.invalid_value', 'password must be a string.');
        password ??= value[key] as string;
        delete value[key];
        operations[i] = { ...operation, value };
      }
    }
  }
  return password;
}
