import type { FastifyInstance, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { AppError } from '../../errors/app-error.js';
import type { Principal } from '../../domain/principal.js';
import type { User, UserInput } from '../../domain/user.js';
import { USER_FIELD_NAMES } from '../../domain/user-fields.js';
import type { Services } from '../../services/container.js';
import type { ExpectedVersion } from '../../services/user-service.js';
import type { ExpandRequest, UserRelation } from '../../domain/user-expansion.js';
import { parseExpand, type ExpandItem } from '../../filter/expand-parser.js';
import { ODATA_QUERY, odataListQuery } from '../odata-query.js';
import { pageSizeOf } from '../page-size.js';
import { presentEvent } from '../presenters/event-presenter.js';
import { USER_EXPANDABLE, presentUser, presentUserSelected, userEtag } from '../presenters/user-presenter.js';
import { selectedFields, withSelection } from '../select.js';
import { IdParams, ListQuery, pageOf, problemResponses } from '../schemas/common-schemas.js';
import { EventSchema } from '../schemas/event-schemas.js';
import {
  CreateUserBody, ExternalIdParams, PatchUserBody, ReplaceUserBody, UserGetQuery, UserListQuery, UserListResponse, UserNameParams, UserSchema,
} from '../schemas/user-schemas.js';

const tags = ['Users'];
const IfMatchHeaders = Type.Object({ 'if-match': Type.Optional(Type.String({ description: 'W/"<version>" from the ETag; 412 when the user has changed since.' })) });

/**
 * If-Match: `*`, `W/"3"`, `"3"`, or a list of tags (`W/"3", W/"4"`: any one matches, RFC 9110
 * §13.1.1). A tag that is not one of Roster's versions can never match (-1), so it yields a 412.
 */
export function parseIfMatch(header: string | undefined): ExpectedVersion {
  if (header === undefined) return undefined;
  if (header.trim() === '*') return '*';
  const tags = header.split(',').map((tag) => /^\s*(?:W\/)?"(\d{1,15})"\s*$/.exec(tag)?.[1]).map((v) => (v === undefined ? -1 : Number(v)));
  return tags.length === 1 ? (tags[0] as number) : tags;
}

function sendUser(reply: FastifyReply, user: User, status = 200) {
  return reply.code(status).header('etag', userEtag(user)).send(presentUser(user));
}

const relationsOf = (expand: readonly ExpandItem[]): ExpandRequest[] => expand.map((e) => ({ relation: e.name as UserRelation, fields: e.select }));
/** $select and $expand of a single GET, parsed before the user is loaded: a bad one is a 400 whether or not the user exists. */
const shapeOf = (query: { $select?: string | undefined; $expand?: string | undefined }): UserShape => ({
  select: selectedFields(query, USER_FIELD_NAMES),
  expand: parseExpand(query.$expand, USER_EXPANDABLE),
});
interface UserShape {
  select: string[] | undefined;
  expand: ExpandItem[];
}

export function registerUserRoutes(fastify: FastifyInstance, services: Services): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { users } = services;

  app.post('/v1/users', {
    config: { auth: 'users:write', idempotent: true },
    schema: {
      tags, summary: 'Create a user', body: CreateUserBody,
      operationId: 'createUser',
      description: 'userName defaults to the email; displayName is derived from givenName and familyName when absent. A new user is `staged` unless status says otherwise. ' +
        'The Location header names the new user and the ETag its version.',
      responseHeaders: { 201: ['Location', 'ETag'] },
      headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ description: 'Retries with the same key and body replay the first response for 24 h.' })) }),
      response: { 201: UserSchema, ...problemResponses(400, 409, 413, 415, 422) },
    },
  }, async (req, reply) => {
    const user = await users.create(req.principal, req.body as UserInput);
    return sendUser(reply.header('location', `/v1/users/${user.id}`), user, 201);
  });

  app.get('/v1/users', {
    config: { auth: 'users:read', ...ODATA_QUERY },
    schema: {
      tags, summary: 'List and filter users', querystring: UserListQuery, response: { 200: UserListResponse, ...problemResponses(400) },
      operationId: 'listUsers',
      description: "OData query options: `$filter` (e.g. `department eq 'Sales' and startswith(familyName,'D')`), `$orderby`, `$select`, `$expand`, `$top` and `$count`. " +
        'Pages are `{items, nextCursor}`: pass nextCursor back as `cursor` for the next page.',
    },
  }, async (req) => {
    const query = odataListQuery(req.query, USER_FIELD_NAMES);
    const expand = parseExpand(req.query.$expand, USER_EXPANDABLE);
    const page = await users.list(req.principal, query);
    const expansions = await users.expand(req.principal, page.items, relationsOf(expand));
    return {
      items: page.items.map((u) => presentUserSelected(u, query.select, expansions.get(u.id), expand)),
      nextCursor: page.nextCursor,
      ...(page.count !== undefined ? { count: page.count } : {}),
    };
  });

  /** A single user, with the fields of `$select` and the relations of `$expand` (one query per relation). */
  const sendExpanded = async (req: { principal: Principal }, reply: FastifyReply, { select, expand }: UserShape, user: User) => {
    if (expand.length === 0 && !select) return sendUser(reply, user);
    const expansion = expand.length > 0 ? (await users.expand(req.principal, [user], relationsOf(expand))).get(user.id) : undefined;
    return withSelection(reply.header('etag', userEtag(user)), select).send(presentUserSelected(user, select, expansion, expand));
  };

  app.get('/v1/users/:id', {
    config: { auth: 'users:read', ...ODATA_QUERY },
    schema: {
      tags, summary: 'Get a user', params: IdParams, querystring: UserGetQuery, response: { 200: UserSchema, ...problemResponses(400, 404) },
      operationId: 'getUser', description: 'The user by id, with the related records of `$expand`. The ETag is the version to send as If-Match.', responseHeaders: { 200: ['ETag'] },
    },
  }, async (req, reply) => sendExpanded(req, reply, shapeOf(req.query), await users.get(req.principal, req.params.id)));

  app.get('/v1/users/by-username/:userName', {
    config: { auth: 'users:read', ...ODATA_QUERY },
    schema: {
      tags, summary: 'Get a user by userName (case-insensitive)', params: UserNameParams, querystring: UserGetQuery, response: { 200: UserSchema, ...problemResponses(400, 404) },
      operationId: 'getUserByUserName', description: 'userName is compared as stored for uniqueness: ignoring case, width and Unicode normalization form.', responseHeaders: { 200: ['ETag'] },
    },
  }, async (req, reply) => sendExpanded(req, reply, shapeOf(req.query), await users.getByUserName(req.principal, req.params.userName)));

  app.get('/v1/users/by-external-id/:origin/:key', {
    config: { auth: 'users:read', ...ODATA_QUERY },
    schema: {
      tags, summary: 'Get a user by an external id {origin, key}', params: ExternalIdParams, querystring: UserGetQuery, response: { 200: UserSchema, ...problemResponses(400, 404) },
      operationId: 'getUserByExternalId', description: 'The user whose externalIds contain {origin, key}, e.g. the person\'s id in an HR system.', responseHeaders: { 200: ['ETag'] },
    },
  }, async (req, reply) => sendExpanded(req, reply, shapeOf(req.query), await users.getByExternalId(req.principal, req.params.origin, req.params.key)));

  app.put('/v1/users/:id', {
    config: { auth: 'users:write' },
    schema: {
      tags, summary: 'Replace a user (omitted optional fields are cleared; status is kept unless sent)', params: IdParams, headers: IfMatchHeaders,
      body: ReplaceUserBody, response: { 200: UserSchema, ...problemResponses(400, 404, 409, 412, 422) },
      operationId: 'replaceUser',
      description: 'Sends the whole user: what GET returned may be sent back (read-only fields are ignored). Optional fields left out are cleared; status is kept unless sent.',
      responseHeaders: { 200: ['ETag'] },
    },
  }, async (req, reply) => {
    const { id: _id, createdAt: _c, updatedAt: _u, lastLoginAt: _l, version: _v, ...input } = req.body;
    if (_id !== undefined && _id !== req.params.id) {
      throw new AppError('request.validation_failed', 'The id in the body differs from the id in the URL.', [{ field: '/body/id', message: 'must equal the id in the URL' }]);
    }
    return sendUser(reply, await users.replace(req.principal, req.params.id, input as UserInput, parseIfMatch(req.headers['if-match'])));
  });

  app.patch('/v1/users/:id', {
    config: { auth: 'users:write' },
    schema: {
      tags, summary: 'Update some fields of a user (JSON Merge Patch)', params: IdParams, headers: IfMatchHeaders,
      body: PatchUserBody, response: { 200: UserSchema, ...problemResponses(400, 404, 409, 412, 415, 422) },
      operationId: 'patchUser', consumes: ['application/merge-patch+json', 'application/json'],
      description: 'JSON Merge Patch (RFC 7396): only the fields sent change and `null` clears a field (userName and status cannot be cleared).',
      responseHeaders: { 200: ['ETag'] },
    },
  }, async (req, reply) => sendUser(reply, await users.patch(req.principal, req.params.id, req.body as Record<string, unknown>, parseIfMatch(req.headers['if-match']))));

  app.delete('/v1/users/:id', {
    config: { auth: 'users:write' },
    schema: {
      tags, summary: 'Delete a user permanently', params: IdParams, headers: IfMatchHeaders, response: { 204: Type.Null(), ...problemResponses(404, 412) },
      operationId: 'deleteUser', description: 'Removes the user, their memberships and identity links; their reports lose their manager. To keep the record, suspend the user instead.',
    },
  }, async (req, reply) => {
    await users.delete(req.principal, req.params.id, parseIfMatch(req.headers['if-match']));
    return reply.code(204).send(null);
  });

  // Lifecycle actions: each is a move through the transition table (src/domain/user-lifecycle.ts);
  // repeating one that already happened is a 200 that writes nothing. /deactivate is the older
  // name of /suspend, kept for one release.
  const actions = [
    ['activate', 'active', 'Activate a user (from staged, invited, suspended, locked or deprovisioned)'],
    ['suspend', 'suspended', 'Suspend a user'],
    ['deactivate', 'suspended', 'Suspend a user (older name of /suspend, kept for one release)'],
  ] as const;
  const actionDescription = 'A move through the lifecycle; a move that is not allowed is a 409 naming the allowed next states, and repeating one that already happened is a 200 that writes nothing.';
  for (const [action, status, summary] of actions) {
    app.post(`/v1/users/:id/${action}`, {
      config: { auth: 'users:write' },
      schema: {
        tags, summary, params: IdParams, headers: IfMatchHeaders, response: { 200: UserSchema, ...problemResponses(404, 409, 412) },
        operationId: `${action}User`, description: actionDescription, responseHeaders: { 200: ['ETag'] }, ...(action === 'deactivate' ? { deprecated: true } : {}),
      },
    }, async (req, reply) => sendUser(reply, await users.setStatus(req.principal, req.params.id, status, parseIfMatch(req.headers['if-match']))));
  }

  app.get('/v1/users/:id/history', {
    config: { auth: 'users:read' },
    schema: {
      tags, summary: "A user's change history, newest first (by event position)", params: IdParams, querystring: ListQuery, response: { 200: pageOf(EventSchema), ...problemResponses(400, 404) },
      operationId: 'listUserHistory', description: 'The events about this user (field-level before/after, who and when), newest first.',
    },
  }, async (req) => {
    const page = await services.events.userHistory(req.principal, req.params.id, { limit: pageSizeOf(req.query), cursor: req.query.cursor });
    return { items: page.items.map(presentEvent), nextCursor: page.nextCursor };
  });
}
