import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { USER_RELATION_SCOPES } from '../../domain/user-expansion.js';
import { Type } from '@sinclair/typebox';
import { MEMBERSHIP_KINDS, MEMBERSHIPS, type EnvironmentPermission, type MembershipDefinition } from '../../domain/membership.js';
import type { User } from '../../domain/user.js';
import type { Services } from '../../services/container.js';
import type { DesiredMembership } from '../../services/membership-service.js';
import { encodeIdCursor, idPageQuery } from '../id-cursor.js';
import { presentChange, presentIdentity, presentReport, presentSummary, presentTarget } from '../presenters/membership-presenter.js';
import { presentUser, presentUserSelected, userEtag } from '../presenters/user-presenter.js';
import { USER_FIELD_NAMES } from '../../domain/user-fields.js';
import { ODATA_QUERY } from '../odata-query.js';
import { SelectQuery, selectedFields, withSelection } from '../select.js';
import { IdParams, ListQuery, pageOf, problemResponses } from '../schemas/common-schemas.js';
import {
  AddEnvironmentBody, IdentityParams, IdentitySchema, LinkIdentityBody, MemberParams, ProviderSubjectParams, ReportSchema, ReportsQuery, changeSchema, memberPageSchema,
  memberSchema, replaceBodySchema, targetListSchema, targetSchema, userTargetParams, type ReplaceItem,
} from '../schemas/membership-schemas.js';
import { UserSchema } from '../schemas/user-schemas.js';
import { directoryNames } from '../schemas/directory-schemas.js';
import { membershipTag } from '../openapi-document.js';
import { parseIfMatch } from './user-routes.js';

const ifMatch = (req: FastifyRequest) => parseIfMatch(req.headers['if-match'] as string | undefined);
const identityTags = ['Identity links'];

/** Environments take an optional body on POST: none at all means "no permissions sent". */
const emptyBodyIsEmptyObject = async (req: FastifyRequest) => {
  if (req.body === undefined || req.body === null) req.body = {};
};

const permissionsOf = (body: unknown): EnvironmentPermission[] | undefined => (body as { permissions?: EnvironmentPermission[] } | undefined)?.permissions;

const desiredFrom = (items: ReplaceItem[]): DesiredMembership[] => items.map((i) => ({ targetId: (i.id ?? i.environmentId) as string, permissions: i.permissions }));

/**
 * Memberships (roles, groups, organizations, environments) from both sides, identity links and
 * the manager hierarchy. Every rule is in MembershipService / IdentityService / UserService.
 */
export function registerMembershipRoutes(fastify: FastifyInstance, services: Services): void {
  for (const kind of MEMBERSHIP_KINDS) registerKind(fastify, services, MEMBERSHIPS[kind]);
  registerIdentityRoutes(fastify, services);
  registerReportRoutes(fastify, services);
}

function registerKind(fastify: FastifyInstance, services: Services, def: MembershipDefinition): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { memberships } = services;
  // Grouped by kind in OpenAPI ("Group memberships"); operationIds from the kind: listUserGroups, addGroupMember, …
  const tags = [membershipTag(def.target.kind)];
  const { one, many } = directoryNames(def.target);
  const userBase = `/v1/users/:id/${def.kind}`;
  const resourceBase = `/v1/${def.targetTable}/:id/members`;
  const params = userTargetParams(def);
  const addBody = def.permissions ? { body: AddEnvironmentBody } : {};
  const addHooks = def.permissions ? { preValidation: emptyBodyIsEmptyObject } : {};
  // If-Match names the version of the side the URL addresses (a membership changes both).
  const ifMatchOf = (what: string) =>
    Type.Object({ 'if-match': Type.Optional(Type.String({ description: `W/"<version>" of the ${what}; 412 when it has changed since.` })) });
  const userIfMatch = ifMatchOf('user');
  const targetIfMatch = ifMatchOf(def.label);

  // The user's side: /v1/users/{id}/<kind>
  app.get(userBase, {
    // What the list shows are directory records: the scope `$expand` of the same relation needs.
    config: { auth: USER_RELATION_SCOPES[def.kind] },
    schema: {
      tags, summary: `List the user's ${def.kind}`, params: IdParams, response: { 200: targetListSchema(def), ...problemResponses(404) },
      operationId: `listUser${many}`, description: `Every ${def.label} the user is a member of, in one list (needs ${USER_RELATION_SCOPES[def.kind]}, as \`$expand\` does).`,
    },
  }, async (req) => ({ items: (await memberships.listOfUser(req.principal, def.kind, req.params.id)).map(presentTarget) }));

  app.put(userBase, {
    config: { auth: 'users:write' },
    schema: {
      tags, summary: `Replace the user's ${def.kind} (the whole list); returns what was added and removed`, params: IdParams, headers: userIfMatch, body: replaceBodySchema(def),
      response: { 200: changeSchema(def), ...problemResponses(400, 404, 409, 412, 422) },
      operationId: `replaceUser${many}`,
      description: `Sends the user's complete list of ${def.kind}: afterwards the user is a member of exactly these. An empty list removes every membership. Unknown ids are refused (422) and nothing changes.`,
    },
  }, async (req) => presentChange(def, await memberships.replace(req.principal, def.kind, req.params.id, desiredFrom(req.body as ReplaceItem[]), ifMatch(req))));

  app.post(`${userBase}/:${def.param}`, {
    config: { auth: 'users:write' },
    ...addHooks,
    schema: {
      tags, summary: `Add the user to a ${def.label} (idempotent: 201 when added, 200 when already a member)`, params, headers: userIfMatch, ...addBody,
      response: { 200: targetSchema(def), 201: targetSchema(def), ...problemResponses(400, 404, 409, 412) },
      operationId: `addUser${one}`,
      description: `Makes the user a member of the ${def.label}${def.permissions ? ' with the permissions sent (["view"] for a new membership without a body)' : ''}. The same as POST /v1/${def.targetTable}/{id}/members/{userId}.`,
    },
  }, async (req, reply) => {
    const { created, item } = await memberships.addForUser(req.principal, def.kind, req.params.id as string, req.params[def.param] as string, permissionsOf(req.body), ifMatch(req));
    return reply.code(created ? 201 : 200).send(presentTarget(item));
  });

  app.delete(`${userBase}/:${def.param}`, {
    config: { auth: 'users:write' },
    schema: {
      tags, summary: `Remove the user from a ${def.label}`, params, headers: userIfMatch, response: { 204: Type.Null(), ...problemResponses(404, 412) },
      operationId: `removeUser${one}`, description: `Ends the user's membership of the ${def.label}; 404 when the user is not a member.`,
    },
  }, async (req, reply) => {
    await memberships.removeForUser(req.principal, def.kind, req.params.id as string, req.params[def.param] as string, ifMatch(req));
    return reply.code(204).send(null);
  });

  // The resource's side: /v1/<kind>/{id}/members
  app.get(resourceBase, {
    config: { auth: 'directory:read' },
    schema: {
      tags, summary: `List the members of a ${def.label}, in user id order`, params: IdParams, querystring: ListQuery,
      response: { 200: memberPageSchema(def), ...problemResponses(400, 404) },
      operationId: `list${one}Members`, description: `The users in the ${def.label}, a page at a time (\`{items, nextCursor}\`).`,
    },
  }, async (req) => {
    const query = idPageQuery(`${def.kind}/members`, req.query, { target: req.params.id });
    const page = await memberships.members(req.principal, def.kind, req.params.id, { limit: query.size, cursor: query.after });
    return { items: page.items.map(presentSummary), nextCursor: page.nextCursor === null ? null : encodeIdCursor(query, page.nextCursor) };
  });

  app.post(`${resourceBase}/:userId`, {
    config: { auth: 'directory:write' },
    ...addHooks,
    schema: {
      tags, summary: `Add a user to the ${def.label} (idempotent: 201 when added, 200 when already a member)`, params: MemberParams, headers: targetIfMatch, ...addBody,
      response: { 200: memberSchema(def), 201: memberSchema(def), ...problemResponses(400, 404, 409, 412) },
      operationId: `add${one}Member`, description: `Makes the user a member of the ${def.label}. The same as POST /v1/users/{id}/${def.kind}/{${def.param}}.`,
    },
  }, async (req, reply) => {
    const { created, item } = await memberships.addMember(req.principal, def.kind, req.params.id, req.params.userId, permissionsOf(req.body), ifMatch(req));
    return reply.code(created ? 201 : 200).send(presentSummary(item));
  });

  app.delete(`${resourceBase}/:userId`, {
    config: { auth: 'directory:write' },
    schema: {
      tags, summary: `Remove a user from the ${def.label}`, params: MemberParams, headers: targetIfMatch, response: { 204: Type.Null(), ...problemResponses(404, 412) },
      operationId: `remove${one}Member`, description: `Ends the user's membership of the ${def.label}; 404 when the user is not a member.`,
    },
  }, async (req, reply) => {
    await memberships.removeMember(req.principal, def.kind, req.params.id, req.params.userId, ifMatch(req));
    return reply.code(204).send(null);
  });
}

function registerIdentityRoutes(fastify: FastifyInstance, services: Services): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { identities } = services;
  const tags = identityTags;

  app.get('/v1/users/:id/identities', {
    config: { auth: 'users:read' },
    schema: {
      tags, summary: "List the user's identity links", params: IdParams, response: { 200: Type.Object({ items: Type.Array(IdentitySchema) }, { 'x-component': 'IdentityLinkList' }), ...problemResponses(404) },
      operationId: 'listUserIdentities', description: "The user's accounts at identity providers: provider and subject.",
    },
  }, async (req) => ({ items: (await identities.list(req.principal, req.params.id)).map(presentIdentity) }));

  app.post('/v1/users/:id/identities', {
    config: { auth: 'users:write', idempotent: true },
    schema: {
      tags, summary: 'Link the user to their account at an identity provider', params: IdParams, body: LinkIdentityBody,
      headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ description: 'Retries with the same key and body replay the first response for 24 h.' })) }),
      response: { 201: IdentitySchema, ...problemResponses(400, 404, 409, 422) },
      operationId: 'linkUserIdentity', description: 'Records that the subject at the provider is this user; a subject belongs to one user per provider (409 otherwise).',
    },
  }, async (req, reply) => reply.code(201).send(presentIdentity(await identities.link(req.principal, req.params.id, req.body))));

  app.delete('/v1/users/:id/identities/:identityId', {
    config: { auth: 'users:write' },
    schema: {
      tags, summary: 'Remove an identity link', params: IdentityParams, response: { 204: Type.Null(), ...problemResponses(404) },
      operationId: 'unlinkUserIdentity', description: 'Forgets the link; the user and the provider stay.',
    },
  }, async (req, reply) => {
    await identities.unlink(req.principal, req.params.id, req.params.identityId);
    return reply.code(204).send(null);
  });

  app.get('/v1/identity-providers/:id/users/:subject', {
    config: { auth: 'users:read', ...ODATA_QUERY },
    schema: {
      tags, summary: 'Get the user linked to a subject of an identity provider', params: ProviderSubjectParams, querystring: SelectQuery,
      response: { 200: UserSchema, ...problemResponses(400, 404) },
      operationId: 'getUserByIdentity', description: 'Who is this subject of this provider? E.g. the `sub` of a token the provider issued (URL-encoded).', responseHeaders: { 200: ['ETag'] },
    },
  }, async (req, reply) => {
    const select = selectedFields(req.query, USER_FIELD_NAMES);
    const user = await identities.userBySubject(req.principal, req.params.id, req.params.subject);
    if (!select) return sendUser(reply, user);
    return withSelection(reply.header('etag', userEtag(user)), select).send(presentUserSelected(user, select));
  });
}

function registerReportRoutes(fastify: FastifyInstance, services: Services): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get('/v1/users/:id/reports', {
    config: { auth: 'users:read' },
    schema: {
      tags: ['Users'], summary: "The user's direct reports, or with depth=all everyone below them (each with its depth), in user id order",
      params: IdParams, querystring: ReportsQuery, response: { 200: pageOf(ReportSchema), ...problemResponses(400, 404) },
      operationId: 'listUserReports', description: 'The people who report to the user (managerId), a page at a time; `depth=all` follows the whole hierarchy below.',
    },
  }, async (req) => {
    const query = idPageQuery('reports', req.query, { manager: req.params.id, depth: req.query.depth });
    const page = await services.users.reports(req.principal, req.params.id, { all: query.params.depth === 'all', limit: query.size, cursor: query.after });
    return { items: page.items.map(presentReport), nextCursor: page.nextCursor === null ? null : encodeIdCursor(query, page.nextCursor) };
  });
}

function sendUser(reply: FastifyReply, user: User) {
  return reply.header('etag', userEtag(user)).send(presentUser(user));
}
